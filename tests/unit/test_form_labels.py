"""Italian everywhere, in the operators' Prefect forms (issue 18): the UI draws each form from the
JSON schema Prefect saves for the suspended run, and shows a choice list's ``enum`` values as
they are. So every title, description and choice of every form is checked, as Prefect saves it,
pre-filled as the flows pre-fill it: no stored value (``full_time``, ``none``, ``not_needed``),
no ISCED digit, no measure or office code, no class name. The choices are listed by their words
and stored by their codes: both answers are accepted and kept as the code."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import pytest
from prefect._internal.pydantic.v2_schema import create_v2_schema
from prefect.input import RunInput
from prefect.utilities.schema_tools import ValidationError as ServerRefusal
from prefect.utilities.schema_tools import validate as server_validate

import flows
import models.form_choices as choices_module
import models.forms as forms
from models.enums import Availability, Cefr, Isced, Licence, Recognition
from models.form_choices import CODES, answer_in_words, measure_choices
from models.forms import (
    CourseOutcome,
    IntakeForm,
    IntakeResult,
    LiteracyForm,
    LiteracyResult,
    PolicyDecisionForm,
    TavoloDecisionForm,
    TavoloDecisionKind,
    TavoloDecisionRow,
)
from tasks.matching.skills import intake_lists
from tests.unit.test_italian_everywhere import raw_values


def _forms() -> dict[str, type[RunInput]]:
    """Every operator form the code defines: RunInput classes of models/ and flows/."""
    modules = [forms] + [importlib.import_module(f"flows.{m.name}") for m in pkgutil.iter_modules(flows.__path__)]
    found = {}
    for module in modules:
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, RunInput)
                and obj.__module__ == module.__name__
                and obj is not choices_module.ItalianForm
            ):
                found[obj.__name__] = obj
    return found


FORMS = _forms()

# Pre-filled as the flows pre-fill them (by code), with what operators in Bergamo see.
PREFILLED: dict[str, tuple[str, list[Any]]] = {
    "IntakeForm": (
        "results",
        [
            IntakeResult(  # tasks/intake.py: suggested_results
                case_code="BG-2026-000417",
                listening=Cefr.A1,
                reading=Cefr.A1,
                interaction=Cefr.A1,
                production=Cefr.A1,
                writing=Cefr.A1,
                occupations=["7212"],
                skills=["saldatura.tig"],
                languages=["uk", "ru"],
            ),
            {  # an answer asked again with its problems (tasks/runtime/steps.py: ask_until_valid)
                "case_code": "BG-2026-000418",
                "present": True,
                "education": "3",
                "recognition": "in_progress",
                "licence": "forklift",
                "availability": "part_time",
                "occupations": ["9333"],
            },
        ],
    ),
    "LiteracyForm": ("results", [LiteracyResult(case_code="BG-2026-000233", outcome=CourseOutcome.PASSED)]),
    "DedupForm": (
        "decisions",
        [{"review_id": 12, "case_code": "BG-2026-000512", "candidate_code": "BG-2026-000087", "score": 91.5}],
    ),
    "MatchApprovalForm": ("vacancies", [{"vacancy_code": "VAC-0009-0002", "approved": ["BG-2026-000417"]}]),
    "PolicyDecisionForm": (
        "decisions",
        [
            {
                "case_code": "BG-2026-000233",
                "options": ["training:TRN-0003-0001", "gol", "territorial:BG-RIPARTIRE"],
                "choice": "training:TRN-0003-0001",
                "provider_code": "",
            }
        ],
    ),
    "TavoloDecisionForm": (  # tasks/policy/tavolo.py: tavolo_initial
        "decisions",
        [
            {"case_code": "BG-2026-000102", "decision": "defer", "measure": "gol"},
            {"case_code": "BG-2026-000140", "decision": "defer", "measure": ""},
        ],
    ),
    "FollowUpForm": ("follow_ups", [{"case_code": "BG-2026-000321", "outcome": "da verificare", "observed_on": None}]),
    "ClosureForm": ("closures", [{"case_code": "BG-2026-000321", "reason": None}]),
}

#: The forms' own stored codes (the choices they keep), besides those of models/enums.py.
FORM_CODES = {m.value for enum in (TavoloDecisionKind, CourseOutcome) for m in enum} - {"close", "profile"}
#: A Python name shown as a title or a choice (a class, an enum's member), or a classification's
#: acronym where the words belong ("Titolo di studio (ISCED)").
_CLASS_NAME = re.compile(r"^[A-Z][a-z]+(?:[A-Z][a-z]*)+$")
_INTERNAL = re.compile(r"\b(?:[A-Z]+_[A-Z_]+|ISCED)\b")


#: Stored values that are also the Italian words of a list's entry: "ambito" is the social-services
#: district (OrgKind) and the word of "Pulizie in ambito sanitario" (config/skills.yaml).
_ALSO_WORDS = {"ambito"}


def _raw(text: str) -> list[str]:
    return [v for v in raw_values(text) if v not in _ALSO_WORDS]


def _internal(where: str, kind: str, text: str) -> bool:
    """A stored value, a form's code, an enum's or a class's name, or pydantic's title made from
    the field's name ("Results", "Follow Ups"): not words for the people who fill the form."""
    field = where.rsplit(".", 1)[-1].split("[")[0]
    auto_title = kind == "title" and text == field.replace("_", " ").title()
    python_name = kind == "title" and bool(_CLASS_NAME.match(text))
    form_code = any(re.search(rf"(?<![\w-]){c}(?![\w-])", text) for c in FORM_CODES)
    return bool(_raw(text)) or form_code or bool(_INTERNAL.search(text)) or auto_title or python_name


#: The measures proposed in this run, by name (flows/policy.py: tasks/policy/tavolo.py form_measures).
MEASURES = {
    "training:TRN-0003-0001": "corso «Saldatura TIG e MIG per carpenteria metallica»",
    "gol": "GOL – Garanzia di Occupabilità dei Lavoratori",
    "territorial:BG-RIPARTIRE": "Ripartire – percorsi per persone seguite dai servizi sociali",
}


def saved_schema(name: str) -> dict[str, Any]:
    """The schema Prefect saves for a suspended run of this form (prefect/input/run_input.py),
    built and pre-filled as its flow does (tasks/runtime/steps.py: ask_operator)."""
    field, rows = PREFILLED[name]
    form: Any = FORMS[name]
    if name in ("PolicyDecisionForm", "TavoloDecisionForm"):
        form = form.naming(MEASURES)
    if name == "IntakeForm":  # flows/intake.py: skills and languages from their lists
        form = form.listing(**intake_lists())
    form = form.with_initial_data(description="Modulo di prova", **{field: rows})
    return create_v2_schema(form.__name__, model_base=form)


def _shown(schema: dict[str, Any], where: str = "") -> Iterator[tuple[str, str, str]]:
    """What the Prefect UI may draw: (where, what, text) for every title, description, choice
    and pre-filled choice in the schema."""
    if isinstance(schema, dict):
        for key in ("title", "description"):
            if isinstance(schema.get(key), str):
                yield where, key, schema[key]
        for value in schema.get("enum", []):
            yield where, "scelta", str(value)
        if CODES in schema and isinstance(schema.get("default"), str):
            yield where, "valore proposto", schema["default"]
        for key, sub in schema.items():
            if key in ("properties", "$defs", "definitions"):
                for name, prop in sub.items():
                    yield from _shown(prop, f"{where}.{name}")
            elif key in ("items", "anyOf", "allOf"):
                for i, prop in enumerate(sub if isinstance(sub, list) else [sub]):
                    yield from _shown(prop, f"{where}[{i}]")


def _problems(name: str) -> list[tuple[str, str, str]]:
    schema = saved_schema(name)
    bad = [(w, k, t) for w, k, t in _shown(schema) if _internal(w, k, t)]
    for row in _prefilled_rows(schema):  # what each row proposes is shown too
        shown = [(k, v) for k, vs in row.items() for v in (vs if isinstance(vs, list) else [vs]) if isinstance(v, str)]
        bad += [("riga", k, v) for k, v in shown if _raw(v) or v in FORM_CODES]
    return bad


def _prefilled_rows(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for p in schema["properties"].values() if isinstance(p.get("default"), list) for r in p["default"]]


def test_every_form_has_a_prefilled_example() -> None:
    assert set(FORMS) == set(PREFILLED)
    assert {"IntakeForm", "TavoloDecisionForm", "ClosureForm", "FollowUpForm"} <= set(FORMS)


def test_the_check_catches_what_the_forms_showed() -> None:
    """The intake and tavolo forms as they were: codes as choices, ISCED and NO_SHOW in the help."""
    old = {
        "title": "IntakeForm",
        "properties": {"results": {"title": "Results", "default": [{"decision": "defer"}]}},
        "$defs": {
            "Availability": {"enum": ["full_time", "part_time", "shifts"], "title": "Availability"},
            "Row": {
                "properties": {
                    "education": {"title": "Titolo di studio (ISCED)", "description": "2 = licenza media"},
                    "present": {"description": "No = assente (NO_SHOW, da riprogrammare)"},
                    "decision": {"description": "assign = assegna la misura, back_to_pool = torna tra i profili"},
                    "choice": {"description": "es. gol, training:TRN-0001-0002"},
                }
            },
        },
    }
    assert sorted(t for w, k, t in _shown(old) if _internal(w, k, t)) == sorted(
        [
            "IntakeForm",
            "Results",
            "full_time",
            "part_time",
            "shifts",
            "Availability",
            "Titolo di studio (ISCED)",
            "No = assente (NO_SHOW, da riprogrammare)",
            "assign = assegna la misura, back_to_pool = torna tra i profili",
            "es. gol, training:TRN-0001-0002",
        ]
    )
    assert not _internal(".results", "title", "Esiti dei colloqui")
    assert not _internal(".licence", "scelta", "B") and not _internal(".education", "scelta", "licenza media")


@pytest.mark.parametrize("name", sorted(PREFILLED))
def test_no_form_shows_a_stored_value_a_code_or_a_class_name(name: str) -> None:
    assert _problems(name) == []


@pytest.mark.parametrize("name", sorted(PREFILLED))
def test_a_field_that_may_stay_empty_names_its_tabs_in_italian(name: str) -> None:
    """The UI draws ``X | None`` as two tabs named after the types ("str", "None") unless named."""
    schema = saved_schema(name)
    titled = {w for w, k, _ in _shown(schema) if k == "title"}
    assert [tab for tab in _branch_paths(schema) if tab not in titled] == []


def _branch_paths(schema: dict[str, Any], where: str = "") -> Iterator[str]:
    if isinstance(schema, dict):
        for key, sub in schema.items():
            if key in ("properties", "$defs", "definitions"):
                for name, prop in sub.items():
                    yield from _branch_paths(prop, f"{where}.{name}")
            elif key == "anyOf":
                for i, prop in enumerate(sub):
                    yield f"{where}[{i}]"
                    yield from _branch_paths(prop, f"{where}[{i}]")


# --------------------------------------------------------------------------------------------
# Answers: by the words the form shows, or by code, always kept as the code


def _intake_row(**choices: Any) -> dict[str, Any]:
    return {"case_code": "BG-2026-000417", "present": True, "occupations": ["8344"], **choices}


@pytest.mark.parametrize(
    ("answer", "stored"),
    [
        (
            {"education": "licenza media", "recognition": "non necessario", "licence": "nessuna"},
            {"education": "2", "recognition": "not_needed", "licence": "none"},
        ),
        (
            {"education": "Laurea triennale", "availability": "tempo pieno", "licence": "solo patentino del muletto"},
            {"education": "6", "availability": "full_time", "licence": "forklift"},
        ),
        (
            {"education": "2", "recognition": "not_needed", "licence": "none", "availability": "full_time"},
            {"education": "2", "recognition": "not_needed", "licence": "none", "availability": "full_time"},
        ),
        (
            {"education": 3, "availability": "part time", "licence": "CE"},
            {"education": "3", "availability": "part_time"},
        ),
        ({"recognition": "In corso", "listening": "a2", "availability": "turni"}, {"recognition": "in_progress"}),
    ],
)
def test_intake_choices_are_kept_as_codes_whether_answered_by_words_or_code(
    answer: dict[str, Any], stored: dict[str, Any]
) -> None:
    row = IntakeResult.model_validate(_intake_row(**answer)).model_dump(mode="json")
    assert {k: row[k] for k in stored} == stored


def test_every_choice_of_every_form_takes_its_words_and_its_code() -> None:
    checked = 0
    for form in FORMS.values():
        for field in form.model_fields.values():
            (row_model,) = getattr(field.annotation, "__args__", (None,))
            for name, info in getattr(row_model, "model_fields", {}).items():
                choices = next((m for m in info.metadata if isinstance(m, choices_module.Choices)), None)
                if choices is None:
                    continue
                for code, words in choices.pairs:
                    for given in (code, words, words.upper(), f" {words} "):
                        assert choices.code_of(given) == code, (form.__name__, name, given)
                    checked += 1
    assert checked >= len(Isced) + len(Recognition) + len(Licence) + len(Availability) + len(TavoloDecisionKind)


def test_a_wrong_choice_is_refused_in_italian_with_the_words_to_choose_from() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        IntakeResult.model_validate(_intake_row(availability="sempre"))
    assert "scegliere tra: tempo pieno, part-time, turni" in str(refused.value)
    with pytest.raises(ValidationError):
        TavoloDecisionRow.model_validate({"case_code": "BG-2026-000102", "decision": "approvare"})


def test_tavolo_decisions_by_words_or_code() -> None:
    rows = [
        {"case_code": "BG-2026-000102", "decision": "assegnare la misura indicata", "measure": "gol"},
        {"case_code": "BG-2026-000140", "decision": "back_to_pool"},
        {"case_code": "BG-2026-000141", "decision": "Un altro corso di italiano al CPIA"},
    ]
    answer = TavoloDecisionForm.model_validate({"decisions": rows})
    assert [r.model_dump(mode="json")["decision"] for r in answer.decisions] == ["assign", "back_to_pool", "new_course"]
    assert answer.decisions[1].decision.label == "riproporre il profilo alle aziende"


# --------------------------------------------------------------------------------------------
# The server checks the answer against the saved schema: an answer by code is put in words first


def _server_accepts(schema: dict[str, Any], answer: dict[str, Any]) -> bool:
    """What the Prefect server does on resume (prefect/server/api/flow_runs.py)."""
    try:
        server_validate(answer, schema, raise_on_error=True)
    except ServerRefusal:
        return False
    return True


def test_an_answer_by_code_is_put_in_words_the_server_accepts_and_the_flow_reads_as_codes() -> None:
    schema = saved_schema("IntakeForm")
    by_code = {
        "results": [
            _intake_row(education="3", recognition="in_progress", licence="B", availability="shifts"),
            _intake_row(case_code="BG-2026-000418", present=False, licence="none", listening="pre-A1"),
        ]
    }
    assert not _server_accepts(schema, by_code)  # the drop-downs list words only
    sent = answer_in_words(schema, by_code)
    assert sent["results"][0] | {"case_code": "BG-2026-000417"} == _intake_row(
        education="diploma di scuola superiore", recognition="in corso", licence="B", availability="turni"
    )
    assert sent["results"][1]["licence"] == "nessuna" and sent["results"][1]["listening"] == "pre-A1"
    typed = answer_in_words(schema, {"results": [_intake_row(availability="Part Time", education="LICENZA MEDIA")]})
    assert (typed["results"][0]["availability"], typed["results"][0]["education"]) == ("part-time", "licenza media")
    assert _server_accepts(schema, sent)
    read = IntakeForm.model_validate(sent).results[0].model_dump(mode="json")
    assert (read["education"], read["recognition"], read["availability"]) == ("3", "in_progress", "shifts")


def test_the_tavolo_answer_by_code_of_the_operators_scripts_reaches_the_flow_as_code() -> None:
    schema = saved_schema("TavoloDecisionForm")
    by_code = {
        "decisions": [
            {"case_code": "BG-2026-000102", "decision": "assign", "measure": "gol"},
            {"case_code": "BG-2026-000140", "decision": "defer", "measure": ""},
        ]
    }
    sent = answer_in_words(schema, by_code)
    assert sent == {
        "decisions": [
            {
                "case_code": "BG-2026-000102",
                "decision": "assegnare la misura indicata",
                "measure": "GOL – Garanzia di Occupabilità dei Lavoratori",
            },
            {"case_code": "BG-2026-000140", "decision": "rinviare al prossimo tavolo", "measure": "nessuna"},
        ]
    }
    assert _server_accepts(schema, sent) and not _server_accepts(schema, by_code)
    read = TavoloDecisionForm.naming(MEASURES).model_validate(sent).decisions
    assert [(r.decision, r.measure) for r in read] == [
        (TavoloDecisionKind.ASSIGN, "gol"),
        (TavoloDecisionKind.DEFER, ""),
    ]


def test_the_policy_form_lists_the_measures_by_name_and_keeps_their_codes() -> None:
    schema = saved_schema("PolicyDecisionForm")
    (row,) = schema["properties"]["decisions"]["default"]
    assert row["options"] == list(MEASURES.values())
    assert row["choice"] == "corso «Saldatura TIG e MIG per carpenteria metallica»"
    form = PolicyDecisionForm.naming(MEASURES)
    for given, stored in [
        ("territorial:BG-RIPARTIRE", "territorial:BG-RIPARTIRE"),  # a script's answer, by code
        ("GOL – Garanzia di Occupabilità dei Lavoratori", "gol"),
        ("nessuna: decide il tavolo", ""),
        ("", ""),
    ]:
        answer = answer_in_words(schema, {"decisions": [{**row, "choice": given}]})
        assert _server_accepts(schema, answer), given
        (read,) = form.model_validate(answer).decisions
        assert read.choice == stored and read.options == list(MEASURES), given
    assert not _server_accepts(schema, {"decisions": [{**row, "choice": "Dote Unica Lavoro"}]})  # not proposed


def test_two_measures_with_one_name_are_told_apart() -> None:
    choices = measure_choices(
        {"training:TRN-0003-0001": "corso «Magazzino»", "training:TRN-0007-0002": "corso «Magazzino»"}, "nessuna"
    )
    assert [w for _, w in choices.pairs] == [
        "nessuna",
        "corso «Magazzino» (TRN-0003-0001)",
        "corso «Magazzino» (TRN-0007-0002)",
    ]


def test_what_a_form_proposes_is_shown_in_words_and_accepted_as_it_is() -> None:
    """``incontro answer --defaults`` and the desk send back the pre-filled rows as shown."""
    schema = saved_schema("IntakeForm")
    rows = schema["properties"]["results"]["default"]
    assert (rows[1]["education"], rows[1]["licence"], rows[1]["availability"]) == (
        "diploma di scuola superiore",
        "solo patentino del muletto",
        "part-time",
    )
    assert rows[0]["availability"] == "tempo pieno" and rows[0]["recognition"] == "non necessario"
    answer = {"results": rows}
    assert _server_accepts(schema, answer) and answer_in_words(schema, answer) == answer
    stored = [r.model_dump(mode="json") for r in IntakeForm.listing(**intake_lists()).model_validate(answer).results]
    assert stored[1]["licence"] == "forklift" and stored[0]["availability"] == "full_time"
    tavolo = saved_schema("TavoloDecisionForm")["properties"]["decisions"]
    assert tavolo["title"] == "Decisioni del tavolo"
    assert [r["decision"] for r in tavolo["default"]] == ["rinviare al prossimo tavolo"] * 2


def test_a_literacy_answer_by_code_is_sent_in_words_and_stored_as_the_code() -> None:
    schema = saved_schema("LiteracyForm")
    answer = {"results": [{"case_code": "BG-2026-000233", "outcome": "passed", "reading": "a2"}]}
    sent = answer_in_words(schema, answer)
    assert sent == {"results": [{"case_code": "BG-2026-000233", "outcome": "superato", "reading": "A2"}]}
    assert _server_accepts(schema, sent) and not _server_accepts(schema, answer)
    row = LiteracyForm.model_validate(sent).results[0]
    assert row.reading is Cefr.A2 and row.outcome is CourseOutcome.PASSED


def test_form_enums_keep_their_stored_codes() -> None:
    """The codes stay what the database, the events and the reports hold."""
    assert [d.value for d in TavoloDecisionKind] == [
        "assign",
        "back_to_pool",
        "defer",
        "close",
        "new_course",
        "profile",
    ]
    assert all(isinstance(d, StrEnum) for d in TavoloDecisionKind)
