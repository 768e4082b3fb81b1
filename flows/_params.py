"""Typed flow parameters with the Italian titles of the UI's parameter form.

Each alias is ``Annotated[type, label("Titolo")]``. The title has to travel in
``json_schema_extra``: Prefect builds every parameter's pydantic field with ``title=<parameter
name>`` (``prefect._internal.pydantic.v2_schema.process_v2_params``), which overrides a
``Field(title=...)`` in the annotation, while ``json_schema_extra`` is merged and written last.
The same schema comes out of ``flow.to_deployment()``/``serve`` and ``prefect deploy``
(both call ``parameter_schema(flow)``). Descriptions stay in each flow's docstring ``Args:``
(Prefect reads Google-style docstrings), because they differ from flow to flow. Aliases used
by one flow only live next to it, except the code fields: organisation and office codes are
closed choice lists built from config/ (who may send what, reviewed in one place), and every
code pattern is matched alike in process and by the server (:func:`exact`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic.fields import FieldInfo

from config.data import load_offices, organisation_codes
from models.enums import OrgKind
from models.forms import CASE_CODE


def label(title: str) -> FieldInfo:
    """The Italian title of a flow parameter in the UI form (see the module docstring)."""
    return Field(title=title, json_schema_extra={"title": title})


def exact(pattern: str, example: str) -> FieldInfo:
    """A ``^...$`` code pattern that refuses the same values in process and on the server.

    pydantic runs ``pattern`` with Rust's regex, where ``$`` is the end of the text; the server
    checks the schema with Python's ``re.search`` (jsonschema), where ``$`` also matches before a
    final newline, so "CPI-BG\n" would pass there. The schema's copy asserts that nothing follows
    (a lookahead, which the UI's JavaScript understands too and Rust's regex does not).
    """
    return Field(pattern=pattern, examples=[example], json_schema_extra={"pattern": rf"(?:{pattern})(?![\s\S])"})


def known(choices: type[StrEnum]) -> BeforeValidator:
    """Refuse, in Italian, a code that is not one of ``choices``.

    The choice lists are StrEnums built from config/: an ``enum`` in the parameter schema, so the
    UI shows a drop-down and the server refuses anything else (a tax code, a name, a code with a
    space or a newline). In process pydantic would say the same in English; this says it in
    Italian, listing the codes and never echoing the value typed."""
    allowed = ", ".join(choices)

    def check(value: object) -> object:
        if isinstance(value, str) and value not in choices._value2member_map_:
            raise ValueError(
                "codice non previsto: scegliere uno dei codici di config/organisations.yaml o "
                f"config/offices.yaml, esatto, senza spazi né a capo ({allowed})"
            )
        return value

    return BeforeValidator(check)


def members(codes: Iterable[str]) -> dict[str, str]:
    """The members of a choice list: ``CPI-BG`` is ``CPI_BG``, ``*`` is ``ALL``."""
    return {"ALL" if c == "*" else c.replace("-", "_"): c for c in codes}


_K = OrgKind
#: The CPI offices (config/offices.yaml).
OfficeCode = StrEnum("OfficeCode", members(o.code for o in load_offices()))  # type: ignore[misc]
#: Who refers people: Caritas listening centres, ambiti, associations, CPIA.
_referrers = organisation_codes(_K.CARITAS, _K.AMBITO, _K.ASSOCIATION, _K.CPIA)
Referrers = StrEnum("Referrers", members(_referrers))  # type: ignore[misc]
#: Who sends vacancies and companies' answers: Confindustria, or a company itself.
_employer_side = organisation_codes(_K.CONFINDUSTRIA, _K.COMPANY)
EmployerSenders = StrEnum("EmployerSenders", members(_employer_side))  # type: ignore[misc]
#: Who sends training offers and providers' registers: training bodies, the labour service.
_training_side = organisation_codes(_K.TRAINING_BODY, _K.LABOUR_SERVICE)
TrainingSenders = StrEnum("TrainingSenders", members(_training_side))  # type: ignore[misc]
#: Who sends interview outcomes: the labour service or a CPI office.
_outcome_side = organisation_codes(_K.LABOUR_SERVICE, offices=True)
OutcomeSenders = StrEnum("OutcomeSenders", members(_outcome_side))  # type: ignore[misc]
#: Whom a consent names: ``*`` (every recipient), any partner or CPI office.
Recipients = StrEnum("Recipients", members(["*", *organisation_codes(offices=True)]))  # type: ignore[misc]
#: Defaults of the code fields: the singleton partners of config/organisations.yaml, every recipient.
CONFINDUSTRIA = EmployerSenders(organisation_codes(_K.CONFINDUSTRIA)[0])
LABOUR_SERVICE = TrainingSenders(organisation_codes(_K.LABOUR_SERVICE)[0])
EVERY_RECIPIENT = Recipients("*")

Office = Annotated[OfficeCode | None, known(OfficeCode), label("Centro per l'Impiego")]  # type: ignore[valid-type]
FormOffice = Annotated[OfficeCode, known(OfficeCode), label("Centro per l'Impiego")]  # type: ignore[valid-type]
# Codes only, checked by the server before it stores the run: a name or tax code typed into
# the form by mistake is refused instead of landing in Prefect's database
# (docs/ARCHITECTURE.md#privacy).
CaseCode = Annotated[str, exact(CASE_CODE, "BG-2026-000123"), label("Codice pratica")]
_CaseCodeItem = Annotated[str, exact(CASE_CODE, "BG-2026-000123")]
CaseCodes = Annotated[list[_CaseCodeItem] | None, label("Codici pratica")]
#: A dispatch batch code: generated (DSP-20261204-1) or chosen by an operator (DSP-SPECIALE), so a
#: pattern rather than a list. At most 4 words of at most 10 characters after DSP: a tax code
#: (16 characters, or 11 digits) does not fit.
BATCH_CODE = r"^DSP(-[A-Z0-9]{1,10}){1,4}$"
BatchCode = Annotated[Annotated[str, exact(BATCH_CODE, "DSP-20261204-1")] | None, label("Codice dell'invio")]
AsOf = Annotated[date | None, label("Data di riferimento")]
UpTo = Annotated[date | None, label("Fino al giorno")]
FilePath = Annotated[str, label("Percorso del file")]
OptionalFilePath = Annotated[str | None, label("Percorso del file")]
ReferrerCode = Annotated[Referrers, known(Referrers), label("Ente segnalante")]  # type: ignore[valid-type]
EmployerSenderCode = Annotated[EmployerSenders, known(EmployerSenders), label("Ente mittente")]  # type: ignore[valid-type]
TrainingSenderCode = Annotated[TrainingSenders, known(TrainingSenders), label("Ente mittente")]  # type: ignore[valid-type]
OutcomeSenderCode = Annotated[OutcomeSenders | None, known(OutcomeSenders), label("Ente mittente")]  # type: ignore[valid-type]
RecipientCode = Annotated[Recipients, known(Recipients), label("Ente destinatario")]  # type: ignore[valid-type]
