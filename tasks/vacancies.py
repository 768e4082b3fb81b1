"""Vacancy stage steps: ingest Confindustria's positions, code them, match the pool, shortlist."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator
from sqlmodel import Session, col, select

from config.data import load_routing, load_taxonomy
from models.cases import Case, Profile
from models.enums import Cefr, Licence, OrgKind, State
from models.exchange import Match, Vacancy
from models.people import Organisation
from tasks.core.partners import the_org
from tasks.files.imports import RowRejected, context_session, defer_event, import_rows, start_import
from tasks.files.rows import parse_level, required_text, safe_value
from tasks.files.tabular import parse_date
from tasks.mail.outbox import enqueue_email
from tasks.matching.facts import profile_facts, vacancy_facts
from tasks.matching.scoring import SCORING_VERSION, explain, top_k_for_vacancy
from tasks.runtime.event_names import VACANCY_RECEIVED
from tasks.runtime.events import EventSpec
from tasks.runtime.progress import Progress

ACTOR = "flow:vacancies"
POOL_STATES = (State.PROFILE_READY, State.DISPATCHED, State.NOT_SELECTED, State.POLICY)


def parse_licence(value: Any) -> Licence:
    """``B``, ``patente B``, ``C``, ``muletto``; empty or ``no`` means none."""
    text = "" if value is None else str(value).strip().casefold().replace("patente", "").strip()
    if text in ("", "no", "nessuna", "none", "-"):
        return Licence.NONE
    if "mulett" in text or "carrell" in text or "forklift" in text:
        return Licence.FORKLIFT
    for lic in (Licence.CE, Licence.C, Licence.D, Licence.B):
        if text.upper() == lic.value or text.upper().startswith(lic.value + " "):
            return lic
    raise ValueError(f"patente «{text[:10]}» non riconosciuta (B, C, CE, D, muletto, nessuna)")


class VacancyRow(BaseModel):
    """One open position as Confindustria sends it; Italian errors per column."""

    company: str
    title: str
    municipality: str | None = None
    skills: list[str] = []
    italian_required: Cefr = Cefr.A2
    licence: Licence = Licence.NONE
    contract: str | None = None
    openings: int = 1
    valid_until: date | None = None

    @field_validator("company", "title", mode="before")
    @classmethod
    def _required(cls, v: Any) -> str:
        return required_text(v)

    @field_validator("company")
    @classmethod
    def _member(cls, v: str, info: ValidationInfo) -> str:
        session = context_session(info)
        if session is not None and session.get(Organisation, v) is None:
            raise ValueError("azienda non associata a Confindustria Bergamo (usare il codice azienda)")
        return v

    @field_validator("skills", mode="before")
    @classmethod
    def _skills(cls, v: Any) -> list[str]:
        return [s.strip() for s in str(v or "").replace(";", ",").split(",") if s.strip()]

    @field_validator("italian_required", mode="before")
    @classmethod
    def _level(cls, v: Any) -> Cefr:
        return parse_level(v) or Cefr.A2

    @field_validator("licence", mode="before")
    @classmethod
    def _licence(cls, v: Any) -> Licence:
        return parse_licence(v)

    @field_validator("valid_until", mode="before")
    @classmethod
    def _date(cls, v: Any) -> date | None:
        return None if v in (None, "") else parse_date(v)

    @field_validator("openings", mode="before")
    @classmethod
    def _openings(cls, v: Any) -> int:
        text = "" if v is None else str(v).strip()
        if not text:
            return 1
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValueError(f"numero di posti «{safe_value(text)[:10]}» non valido: scrivere un numero") from None
        if not number.is_integer() or not 1 <= number <= 1000:
            raise ValueError("numero di posti non valido: un intero da 1 a 1000")
        return int(number)


def ingest_vacancy_file(session: Session, path: Path, sender_code: str) -> tuple[int | None, dict[str, int]]:
    """Store every valid position (coded to the taxonomy); bad rows kept with all their errors
    and reported to the sender.

    Vacancy files are small: the whole file is read (and any whole-file failure raised as
    :class:`FileRejected`) before anything is written; the same bytes again change nothing.
    """
    from tasks.matching.occupations import default_coder

    imp, table = start_import(session, path, kind="vacancy", sender_code=sender_code, required=["company", "title"])
    if table is None:
        return imp.id, {"already_imported": 1}
    assert imp.id is not None
    import_id = imp.id
    coder = default_coder()

    def add(number: int, row: VacancyRow) -> str:
        best = coder.code(row.title, k=1)
        session.add(
            Vacancy(
                code=f"VAC-{import_id:04d}-{number:04d}",
                company_code=row.company,
                title=row.title,
                occupation_code=best[0][0] if best else None,
                occupation_score=best[0][1] if best else None,
                skills=row.skills,
                italian_required=row.italian_required,
                licence_required=row.licence,
                municipality=row.municipality,
                contract=row.contract,
                openings=row.openings,
                valid_until=row.valid_until,
                import_file_id=import_id,
            )
        )
        return "accepted"

    counts = import_rows(session, imp, table, lambda raw: _vacancy_row(session, raw), add)
    defer_event(  # announced by the import's last step (finish_import): a killed run cannot lose it
        imp,
        EventSpec(
            name=VACANCY_RECEIVED,
            resource_id=f"incontro.import.{imp.id}",
            payload={"vacancies": counts["accepted"], "import_id": imp.id},
        ),
    )
    return imp.id, dict(counts)


def _vacancy_row(session: Session, raw: dict[str, Any]) -> VacancyRow:
    """The validated position, or every error of the row (fields, unknown company)."""
    try:
        return VacancyRow.model_validate(raw, context={"session": session})
    except ValidationError as exc:
        raise RowRejected.from_validation(exc, "company") from None


def match_vacancies(session: Session, import_id: int, *, today: date) -> dict[str, int]:
    """Score the pool against each new vacancy and store the top-k with parts and explanation.

    Nothing is sent here: the operator approves the shortlists first (``send_shortlists``).
    """
    vacancies = _import_vacancies(session, import_id)
    pool = session.exec(
        select(Case, Profile)
        .join(Profile, col(Profile.case_id) == col(Case.id))
        .where(col(Case.state).in_(POOL_STATES))
    ).all()
    facts = [profile_facts(c, p) for c, p in pool]
    case_ids = {c.code: c.id for c, _ in pool}
    k = load_routing().matching.top_k
    stored = 0
    progress = Progress("matching", len(vacancies), "Posizioni confrontate con il bacino")
    for vacancy in progress.track(vacancies):
        if session.exec(select(Match).where(Match.vacancy_id == vacancy.id, Match.version == SCORING_VERSION)).first():
            continue  # already matched with this scoring version: idempotent
        vf = vacancy_facts(vacancy)
        assert vacancy.id is not None
        for rank, (profile, result) in enumerate(top_k_for_vacancy(vf, facts, k), start=1):
            case_id = case_ids[profile.case_code]
            assert case_id is not None
            session.add(
                Match(
                    vacancy_id=vacancy.id,
                    case_id=case_id,
                    score=result.score,
                    parts=result.parts,
                    explanation=explain(result.parts, profile, vf),
                    version=SCORING_VERSION,
                    rank=rank,
                )
            )
            stored += 1
    progress.finish()
    return {"vacancies": len(vacancies), "matches": stored, "pool": len(facts)}


def _import_vacancies(session: Session, import_id: int) -> list[Vacancy]:
    return list(
        session.exec(select(Vacancy).where(Vacancy.import_file_id == import_id).order_by(col(Vacancy.id))).all()
    )


def _ranked(session: Session, vacancy: Vacancy) -> list[tuple[Match, Case]]:
    return [
        (m, c)
        for m, c in session.exec(
            select(Match, Case)
            .join(Case, col(Case.id) == col(Match.case_id))
            .where(Match.vacancy_id == vacancy.id, Match.version == SCORING_VERSION)
            .order_by(col(Match.rank))
        ).all()
    ]


def proposed_approvals(session: Session, import_id: int, top: int = 3) -> list[dict[str, Any]]:
    """The approval form's starting point: per vacancy, the best ``top`` case codes."""
    return [
        {"vacancy_code": v.code, "approved": [c.code for m, c in _ranked(session, v)[:top] if m.approved is None]}
        for v in _import_vacancies(session, import_id)
    ]


def validate_approvals(session: Session, import_id: int, rows: list[dict[str, Any]]) -> list[str]:
    """An operator may only approve case codes from the vacancy's own ranking."""
    problems = []
    by_code = {v.code: v for v in _import_vacancies(session, import_id)}
    for row in rows:
        vacancy = by_code.get(str(row.get("vacancy_code")))
        if vacancy is None:
            problems.append(f"posizione {row.get('vacancy_code')} non presente in questo file")
            continue
        ranked = {c.code for _, c in _ranked(session, vacancy)}
        extra = sorted(set(row.get("approved") or []) - ranked)
        if extra:
            problems.append(f"{vacancy.code}: pratiche non in graduatoria: {', '.join(extra)}")
    return problems


def send_shortlists(session: Session, import_id: int, rows: list[dict[str, Any]]) -> int:
    """Record the operator's approval on each match and email the approved shortlists (or, when
    none fits, the proposal to activate a policy) to the labour-market service."""
    labour = the_org(session, OrgKind.LABOUR_SERVICE)
    tax = load_taxonomy().by_code
    approved = {str(r["vacancy_code"]): set(r.get("approved") or []) for r in rows}
    sent = 0
    for vacancy in _import_vacancies(session, import_id):
        if vacancy.code not in approved:
            continue
        shortlist = []
        for match, case in _ranked(session, vacancy):
            match.approved = case.code in approved[vacancy.code]
            session.add(match)
            if match.approved:
                shortlist.append(
                    {
                        "rank": match.rank,
                        "case_code": case.code,
                        "score": round(match.score, 1),
                        "explanation": match.explanation,
                    }
                )
        company = session.get(Organisation, vacancy.company_code)
        occupation = tax[vacancy.occupation_code].it if vacancy.occupation_code in tax else "non codificata"
        if enqueue_email(
            session,
            key=f"vacancy:{vacancy.code}:shortlist:{SCORING_VERSION}",
            kind="vacancy_shortlist",
            recipient=labour.email,
            recipient_code=labour.code,
            context={
                "vacancy_code": vacancy.code,
                "vacancy_title": vacancy.title,
                "company_name": company.name if company else vacancy.company_code,
                "occupation": f"{occupation} ({vacancy.occupation_code})",
                "rows": shortlist,
                "policy_hint": not shortlist,
            },
        ):
            sent += 1
    return sent
