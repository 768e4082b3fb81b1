"""Typed flow parameters with the Italian titles of the UI's parameter form.

Each alias is ``Annotated[type, label("Titolo")]``. The title has to travel in
``json_schema_extra``: Prefect builds every parameter's pydantic field with ``title=<parameter
name>`` (``prefect._internal.pydantic.v2_schema.process_v2_params``), which overrides a
``Field(title=...)`` in the annotation, while ``json_schema_extra`` is merged and written last.
The same schema comes out of ``flow.to_deployment()``/``serve`` and ``prefect deploy``
(both call ``parameter_schema(flow)``). Descriptions stay in each flow's docstring ``Args:``
(Prefect reads Google-style docstrings), because they differ from flow to flow. Aliases used
by one flow only live next to it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field
from pydantic.fields import FieldInfo

from config.data import ORG_CODE, load_offices
from models.forms import CASE_CODE


def label(title: str) -> FieldInfo:
    """The Italian title of a flow parameter in the UI form (see the module docstring)."""
    return Field(title=title, json_schema_extra={"title": title})


#: The CPI offices as a choice list (read from config/offices.yaml).
OfficeCode = StrEnum("OfficeCode", {o.code.replace("-", "_"): o.code for o in load_offices()})  # type: ignore[misc]

Office = Annotated[OfficeCode | None, label("Centro per l'Impiego")]  # type: ignore[valid-type]
FormOffice = Annotated[OfficeCode, label("Centro per l'Impiego")]  # type: ignore[valid-type]
# Codes only, checked by the server before it stores the run: a name or tax code typed into
# the form by mistake is refused instead of landing in Prefect's database
# (docs/ARCHITECTURE.md#privacy).
CaseCode = Annotated[str, Field(pattern=CASE_CODE, examples=["BG-2026-000123"]), label("Codice pratica")]
_CaseCodeItem = Annotated[str, Field(pattern=CASE_CODE, examples=["BG-2026-000123"])]
CaseCodes = Annotated[list[_CaseCodeItem] | None, label("Codici pratica")]
#: An organisation (or batch) code: uppercase words joined by dashes.
OrgCode = Annotated[str, Field(pattern=ORG_CODE, examples=["CARITAS-BG"])]
AsOf = Annotated[date | None, label("Data di riferimento")]
UpTo = Annotated[date | None, label("Fino al giorno")]
FilePath = Annotated[str, label("Percorso del file")]
OptionalFilePath = Annotated[str | None, label("Percorso del file")]
SenderCode = Annotated[OrgCode, label("Ente mittente")]
OptionalSenderCode = Annotated[OrgCode | None, label("Ente mittente")]
#: An organisation code, or ``*`` for every recipient.
RecipientCode = Annotated[
    str, Field(pattern=rf"^\*$|{ORG_CODE}", examples=["*", "COMP-GOMMA-ISOLA"]), label("Ente destinatario")
]
