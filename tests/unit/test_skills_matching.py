"""Skills end to end: the intake form records them, vacancy files are coded to the same list, and
the shortlist scores and explains the overlap by Italian labels (issue 18, "competenze in comune
0%" on every shortlist before).

Real parts: the migrated SQLite app database, the real vacancy import, intake recording and
matching; only the hand-over of events to Prefect is recorded instead of sent.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from sqlmodel import Session, select

from models import clock
from models.cases import Case, Profile
from models.enums import Cefr, Licence, State
from models.exchange import Match, Vacancy
from models.people import Referral
from tasks.intake import record_intake, suggested_results, validate_intake
from tasks.matching.facts import profile_facts
from tasks.matching.scoring import ProfileFacts, VacancyFacts, explain, score_pair, top_k_for_vacancy
from tasks.runtime import events
from tasks.runtime.events import EventSpec
from tasks.vacancies import ingest_vacancy_file, match_vacancies
from tests.factories import make_case, seed_partners

TODAY = datetime(2026, 12, 4, 9, 0)  # UTC; 10:00 in Bergamo

# Two positions as a logistics company and a metalworking shop send them through Confindustria.
VACANCIES = (
    "Ragione sociale;Figura ricercata;Sede di lavoro;Requisiti richiesti;Conoscenza lingua italiana;Patente;"
    "Scadenza candidature;N° posti\r\n"
    "Orio Hub Logistica;Magazziniere;Orio al Serio;Patentino muletto in corso di validità, uso palmare RF, "
    "picking;non richiesto;;28/02/2027;3\r\n"
    "OFFICINE MECCANICHE VALSERIANA SRL;Saldatore;Albino (BG);saldatura TIG - lettura disegno tecnico;A2;B;"
    "31/01/2027;1\r\n"
)


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list[EventSpec]:
    out: list[EventSpec] = []
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


def _intake_row(code: str, **extra: object) -> dict[str, object]:
    levels = {s: "B1" for s in ("listening", "reading", "interaction", "production", "writing")}
    return {"case_code": code, "present": True, **levels, "occupations": ["4321"], "licence": "none", **extra}


@time_machine.travel(TODAY, tick=False)
def test_intake_skills_reach_the_profile_and_the_shortlist_names_them(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    olena = make_case(session, state=State.INTAKE_SCHEDULED, languages=["ucraino", "russo"])
    ahmed = make_case(session, state=State.INTAKE_SCHEDULED, languages=["arabo", "francese"])
    referral = session.exec(select(Referral).where(Referral.case_id == olena.id)).one()
    referral.experiences_text = "magazziniera, patentino del muletto, picking con palmare"
    session.add(referral)
    session.commit()

    # the form proposes what the referral says, as codes, and the languages spoken
    suggested = {r.case_code: r for r in suggested_results(session, [olena.code, ahmed.code])}
    assert suggested[olena.code].skills == [
        "logistica.magazzino",
        "abilitazioni.carrello-elevatore",
        "logistica.picking",
        "logistica.terminale-rf",
    ]
    assert suggested[olena.code].languages == ["uk", "ru"]
    assert suggested[ahmed.code].languages == ["ar", "fr"]

    # a code not in the list is refused with what was probably meant
    rows = [
        _intake_row(olena.code, skills=suggested[olena.code].skills, languages=["uk", "ru"]),
        _intake_row(ahmed.code, skills=["abilitazioni.muletto"], languages=["ar"]),
    ]
    problems = validate_intake(session, [olena.code, ahmed.code], rows)
    assert problems == [
        f"{ahmed.code}: competenza «abilitazioni.muletto» non presente nell'elenco: forse "
        "abilitazioni.carrello-elevatore (Carrello elevatore (muletto))"
    ]
    rows[1]["skills"] = ["ristorazione.haccp"]
    assert validate_intake(session, [olena.code, ahmed.code], rows) == []

    outcome = record_intake(session, rows, today=clock.today())
    session.commit()
    assert sorted(outcome.profile_ready) == sorted([olena.code, ahmed.code])
    stored = {p.case_id: p.skills for p in session.exec(select(Profile))}
    assert stored[olena.id] == [
        "logistica.magazzino",
        "abilitazioni.carrello-elevatore",
        "logistica.picking",
        "logistica.terminale-rf",
        "lingua.uk",
        "lingua.ru",
    ]
    assert stored[ahmed.id] == ["ristorazione.haccp", "lingua.ar"]

    # vacancy requirements are coded to the same list when the file is imported
    path = tmp_path / "posizioni.csv"
    path.write_text(VACANCIES, encoding="utf-8")
    import_id, counts = ingest_vacancy_file(session, path, "CONFINDUSTRIA-BG")
    session.commit()
    assert counts["accepted"] == 2
    vacancies = {v.title: v for v in session.exec(select(Vacancy))}
    assert vacancies["Magazziniere"].skill_codes == [
        "abilitazioni.carrello-elevatore",
        "logistica.terminale-rf",
        "logistica.picking",
    ]
    assert vacancies["Saldatore"].skill_codes == ["saldatura.tig", "meccanica.disegno-tecnico"]

    # and the shortlist says which of them each person has, by name, not "0%"
    assert import_id is not None
    match_vacancies(session, import_id, today=clock.today())
    session.commit()
    text = {(m.vacancy_id, m.case_id): (m.parts["skills"], m.explanation) for m in session.exec(select(Match)).all()}
    part, explanation = text[(vacancies["Magazziniere"].id, olena.id)]
    assert part == 1.0
    assert "competenze richieste: tutte presenti (Carrello elevatore (muletto); " in explanation
    assert "nessun requisito di italiano" in explanation and "pre-A1" not in explanation
    assert "abilitazioni." not in explanation  # labels, never codes
    part, explanation = text[(vacancies["Magazziniere"].id, ahmed.id)]
    assert part == 0.0 and "competenze richieste: nessuna presente (mancano Carrello elevatore" in explanation


def _p(code: str, skills: tuple[str, ...], **kw: object) -> ProfileFacts:
    return ProfileFacts(code, ("8344",), italian=Cefr.B1, skill_codes=skills, **kw)  # type: ignore[arg-type]


FORKLIFT_JOB = VacancyFacts(
    "VAC-0009-0001",
    "8344",
    skills=("patentino muletto", "HACCP", "picking"),
    italian_required=Cefr.A2,
    skill_codes=("abilitazioni.carrello-elevatore", "ristorazione.haccp", "logistica.picking"),
)


def test_the_skills_part_is_the_share_of_coded_requirements_held() -> None:
    some = _p("BG-2026-000001", ("abilitazioni.carrello-elevatore", "lingua.uk"))
    result = score_pair(some, FORKLIFT_JOB)
    assert result.parts["skills"] == pytest.approx(1 / 3)
    text = explain(result.parts, some, FORKLIFT_JOB)
    assert (
        "competenze in comune 1 su 3: Carrello elevatore (muletto) (mancano HACCP (igiene e sicurezza alimentare); "
        "Picking e preparazione degli ordini)" in text
    )
    assert "italiano B1 ≥ A2 richiesto" in text


def test_people_holding_the_requirements_rank_first() -> None:
    pool = [
        _p("BG-2026-000001", ()),
        _p("BG-2026-000002", ("abilitazioni.carrello-elevatore", "ristorazione.haccp", "logistica.picking")),
        _p("BG-2026-000003", ("logistica.picking",)),
    ]
    ranked = [p.case_code for p, _ in top_k_for_vacancy(FORKLIFT_JOB, pool, k=3)]
    assert ranked == ["BG-2026-000002", "BG-2026-000003", "BG-2026-000001"]


def test_no_italian_requirement_is_said_so_not_pre_a1_required() -> None:
    job = VacancyFacts("VAC-0009-0002", "9329", italian_required=Cefr.PRE_A1)
    person = ProfileFacts("BG-2026-000004", ("9329",), italian=Cefr.A1)
    text = explain(score_pair(person, job).parts, person, job)
    assert "nessun requisito di italiano" in text
    assert "pre-A1" not in text


def test_a_profile_s_licence_and_what_its_codes_imply_meet_requirements() -> None:
    case = Case(code="BG-2026-000005", person_key="k", office_code="CPI-BG")
    truck = profile_facts(case, Profile(case_id=1, skills=["patenti.ce", "lingua.uk"], licence=Licence.NONE))
    assert {"patenti.c", "patenti.b"} <= set(truck.skill_codes)
    assert truck.skills == ("Patente CE (autotreni e autoarticolati)", "Ucraino")  # labels for the texts
    forklift = profile_facts(case, Profile(case_id=1, skills=[], licence=Licence.FORKLIFT))
    assert forklift.skill_codes == ("abilitazioni.carrello-elevatore",)
    job = VacancyFacts("VAC-0009-0003", "8332", skill_codes=("patenti.b",))
    assert score_pair(truck, job).parts["skills"] == 1.0


@pytest.mark.parametrize("typed", ["Olena Kovalenko", "olena.k@mail.example", "+39 333 123 4567", "RSSMRA80A01H501U"])
def test_the_form_field_takes_codes_only_in_process_and_by_the_schema(typed: str) -> None:
    """Prefect stores form answers in plain text: a name or a contact typed into the skills or
    languages field is refused by the schema the server checks, and in process."""
    import jsonschema
    from pydantic import ValidationError

    from models.forms import IntakeForm, IntakeResult

    schema = IntakeForm.model_json_schema()
    for field in ("skills", "languages"):
        answer = {"results": [{"case_code": "BG-2026-000123", field: [typed]}]}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(answer, schema)
        with pytest.raises(ValidationError):
            IntakeResult.model_validate(answer["results"][0])
    good = {"results": [{"case_code": "BG-2026-000123", "skills": ["ristorazione.haccp"], "languages": ["uk"]}]}
    jsonschema.validate(good, schema)


def test_the_public_profile_names_skills_and_languages_in_italian() -> None:
    from tasks.core.profiles import public_profile

    case = Case(code="BG-2026-000006", person_key="k", office_code="CPI-BG")
    shown = public_profile(case, Profile(case_id=1, skills=["saldatura.tig", "lingua.uk"]))
    assert shown.skills == "Saldatura TIG; Ucraino"
