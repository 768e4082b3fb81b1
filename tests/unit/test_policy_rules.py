"""Eligibility rules of the active policies, table-driven at their boundaries, plus the training
gap, the offer ingestion and the agenda rendering (issue 11)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from config.data import ConfigError
from models.enums import Cefr, Isced, Licence, OrgKind, Recognition, State
from models.exchange import Vacancy
from models.ops import ImportFile, ImportRow, Outbox
from models.policy import MeasureKind, TrainingOffer
from tasks.files.tabular import FileRejected
from tasks.matching.scoring import ProfileFacts, VacancyFacts
from tasks.policy.measures import (
    CaseFacts,
    age_on,
    dul,
    dul_success,
    evaluate_measures,
    garanzia_giovani,
    gol,
    hire_attributed,
    permit_check,
    primary_policy,
    profiling,
    territorial,
)
from tasks.policy.rules import POLICIES_FILE, TerritorialProject, load_policies
from tasks.policy.tavolo import Agenda, agenda_markdown
from tasks.policy.training import Gap, courses_for_gap, ingest_training_file, skill_covered, training_gaps
from tests.factories import seed_partners

RULES = load_policies()
DAY = date(2026, 6, 15)
BASE = CaseFacts(
    case_code="BG-2026-000001",
    birth_date=date(2000, 1, 10),
    italian=Cefr.B1,
    experience_years=5,
    education=Isced.UPPER_SECONDARY,
    occupations=("7212",),
    office_code="CPI-BG",
)


# --- age on the exact birthday ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(1996, 6, 15), date(2026, 6, 14), 29),  # the day before the 30th birthday
        (date(1996, 6, 15), date(2026, 6, 15), 30),  # the birthday itself
        (date(1996, 2, 29), date(2026, 2, 28), 29),  # leap-day birthday: not yet
        (date(1996, 2, 29), date(2026, 3, 1), 30),
        (date(2011, 6, 15), date(2026, 6, 14), 14),
        (date(2011, 6, 15), date(2026, 6, 15), 15),
    ],
)
def test_age_on_counts_completed_years(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


@pytest.mark.parametrize(
    ("birth", "day", "eligible", "reason"),
    [
        (date(1996, 6, 15), date(2026, 6, 14), True, "età 29 anni: entro 15–29"),
        (date(1996, 6, 15), date(2026, 6, 15), False, "età 30 anni: oltre il massimo (15–29)"),
        (date(2011, 6, 15), date(2026, 6, 15), True, "età 15 anni: entro 15–29"),
        (date(2011, 6, 15), date(2026, 6, 14), False, "età 14 anni: sotto il minimo (15–29)"),
        (None, date(2026, 6, 14), False, "data di nascita mancante"),
    ],
)
def test_garanzia_giovani_age_boundaries(birth: date | None, day: date, eligible: bool, reason: str) -> None:
    verdict = garanzia_giovani(replace(BASE, birth_date=birth), day, RULES)
    assert verdict.eligible is eligible
    assert any(reason in r for r in verdict.reasons), verdict.reasons
    assert len(verdict.reasons) == 3  # age, NEET, permit: one reason per criterion, yes or no


@pytest.mark.parametrize(
    ("employed", "in_education", "eligible", "reason"),
    [
        (False, False, True, "sì – non occupato né in istruzione o formazione (NEET)"),
        (True, False, False, "no – occupato: non è NEET"),
        (False, True, False, "no – in istruzione o formazione"),
    ],
)
def test_garanzia_giovani_requires_neet(employed: bool, in_education: bool, eligible: bool, reason: str) -> None:
    facts = replace(BASE, employed=employed, in_education=in_education)
    verdict = garanzia_giovani(facts, DAY, RULES)
    assert verdict.eligible is eligible
    assert any(r.startswith(reason) for r in verdict.reasons), verdict.reasons


# --- permits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("permit_type", "expiry", "ok", "reason"),
    [
        ("lavoro subordinato", None, True, "nessuna scadenza"),
        ("lavoro subordinato", DAY, True, "valido fino al 15/06/2026"),  # the expiry day is still valid
        ("lavoro subordinato", date(2026, 6, 14), False, "scaduto il 14/06/2026"),
        ("Ricevuta di rinnovo", date(2026, 6, 14), True, "ricevuta di rinnovo"),
        ("protezione temporanea", date(2025, 3, 4), False, "serve la ricevuta di rinnovo"),
    ],
)
def test_permit_valid_on_the_day(permit_type: str, expiry: date | None, ok: bool, reason: str) -> None:
    check = permit_check(replace(BASE, permit_type=permit_type, permit_expiry=expiry), DAY, RULES)
    assert check.ok is ok and reason in check.reason


def test_expired_permit_blocks_every_measure_with_its_reason() -> None:
    facts = replace(BASE, birth_date=date(2001, 1, 1), permit_type="lavoro", permit_expiry=date(2026, 6, 14))
    verdicts = evaluate_measures(facts, DAY, RULES)
    assert verdicts and not any(v.eligible for v in verdicts)
    assert all(any("scaduto il 14/06/2026" in r for r in v.reasons) for v in verdicts)
    assert primary_policy(facts, DAY, RULES) is None
    assert primary_policy(replace(facts, permit_expiry=DAY), DAY, RULES) is not None


# --- GOL profiling → pathway, DUL bands and success ---------------------------------------------


@pytest.mark.parametrize(
    ("changes", "cls", "pathway"),
    [
        ({}, 1, "job_placement"),  # B1, 5 years, diploma, coded occupation: 0 points
        ({"italian": Cefr.A2, "experience_years": 1}, 2, "upskilling"),  # 1 + 1
        ({"italian": Cefr.A2, "experience_years": 0, "education": Isced.PRIMARY}, 3, "reskilling"),  # 1+2+1
        ({"italian": Cefr.A1, "experience_years": 0, "occupations": ()}, 4, "work_inclusion"),  # 3+2+1
        ({"italian": Cefr.A1, "collective_crisis": True}, 2, "collective_reskilling"),
    ],
)
def test_gol_pathway_from_profiling_class(changes: dict[str, object], cls: int, pathway: str) -> None:
    facts = replace(BASE, **changes)  # type: ignore[arg-type]
    assert profiling(facts, RULES)[0] == cls
    verdict = gol(facts, DAY, RULES)
    assert verdict.eligible and verdict.pathway == pathway
    assert RULES.gol.pathway_labels[pathway] in verdict.reasons[-1]


def test_profiling_counts_an_unrecognised_foreign_title() -> None:
    _, points, factors = profiling(replace(BASE, recognition=Recognition.IN_PROGRESS), RULES)
    assert points == 1 and factors == ["title_not_recognised"]


def test_gol_needs_a_profile_and_dul_needs_lombardy() -> None:
    assert not gol(replace(BASE, has_profile=False), DAY, RULES).eligible
    outside = dul(replace(BASE, region=None), DAY, RULES)
    assert not outside.eligible and any("fuori da Lombardia" in r for r in outside.reasons)
    inside = dul(replace(BASE, italian=Cefr.A1, experience_years=0, occupations=()), DAY, RULES)
    assert inside.eligible and inside.pathway == "fascia 4 – intensità molto alta"


@pytest.mark.parametrize(
    ("contract", "days", "ok"),
    [
        ("tempo determinato", 179, False),
        ("tempo determinato", 180, True),  # exactly 180 days is a success
        ("tempo determinato", 181, True),
        ("tempo determinato", None, False),
        ("Tempo indeterminato", None, True),
    ],
)
def test_dul_success_is_a_contract_of_at_least_180_days(contract: str, days: int | None, ok: bool) -> None:
    assert dul_success(contract, days, RULES).ok is ok


@pytest.mark.parametrize(
    ("hired_on", "ok"),
    [(date(2026, 1, 1), True), (date(2026, 6, 30), True), (date(2026, 7, 1), False), (date(2025, 12, 31), False)],
)
def test_hire_counts_for_the_measure_within_180_days(hired_on: date, ok: bool) -> None:
    # 2026-01-01 + 180 days = 2026-06-30
    assert hire_attributed(date(2026, 1, 1), hired_on, RULES).ok is ok


# --- territorial projects -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "day", "eligible", "reason"),
    [
        ({}, DAY, True, "progetto attivo"),
        ({}, date(2025, 12, 31), False, "progetto attivo dal 01/01/2026"),
        ({}, date(2027, 7, 1), False, "progetto concluso il 30/06/2027"),
        ({"office_code": "CPI-BG"}, DAY, False, "CPI CPI-BG non tra CPI-PSP, CPI-ALB"),
        ({"sex": "M"}, DAY, False, "fuori dai destinatari"),
        ({"birth_date": date(1970, 6, 15)}, DAY, False, "età 56 anni: oltre il massimo"),
    ],
)
def test_territorial_project_criteria(changes: dict[str, object], day: date, eligible: bool, reason: str) -> None:
    project = next(p for p in RULES.territorial if p.code == "BG-DONNE-LAVORO")
    facts = replace(BASE, **({"sex": "F", "office_code": "CPI-ALB"} | changes))  # type: ignore[arg-type]
    verdict = territorial(facts, day, RULES, project)
    assert verdict.eligible is eligible and verdict.code == "territorial:BG-DONNE-LAVORO"
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_territorial_project_by_referrer_kind_and_italian_level() -> None:
    social = TerritorialProject(code="X", label="x", provider="PROV-LAVORO", referrer_kinds=[OrgKind.CARITAS])
    assert territorial(replace(BASE, referrer_kinds=("caritas",)), DAY, RULES, social).eligible
    assert not territorial(replace(BASE, referrer_kinds=("association",)), DAY, RULES, social).eligible
    beginners = next(p for p in RULES.territorial if p.code == "BG-ITALIANO-LAVORO")
    assert territorial(replace(BASE, italian=Cefr.A1), DAY, RULES, beginners).eligible
    assert not territorial(replace(BASE, italian=Cefr.A2), DAY, RULES, beginners).eligible


def test_policy_config_errors_name_the_file_and_the_problem(tmp_path: Path) -> None:
    text = POLICIES_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "policies.yaml"
    bad.write_text(text.replace("max_age: 29", "max_age: trenta"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"(?s)policies\.yaml.*garanzia_giovani\.max_age"):
        load_policies(bad)
    bad.write_text(text.replace('provider: "FORM-OROBICA"', 'provider: "FORM-IGNOTO"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="FORM-IGNOTO"):
        load_policies(bad)


# --- training gaps from match parts ----------------------------------------------------------------

WELDER = ProfileFacts(case_code="BG-2026-000001", occupations=("7212",), skills=("saldatura mig",), italian=Cefr.A1)
TIG = VacancyFacts(
    vacancy_code="VAC-0001-0002",
    occupation_code="7212",
    skills=("saldatura tig", "lettura disegno tecnico"),
    italian_required=Cefr.B1,
)


def _offer(code: str, **kw: object) -> TrainingOffer:
    fields: dict[str, object] = {
        "code": code,
        "body_code": "FORM-OROBICA",
        "title": "Saldatura TIG",
        "occupation_codes": ["7212"],
        "skills": ["saldatura tig", "lettura disegno tecnico"],
        "italian_target": "B1",
        "hours": 120,
        "seats": 12,
        "start": date(2026, 7, 1),
    }
    return TrainingOffer.model_validate(fields | kw)


@pytest.mark.parametrize(
    ("need", "have", "covered"),
    [
        ("saldatura TIG", ["saldatura tig"], True),
        ("saldatura TIG", ["Saldature TIG e MIG"], True),  # plural and extra words
        ("saldatura TIG", ["saldatura mig"], False),  # 92% alike as strings, a different skill
        ("lettura disegno tecnico", ["disegno tecnico", "lettura"], False),  # all words in one skill
        ("HACCP", [], False),
    ],
)
def test_skill_covered_word_by_word(need: str, have: list[str], covered: bool) -> None:
    assert skill_covered(need, have, RULES.training.skill_covered) is covered


def test_training_gap_from_skills_and_italian_parts() -> None:
    far = VacancyFacts(vacancy_code="VAC-X", occupation_code="5120", skills=("cucina",))
    licence = replace(TIG, vacancy_code="VAC-LIC", licence_required=Licence.C)
    (gap,) = training_gaps(WELDER, [TIG, far, licence], RULES)  # other occupation, missing licence: no course helps
    assert gap.vacancy_code == "VAC-0001-0002" and gap.italian_needed is Cefr.B1
    # both requirements name entries of config/skills.yaml: compared by code, a MIG welder lacks TIG
    assert gap.missing_codes == ("saldatura.tig", "meccanica.disegno-tecnico") and gap.missing_skills == ()
    ready = replace(WELDER, skills=("saldatura tig", "lettura disegno tecnico"), italian=Cefr.B1)
    assert training_gaps(ready, [TIG], RULES) == []  # nothing lacking: that is a match, not a course


@pytest.mark.parametrize(
    ("offer", "proposed"),
    [
        (_offer("TRN-A"), True),
        (
            _offer("TRN-LINK", occupation_codes=["9329"], skills=[], italian_target=None, vacancy_code="VAC-0001-0002"),
            True,
        ),
        (_offer("TRN-OTHER", occupation_codes=["5120"]), False),  # another occupation group
        (_offer("TRN-OLD", start=date(2026, 6, 1)), False),  # already started
        (_offer("TRN-FULL"), False),  # no seats left
        (_offer("TRN-ENTRY", italian_min="A2"), False),  # entry level above the person's A1
        (_offer("TRN-NOIT", italian_target="A2"), False),  # does not reach the B1 the position needs
    ],
)
def test_courses_for_gap(offer: TrainingOffer, proposed: bool) -> None:
    gap = Gap("VAC-0001-0002", "7212", 1.0, (), Cefr.B1, missing_codes=("saldatura.tig", "meccanica.disegno-tecnico"))
    found = courses_for_gap(gap, [offer], Cefr.A1, DAY, {"TRN-FULL": 0}, RULES)
    assert bool(found) is proposed


# --- coded requirements by code, the rest by words ----------------------------------------------------

DRIVER = ProfileFacts(
    case_code="BG-2026-000002",
    occupations=("8332",),
    skills=("Carrello elevatore (muletto)", "Patente B"),  # profile_facts: the labels of the codes
    italian=Cefr.B1,
    skill_codes=("abilitazioni.carrello-elevatore", "patenti.b"),
)
DELIVERY = VacancyFacts(
    vacancy_code="VAC-0002-0001",
    occupation_code="8332",
    skills=("carrellista", "patente C", "puntualità e precisione"),
    italian_required=Cefr.A2,
    skill_codes=("abilitazioni.carrello-elevatore", "patenti.c"),  # what the import coded
)


def test_a_coded_requirement_is_held_by_code_not_by_shared_words() -> None:
    """A C licence asked as "patente C" shares every long word with "Patente B" (the word rule called
    it covered), and "carrellista" none with the forklift the person holds (it called it missing)."""
    (gap,) = training_gaps(DRIVER, [DELIVERY], RULES)
    assert gap.missing_codes == ("patenti.c",)
    assert gap.missing_skills == ("puntualità e precisione",)  # names nothing of the list: by words
    assert gap.italian_needed is None
    covered = replace(DRIVER, skills=(*DRIVER.skills, "Precisione, puntualità"))
    (gap,) = training_gaps(covered, [DELIVERY], RULES)
    assert gap.missing_skills == ()  # the uncoded requirement, met word by word
    truck = replace(DRIVER, skills=("Patente CE",), skill_codes=())  # a profile known by its words only
    (gap,) = training_gaps(truck, [DELIVERY], RULES)
    assert gap.missing_codes == ("abilitazioni.carrello-elevatore",)  # CE covers C; no forklift


@pytest.mark.parametrize(
    ("taught", "proposed"),
    [
        (["patente camion", "carrelli elevatori semoventi"], True),  # other words, the same entries
        (["Patente CE", "muletto", "sicurezza"], True),  # CE covers C
        (["patente B", "muletto"], False),  # "patente" alone is not a C licence
        (["patente C"], False),  # the forklift is not taught
    ],
)
def test_a_course_covers_coded_requirements_by_code(taught: list[str], proposed: bool) -> None:
    gap = Gap("VAC-0002-0001", "8332", 1.0, missing_codes=("patenti.c", "abilitazioni.carrello-elevatore"))
    offer = _offer("TRN-GUIDA", occupation_codes=["8332"], skills=taught, italian_target=None)
    assert bool(courses_for_gap(gap, [offer], Cefr.B1, DAY, {}, RULES)) is proposed


def test_the_course_proposal_names_what_is_missing_in_italian() -> None:
    from tasks.policy.training import training_verdict

    gap = Gap("VAC-0002-0001", "8332", 1.0, ("puntualità e precisione",), missing_codes=("patenti.c",))
    verdict = training_verdict(BASE, DAY, RULES, _offer("TRN-GUIDA"), gap)
    assert "competenze mancanti: Patente C, puntualità e precisione" in verdict.checks[0].reason


def test_a_training_gap_keeps_the_configured_maximum_distance() -> None:
    """config/routing.yaml says 40 km: a position 44.5 km away is out of reach, not a gap to train
    for, though the scoring's own default (50 km) would keep it."""
    from config.data import load_routing, municipality_coords
    from tasks.matching.scoring import DEFAULT_MAX_KM, haversine_km

    colere, bergamo = municipality_coords("Colere"), municipality_coords("Bergamo")
    assert colere is not None and bergamo is not None
    assert load_routing().matching.max_distance_km < haversine_km(*colere, *bergamo) < DEFAULT_MAX_KM
    person = replace(WELDER, lat=colere[0], lon=colere[1], mobility_km=100)
    there = replace(TIG, lat=bergamo[0], lon=bergamo[1])
    assert training_gaps(person, [there], RULES) == []
    assert [g.vacancy_code for g in training_gaps(person, [there], RULES, max_km=DEFAULT_MAX_KM)] == [TIG.vacancy_code]


# --- training offers ingestion ------------------------------------------------------------------------

HEAD = (
    "Ente di formazione;Titolo corso;Codici ISCO;Competenze;Ore;Posti;Data inizio;Data fine;Cofinanziato;"
    "Codice posizione;Tirocinio;Indennità di frequenza"
)


def test_training_file_keeps_good_rows_and_reports_each_bad_cell(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    session.add(
        Vacancy(
            code="VAC-0001-0002", company_code="COMP-OFFICINE-VALSERIANA", title="Saldatore", occupation_code="7212"
        )
    )
    session.commit()
    path = tmp_path / "corsi.csv"
    path.write_text(
        "\n".join(
            [
                HEAD,
                "FORM-OROBICA;Saldatura TIG;7212;saldatura tig;120;12;01/07/2026;30/09/2026;SI;VAC-0001-0002;SI;SI",
                "FORM-OROBICA;Magazzino;;carrello;80;10;01/07/2026;;NO;;NO;NO",
                "COMP-GOMMA-ISOLA;Stampaggio;7223;;40;5;01/07/2026;;NO;;NO;NO",
                "FORM-OROBICA;Cucina;9999;;quaranta;5;31/02/2026;;forse;VAC-9;NO;NO",
                "FORM-OROBICA;Addetto alle vendite;;;60;8;01/07/2026;;NO;;NO;NO",
            ]
        ),
        encoding="utf-8",
    )
    import_id, counts = ingest_training_file(session, path, "FORM-OROBICA")
    session.commit()
    assert counts == {"accepted": 3, "rejected": 2}
    offers = {o.title: o for o in session.exec(select(TrainingOffer)).all()}
    assert offers["Saldatura TIG"].vacancy_code == "VAC-0001-0002" and offers["Saldatura TIG"].allowance
    assert offers["Addetto alle vendite"].occupation_codes == ["5223"]  # coded from the title, sure
    assert offers["Magazzino"].occupation_codes == []  # the stock clerk or the warehouse manager? not guessed
    errors = {
        r.row_number: r.errors for r in session.exec(select(ImportRow).where(ImportRow.import_file_id == import_id))
    }
    assert [e["column"] for e in errors[4]] == ["Ente di formazione"]
    # every error of the row at once, the unknown position (a lookup) with the field errors
    assert {e["column"] for e in errors[5]} == {"Codici ISCO", "Ore", "Data inizio", "Cofinanziato", "Codice posizione"}
    assert all(e["reason"] for e in errors[5])
    (mail,) = session.exec(select(Outbox).where(Outbox.kind == "import_errors")).all()
    assert "Codici ISCO" in mail.body_text and mail.recipient.endswith("formazione-orobica.example")
    assert ingest_training_file(session, path, "FORM-OROBICA")[1] == {"already_imported": 1}


def test_training_file_without_header_is_rejected_and_nothing_is_written(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    path = tmp_path / "corsi.csv"
    path.write_text("Corso;Quando\nSaldatura;domani\n", encoding="utf-8")
    with pytest.raises(FileRejected, match=r"corsi\.csv: riga di intestazione non trovata"):
        ingest_training_file(session, path, "FORM-OROBICA")
    session.rollback()
    assert session.exec(select(ImportFile)).all() == [] and session.exec(select(TrainingOffer)).all() == []


# --- agenda -----------------------------------------------------------------------------------------


def test_agenda_markdown_lists_codes_only_and_empty_sections() -> None:
    agenda = Agenda(
        held_on=date(2026, 11, 3),
        since=date(2026, 10, 3),
        awaiting=[
            {"case_code": "BG-2026-000001", "office": "CPI-BG", "since": "05/10/2026", "days": "29", "options": "gol"}
        ],
    )
    text = agenda_markdown(agenda)
    assert text.startswith("# Tavolo Sistema Lavoro – 03/11/2026\n\nPeriodo: dal 03/10/2026 al 02/11/2026\n")
    assert "## In attesa di decisione (1)" in text and "| BG-2026-000001 | CPI-BG | 05/10/2026 | 29 | gol |" in text
    # every empty section says so: new referrals, ending, placements, stalled courses, late consents
    assert text.count("Nessuna.") == 5
    assert "## Corsi di italiano senza progressi (0)" in text and "## Consensi da chiedere, in ritardo (0)" in text


def test_state_and_kind_values_used_by_routes_are_stable() -> None:
    assert {m.value for m in MeasureKind} == {"gol", "dul", "garanzia_giovani", "territorial", "training"}
    assert State.POLICY.value == "policy"
