"""The scripted partners of the demo: CPI operators answer forms, CPIA reports outcomes,
companies answer, the CPI records hires. They read the app database (as real operators do)
and send Prefect only structured answers (levels, codes, yes/no)."""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from demo.synthetic.dataset import DemoDataset, OperatorProfile
from models.cases import Case
from models.enums import Cefr, ConsentPurpose, Licence, State
from models.exchange import Interest, Match, Vacancy
from models.people import Person
from tasks.core.consent import grant_consent

_SKILL_MAP = {
    "listening": "listening",
    "reading": "reading",
    "interaction": "speaking",
    "production": "speaking",
    "writing": "writing",
}


def _level(text: str | None) -> str:
    try:
        return Cefr(text or "pre-A1").value
    except ValueError:
        return Cefr.C2.value if (text or "").casefold().startswith(("madre", "c2", "nativ")) else Cefr.PRE_A1.value


def _licence(text: str) -> str:
    t = (text or "").strip().upper()
    return t if t in {"B", "C", "CE", "D"} else Licence.NONE.value


def _skills_heard(code: str, truth: OperatorProfile) -> tuple[list[str], list[str]]:
    """What the operator learns at the interview: most of the skills of the jobs the person did
    (as companies word them, so shortlists show real overlap) and the languages spoken, coded to
    config/skills.yaml. A generator of its own per case: the shared one's draws stay as they were."""
    from demo.synthetic.jobs import JOB_BY_KEY
    from tasks.matching.skills import suggested_skills

    rng = random.Random(f"skills:{code}")
    person = truth.person
    heard = [s for key in person.experience_keys if key in JOB_BY_KEY for s in JOB_BY_KEY[key].skills]
    skills, _ = suggested_skills([", ".join(s for s in heard if rng.random() < 0.75), *person.experiences])
    _, languages = suggested_skills([", ".join(person.languages)])
    return skills, languages


def intake_answers(
    session: Session, dataset: DemoDataset, case_codes: list[str], rng: random.Random
) -> list[dict[str, Any]]:
    """One structured intake result per case, from the hidden truth of the synthetic person."""
    results = []
    for code in case_codes:
        case = session.exec(select(Case).where(Case.code == code)).one()
        person = session.exec(select(Person).where(Person.key == case.person_key)).one()
        truth = dataset.lookup(person.family_name, person.given_names, person.birth_date, person.codice_fiscale)
        if truth is None or rng.random() < 0.04:
            results.append({"case_code": code, "present": False, "occupations": []})
            continue
        levels = {
            skill: _level(truth.italian_levels.get(src, truth.italian_overall)) for skill, src in _SKILL_MAP.items()
        }
        skills, languages = _skills_heard(code, truth)
        results.append(
            {
                "case_code": code,
                "present": True,
                **levels,
                "occupations": truth.occupation_codes[:3] or ["9329"],
                "experience_years": rng.randint(0, 15),
                "licence": _licence(truth.driving_licence),
                "availability": "full_time",
                "shifts": rng.random() < 0.7,
                "mobility_km": rng.choice([10, 20, 30, 40]),
                "consent_confindustria": truth.person.consent_confindustria,
                "consent_cpia": True,
                "skills": skills,
                "languages": languages,
            }
        )
    return results


def literacy_answers(case_codes: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """CPIA outcomes: most pass at A2, some fail and are re-enrolled."""
    out = []
    for code in case_codes:
        passed = rng.random() < 0.7
        level = Cefr.A2.value if passed else Cefr.A1.value
        out.append(
            {
                "case_code": code,
                "outcome": "passed" if passed else "failed",
                "listening": level,
                "reading": level,
                "interaction": level,
                "production": level,
                "writing": level,
            }
        )
    return out


def company_answers(session: Session, path: Path, rng: random.Random, most: int = 40) -> Path | None:
    """Confindustria's answer file: the best-ranked matches still without an answer (the
    shortlist pages took the first ones) interest their companies; None when none is left."""
    rows = session.exec(
        select(Match, Vacancy, Case)
        .join(Vacancy, col(Vacancy.id) == col(Match.vacancy_id))
        .join(Case, col(Case.id) == col(Match.case_id))
        .where(Case.state == State.DISPATCHED)
        .order_by(col(Match.rank), col(Match.id))
    ).all()
    seen: set[str] = set()
    lines = []
    for _match, vacancy, case in rows:
        if case.code in seen or len(seen) >= most:
            continue
        seen.add(case.code)
        answer = "colloquio" if rng.random() < 0.6 else "interessato"
        lines.append([vacancy.company_code, case.code, answer, "", vacancy.code])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Azienda", "Codice profilo", "Esito", "Motivo", "Codice posizione"])
        writer.writerows(lines)
    return path if lines else None


def record_contact_consents(session: Session, rng: random.Random) -> int:
    """Candidates asked by their CPI whether their contact may go to the interested company."""
    n = 0
    for row in session.exec(select(Interest)).all():
        case = session.get(Case, row.case_id)
        if case is not None and rng.random() < 0.8:
            grant_consent(
                session,
                case.person_key,
                ConsentPurpose.CONTACT_TO_COMPANY,
                recipient=row.company_code,
                source="operator:demo",
            )
            n += 1
    return n


def hires_file(session: Session, path: Path, rng: random.Random, today: date) -> Path:
    """The CPI's outcome file: about half of the interviews end in a hire."""
    rows = session.exec(
        select(Case, Interest)
        .join(Interest, col(Interest.case_id) == col(Case.id))
        .where(Case.state == State.INTERVIEW)
    ).all()
    lines, seen = [], set()
    for case, interest in rows:
        if case.code in seen:
            continue
        seen.add(case.code)
        if rng.random() < 0.55:
            lines.append(
                [
                    case.code,
                    "assunto",
                    interest.company_code,
                    rng.choice(["tempo determinato", "tempo indeterminato"]),
                    (today + timedelta(days=7)).strftime("%d/%m/%Y"),
                    rng.choice([180, 365, ""]),
                ]
            )
        else:
            lines.append([case.code, "non selezionato", interest.company_code, "", "", ""])
    with path.open("w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Codice pratica", "Esito", "Azienda", "Tipo contratto", "Data inizio", "Durata giorni"])
        writer.writerows(lines)
    return path


def training_file(session: Session, path: Path, today: date) -> Path:
    """An accredited body's course offer tied to some of Confindustria's positions."""
    # courses for the positions that ranked people nobody hired: those now on the policy route
    policy_matches = (
        select(col(Match.vacancy_id), func.count().label("n"))
        .join(Case, col(Case.id) == col(Match.case_id))
        .where(Case.state == State.POLICY)
        .group_by(col(Match.vacancy_id))
        .subquery()
    )
    vacancies = session.exec(
        select(Vacancy)
        .join(policy_matches, policy_matches.c.vacancy_id == Vacancy.id)
        .where(col(Vacancy.occupation_code).is_not(None))
        .order_by(policy_matches.c.n.desc(), col(Vacancy.id))
    ).all()
    start = today + timedelta(days=45)
    lines = []
    for n, v in enumerate(vacancies[:8]):
        body = ["FORM-OROBICA", "FORM-SERIO-BREMBO", "FORM-MESTIERI-BASSA"][n % 3]
        lines.append(
            [
                body,
                f"Percorso {v.title}",
                v.occupation_code,
                ", ".join(v.skills) or v.title,
                80,
                12,
                start.strftime("%d/%m/%Y"),
                (start + timedelta(days=60)).strftime("%d/%m/%Y"),
                "SI",
                v.code,
                "SI",
                "SI" if n % 2 == 0 else "NO",
            ]
        )
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(
            [
                "Ente di formazione",
                "Titolo corso",
                "Codici ISCO",
                "Competenze",
                "Ore",
                "Posti",
                "Data inizio",
                "Data fine",
                "Cofinanziato",
                "Codice posizione",
                "Tirocinio",
                "Indennità di frequenza",
            ]
        )
        writer.writerows(lines)
    return path


def policy_answers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The operator takes the first proposal (courses closing a gap come first)."""
    return [{**r, "choice": (r.get("options") or [""])[0]} for r in rows]


def progress_registers(session: Session, out_dir: Path, today: date, rng: random.Random) -> list[tuple[Path, str]]:
    """Each provider's register for the measures the operator chose: start, attendance,
    completion and, for many, a hire (courses: at the linked company; other measures: a
    company of the network)."""
    from models.policy import MeasureKind, MeasureStatus, PolicyMeasure, TrainingOffer

    chosen = session.exec(
        select(PolicyMeasure, Case)
        .join(Case, col(Case.id) == col(PolicyMeasure.case_id))
        .where(PolicyMeasure.status == MeasureStatus.CHOSEN)
        .order_by(col(PolicyMeasure.id))
    ).all()
    companies = list(session.exec(select(Vacancy.company_code).distinct()).all())
    by_body: dict[str, list[list[Any]]] = {}
    for measure, case in chosen[:30]:
        offer = session.get(TrainingOffer, measure.training_offer_id) if measure.training_offer_id else None
        provider = offer.body_code if offer else measure.provider_code
        if not provider:
            continue
        d = offer.start if offer else today + timedelta(days=45)
        company = None
        if offer and offer.vacancy_code:
            company = session.exec(select(Vacancy.company_code).where(Vacancy.code == offer.vacancy_code)).one()
        rows = by_body.setdefault(provider, [])
        rows.append([case.code, measure.code, "iscritto", d.strftime("%d/%m/%Y"), "", "", "", ""])
        if measure.kind is MeasureKind.TRAINING and offer is not None:
            rows.append(
                [
                    case.code,
                    measure.code,
                    "frequenza",
                    (d + timedelta(days=30)).strftime("%d/%m/%Y"),
                    int(offer.hours * 0.85),
                    "",
                    "",
                    "",
                ]
            )
            rows.append(
                [case.code, measure.code, "completato", (d + timedelta(days=60)).strftime("%d/%m/%Y"), "", "", "", ""]
            )
        if rng.random() < 0.5:
            rows.append(
                [
                    case.code,
                    measure.code,
                    "assunto",
                    (d + timedelta(days=75)).strftime("%d/%m/%Y"),
                    "",
                    company or rng.choice(companies),
                    "tempo determinato",
                    180,
                ]
            )
    out = []
    for body, rows in by_body.items():
        path = out_dir / f"registro-{body}.csv"
        write_register(path, rows)
        out.append((path, body))
    return out


#: The columns of a provider's progress register (tasks/policy/progress.py reads them).
REGISTER_HEADER = (
    "Codice pratica",
    "Codice misura",
    "Evento",
    "Data",
    "Ore frequentate",
    "Azienda",
    "Tipo contratto",
    "Durata giorni",
)


def write_register(path: Path, rows: Sequence[Sequence[object]]) -> None:
    """A provider's progress register as the demo's and the simulation's operators send it."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(REGISTER_HEADER)
        writer.writerows(rows)


def dedup_answers(session: Session, dataset: DemoDataset, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The operator compares the two records (in the case system, not in Prefect)."""
    out = []
    for r in rows:
        truths = []
        for code in (r["case_code"], r["candidate_code"]):
            case = session.exec(select(Case).where(Case.code == code)).one()
            p = session.exec(select(Person).where(Person.key == case.person_key)).one()
            truth = dataset.lookup(p.family_name, p.given_names, p.birth_date, p.codice_fiscale)
            truths.append(truth.person.key if truth else code)
        out.append({**r, "same_person": truths[0] == truths[1]})
    return out
