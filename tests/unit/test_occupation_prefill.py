"""Only codes the occupation coder is sure of are stored without a person (issue 21).

The intake form is pre-filled with sure codes only and the unsure jobs come with their top 3 for
the operator; a vacancy keeps its best code with the coder's confidence (below CONFIRM_BELOW: to
confirm); a training offer stores a code only when it is sure. Real parts: the migrated SQLite
database, the real vacancy and training imports, the configured taxonomy.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from models.enums import State
from models.exchange import Vacancy
from models.people import Referral
from models.policy import TrainingOffer
from tasks.intake import occupation_hints, occupations_to_choose, suggested_results
from tasks.matching.occupations import CONFIRM_BELOW
from tasks.policy.training import ingest_training_file
from tasks.vacancies import ingest_vacancy_file
from tests.factories import make_case, seed_partners

VACANCIES = (
    "Ragione sociale;Figura ricercata;Sede di lavoro;Conoscenza lingua italiana;Scadenza candidature;N° posti\r\n"
    "OFFICINE MECCANICHE VALSERIANA SRL;Saldatore;Albino (BG);A2;31/01/2027;1\r\n"
    "Orio Hub Logistica;Operatore;Orio al Serio;A2;28/02/2027;2\r\n"
)
COURSES = (
    "Ente di formazione;Titolo corso;Codici ISCO;Ore;Posti;Data inizio;Codice posizione\r\n"
    "FORM-OROBICA;Corso per la posizione;;40;10;01/07/2026;{unsure}\r\n"
    "FORM-OROBICA;Saldatura per la posizione;;40;10;01/07/2026;{sure}\r\n"
)


def _case_writing(session: Session, experiences: str) -> str:
    case = make_case(session, state=State.INTAKE_SCHEDULED)
    referral = session.exec(select(Referral).where(Referral.case_id == case.id)).one()
    referral.experiences_text = experiences
    session.add(referral)
    session.commit()
    return case.code


def test_intake_form_is_prefilled_with_sure_codes_only(session: Session) -> None:
    seed_partners(session)
    two_jobs = _case_writing(session, "saldatore, carpentiere metallico")
    vague = _case_writing(session, "Operatore")
    mixed = _case_writing(session, "magazziniere e operatore")
    codes = [two_jobs, vague, mixed]

    prefilled = {r.case_code: r.occupations for r in suggested_results(session, codes)}
    # each job of a list is coded on its own: both are sure
    assert prefilled[two_jobs] == ["7212", "7214"]
    # "operatore" fits many unit groups: nothing is written for the operator
    assert prefilled[vague] == []
    assert prefilled[mixed] == ["4321"]

    choices = occupations_to_choose(session, codes)
    assert two_jobs not in choices
    ((vague_top3,),) = [choices[vague]]
    assert len(vague_top3) == 3 and all(code.isdigit() and len(code) == 4 and label for code, label in vague_top3)
    assert [c for c, _ in choices[mixed][0]] == [c for c, _ in vague_top3]  # the same unsure job
    assert all(label != code for code, label in vague_top3)  # Italian labels, not the codes again

    # the form's description (stored by Prefect) names the choices: codes and job names, no text of the person
    hints = occupation_hints(session, codes)
    assert vague in hints and mixed in hints and two_jobs not in hints
    assert all(f"{code} {label}" in hints for code, label in vague_top3)
    assert occupation_hints(session, [two_jobs]) == ""


def test_vacancy_keeps_its_best_code_marked_to_confirm_when_unsure(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    path = tmp_path / "posizioni.csv"
    path.write_text(VACANCIES, encoding="utf-8")
    ingest_vacancy_file(session, path, "CONFINDUSTRIA-BG")
    session.commit()
    vacancies = {v.title: v for v in session.exec(select(Vacancy))}
    welder, vague = vacancies["Saldatore"], vacancies["Operatore"]
    assert welder.occupation_code == "7212" and welder.occupation_score is not None
    assert welder.occupation_score >= CONFIRM_BELOW
    # still coded (matching needs a code) but with the coder's confidence: to confirm
    assert vague.occupation_code is not None and vague.occupation_score is not None
    assert vague.occupation_score < CONFIRM_BELOW

    # a course tied to a position copies the position's code only when it is sure
    courses = tmp_path / "corsi.csv"
    courses.write_text(COURSES.format(unsure=vague.code, sure=welder.code), encoding="utf-8")
    _, counts = ingest_training_file(session, courses, "FORM-OROBICA")
    session.commit()
    assert counts["accepted"] == 2
    offers = {o.vacancy_code: o.occupation_codes for o in session.exec(select(TrainingOffer))}
    assert offers == {welder.code: ["7212"], vague.code: []}
