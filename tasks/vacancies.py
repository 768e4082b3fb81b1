"""Vacancy stage steps: ingest the positions, find their companies, code them, match the pool,
shortlist; and the coordinators' queue of positions whose company is not known.

A vacancy file names companies as its sender knows them (tasks/files/companies.py): a row is
never refused for its company. A company found in the member registry is recorded with how and
how sure; one that is not waits (status ``awaiting_company``, the rows stored) until a
coordinator assigns it (``incontro assign-company``), and the sender is told once per file. A
position whose deadline (business date, Europe/Rome) has passed is stored closed; only open
positions within their deadline are ever matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from config.data import load_taxonomy
from config.settings import get_settings
from models import clock
from models.cases import Case, Profile
from models.enums import ConsentPurpose, OrgKind, State, VacancyStatus
from models.exchange import CompanyLink, Interest, Match, Vacancy
from models.ops import ImportFile
from models.people import Organisation
from tasks.core.audit import audit_read
from tasks.core.consent import has_consent
from tasks.core.partners import the_org
from tasks.files.companies import HOW_LABELS, CompanyMatch, default_registry, resolve_company
from tasks.files.imports import RowRejected, defer_event, import_rows, start_import
from tasks.files.vacancy_rows import VacancyRow, parse_licence
from tasks.mail.links import PURPOSE_SHORTLIST, page_url
from tasks.mail.outbox import enqueue_email
from tasks.matching.facts import profile_facts, vacancy_facts
from tasks.matching.scoring import SCORING_VERSION, configured_matching, explain, top_k_all_vacancies
from tasks.runtime.db import in_chunks
from tasks.runtime.event_names import VACANCY_RECEIVED
from tasks.runtime.events import EventSpec, queue_event
from tasks.runtime.progress import Progress

__all__ = [
    "AssignRefused",
    "ShortlistEntry",
    "ShortlistUnknown",
    "VacancyRow",
    "WaitingVacancy",
    "assign_company",
    "company_shortlist",
    "ingest_vacancy_file",
    "is_matchable",
    "match_vacancies",
    "parse_licence",
    "proposed_approvals",
    "send_shortlists",
    "validate_approvals",
    "waiting_for_company",
]

ACTOR = "flow:vacancies"
POOL_STATES = (State.PROFILE_READY, State.DISPATCHED, State.NOT_SELECTED, State.POLICY)
#: The email that tells the sender which companies of its file are not known (once per file).
COMPANY_UNKNOWN = "vacancy_company_unknown"


def ingest_vacancy_file(session: Session, path: Path, sender_code: str) -> tuple[int | None, dict[str, Any]]:
    """Store every valid position (coded to the taxonomy, its company found or waiting); bad rows
    kept with all their errors and reported to the sender.

    Vacancy files are small: the whole file is read (and any whole-file failure raised as
    :class:`FileRejected`) before anything is written; the same bytes again change nothing.
    The counts say how many positions were stored closed (deadline passed) and how many wait
    for their company; ``companies`` says, per stored row, which company and how it was found
    (codes and Italian labels only: the result may reach Prefect).
    """
    from tasks.matching.occupations import default_coder
    from tasks.matching.skills import code_requirements

    imp, table = start_import(session, path, kind="vacancy", sender_code=sender_code, required=["company", "title"])
    if table is None:
        return imp.id, {"already_imported": 1}
    assert imp.id is not None
    import_id = imp.id
    coder = default_coder()
    today = clock.today()
    found: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []
    closed: list[int] = []

    def add(number: int, row: VacancyRow) -> str:
        company = _member(session, resolve_company(row.company, row.vat))
        status = VacancyStatus.OPEN if company.code else VacancyStatus.AWAITING_COMPANY
        if row.valid_until is not None and row.valid_until < today:
            status = VacancyStatus.CLOSED  # stored, never matched: its deadline has passed
            closed.append(number)
        # The best code is stored with the coder's confidence, not its raw score: below
        # CONFIRM_BELOW it is to confirm (Coding.to_confirm; incontro occupation-queue), and matching
        # still has a code to use (tasks/matching/vacancy_codes.py says why it does not wait).
        coding = coder.suggest(row.title)
        code = f"VAC-{import_id:04d}-{number:04d}"
        session.add(
            Vacancy(
                code=code,
                company_code=company.code,
                company_written=row.company,
                company_vat=company.vat,
                company_match=company.how,
                company_confidence=company.confidence,
                company_reason=company.explanation,
                status=status,
                title=row.title,
                occupation_code=coding.candidates[0][0] if coding.candidates else None,
                occupation_score=coding.confidence if coding.candidates else None,
                skills=row.skills,
                skill_codes=code_requirements(row.skills),
                italian_required=row.italian_required,
                licence_required=row.licence,
                municipality=row.municipality,
                contract=row.contract,
                openings=row.openings,
                valid_until=row.valid_until,
                import_file_id=import_id,
            )
        )
        found.append({"row": number, "vacancy": code, "company": company.code, "match": company.label})
        if status is VacancyStatus.AWAITING_COMPANY:
            waiting.append(_waiting_row(number, code, row, company))
        return "accepted"

    counts: dict[str, Any] = {"accepted": 0, "rejected": 0}
    counts.update(import_rows(session, imp, table, lambda raw: _vacancy_row(raw), add))
    counts["closed"] = len(closed)
    counts["awaiting_company"] = len(waiting)
    counts["companies"] = found
    if waiting:
        _tell_sender(session, imp, waiting)
    defer_event(  # announced by the import's last step (finish_import): a killed run cannot lose it
        imp,
        EventSpec(
            name=VACANCY_RECEIVED,
            resource_id=f"incontro.import.{imp.id}",
            payload={"vacancies": counts.get("accepted", 0), "import_id": imp.id},
        ),
    )
    return imp.id, counts


def _vacancy_row(raw: dict[str, Any]) -> VacancyRow:
    """The validated position, or every error of the row."""
    try:
        return VacancyRow.model_validate(raw)
    except ValidationError as exc:
        raise RowRejected.from_validation(exc, "company") from None


def _member(session: Session, found: CompanyMatch) -> CompanyMatch:
    """The registry's answer, unless its company is missing from the organisation table."""
    if found.code is None or session.get(Organisation, found.code) is not None:
        return found
    why = f"{found.explanation}; {found.code} non è nell'anagrafica delle organizzazioni"
    return CompanyMatch("unknown", 0, why, vat=found.vat, suggestions=(found.code,))


def _waiting_row(number: int, code: str, row: VacancyRow, company: CompanyMatch) -> dict[str, Any]:
    """A row of the sender's email: what the file said, why it is not known, what it may be."""
    names = {e.code: e.name for e in default_registry().entries}
    return {
        "row": number,
        "vacancy_code": code,
        "title": row.title,
        "company": row.company or "",
        "vat": row.vat or "",
        "reason": company.explanation,
        "suggestions": [names[c] for c in company.suggestions if c in names],
    }


def _tell_sender(session: Session, imp: ImportFile, rows: list[dict[str, Any]]) -> None:
    """One email per file to its sender (Confindustria): the positions kept waiting and why."""
    sender = session.get(Organisation, imp.sender_code)
    if sender is None:
        return
    coordinator = the_org(session, OrgKind.COORDINATOR)
    enqueue_email(
        session,
        key=f"import:{imp.id}:{COMPANY_UNKNOWN}",
        kind=COMPANY_UNKNOWN,
        recipient=sender.email,
        recipient_code=sender.code,
        reply_to=coordinator.email,
        context={
            "file_name": imp.filename,
            "rows": rows,
            "sender_name": sender.name,
            "contact_email": coordinator.email,
            "unused_columns": (imp.notices or {}).get("unused_columns", []),
        },
    )


def match_vacancies(session: Session, import_id: int, *, today: date) -> dict[str, int]:
    """Score the pool against the file's new vacancies and store the top-k with parts and explanation.

    Only positions open on ``today`` are scored (:func:`is_matchable`): never one whose deadline
    has passed or whose company is not known yet; one already matched with this scoring version
    is left as it is (idempotent). The rest are ranked together, in one call over the pool's
    arrays, with the weights, maximum distance and k of config/routing.yaml
    (:func:`configured_matching`). Nothing is sent here: the operator approves the shortlists
    first (``send_shortlists``).
    """
    every = _import_vacancies(session, import_id)
    vacancies = [v for v in every if is_matchable(v, today)]
    matched = _already_matched(session, [v.id for v in vacancies if v.id is not None])
    todo = [v for v in vacancies if v.id not in matched]
    counts = {"vacancies": len(vacancies), "matches": 0, "pool": 0, "not_open": len(every) - len(vacancies)}
    if not todo:
        counts["pool"] = _pool_size(session)
        return counts
    pool = session.exec(
        select(Case, Profile)
        .join(Profile, col(Profile.case_id) == col(Case.id))
        .where(col(Case.state).in_(POOL_STATES))
    ).all()
    facts = [profile_facts(c, p) for c, p in pool]
    case_ids = {c.code: c.id for c, _ in pool}
    weights, max_km, k = configured_matching()
    wanted = {v.code: vacancy_facts(v) for v in todo}
    ranked = top_k_all_vacancies(list(wanted.values()), facts, k, weights, max_km)
    stored = 0
    progress = Progress("matching", len(todo), "Graduatorie delle posizioni registrate")
    for vacancy in progress.track(todo):
        assert vacancy.id is not None
        vf = wanted[vacancy.code]
        for rank, (profile, result) in enumerate(ranked[vacancy.code], start=1):
            case_id = case_ids[profile.case_code]
            assert case_id is not None
            session.add(
                Match(
                    vacancy_id=vacancy.id,
                    case_id=case_id,
                    score=result.score,
                    parts=result.parts,
                    explanation=explain(result.parts, profile, vf, max_km),
                    version=SCORING_VERSION,
                    rank=rank,
                )
            )
            stored += 1
    progress.finish()
    return counts | {"matches": stored, "pool": len(facts)}


def _already_matched(session: Session, vacancy_ids: list[int]) -> set[int]:
    """Which of these vacancies have matches of this scoring version (a rerun scores only the rest)."""
    found: set[int] = set()
    for chunk in in_chunks(vacancy_ids):
        found |= set(
            session.exec(
                select(Match.vacancy_id).where(col(Match.vacancy_id).in_(chunk), Match.version == SCORING_VERSION)
            ).all()
        )
    return found


def _pool_size(session: Session) -> int:
    """How many profiles matching would compare (what the stage reports when nothing is new)."""
    return session.exec(
        select(func.count())
        .select_from(Case)
        .join(Profile, col(Profile.case_id) == col(Case.id))
        .where(col(Case.state).in_(POOL_STATES))
    ).one()


def is_matchable(vacancy: Vacancy, day: date) -> bool:
    """Open, its company known, and within its deadline on ``day`` (the last day counts)."""
    return (
        vacancy.status == VacancyStatus.OPEN
        and vacancy.company_code is not None
        and (vacancy.valid_until is None or vacancy.valid_until >= day)
    )


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


def proposed_approvals(
    session: Session, import_id: int, top: int = 3, *, today: date | None = None
) -> list[dict[str, Any]]:
    """The approval form's starting point: per open vacancy not yet decided, the best ``top``
    case codes (a rerun after a company was assigned asks only about what is new)."""
    day = today or clock.today()
    out = []
    for vacancy in _import_vacancies(session, import_id):
        ranked = _ranked(session, vacancy)
        if not is_matchable(vacancy, day) or (ranked and all(m.approved is not None for m, _ in ranked)):
            continue
        out.append({"vacancy_code": vacancy.code, "approved": [c.code for m, c in ranked[:top] if m.approved is None]})
    return out


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
    none fits, the proposal to activate a policy) to the labour-market service; the vacancy's
    company gets a signed link to the approved profiles whose person consents to the share.
    Returns the shortlists emailed to the labour-market service."""
    from tasks.matching.vacancy_codes import is_unsure  # here: the stage starts without numpy/rapidfuzz

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
                **({"notes": UNSURE_NOTE} if is_unsure(vacancy) else {}),  # matched on an unsure code
            },
        ):
            sent += 1
        if company is not None:  # and the company gets its page of the consenting profiles
            _send_to_company(session, vacancy, company, shortlist)
    return sent


#: The shortlist email's note when nobody has confirmed the position's unsure occupation code:
#: it was matched on the coder's best guess (tasks/matching/vacancy_codes.py).
UNSURE_NOTE = (
    "La professione indicata è stata attribuita automaticamente dal titolo della posizione, con poca "
    "sicurezza, e nessun operatore l'ha ancora confermata: valutate i candidati anche rispetto al titolo."
)

#: The kind of email a vacancy's company receives with the link to its shortlist page.
COMPANY_SHORTLIST = "company_shortlist"


def _send_to_company(
    session: Session, vacancy: Vacancy, company: Organisation, shortlist: list[dict[str, Any]]
) -> bool:
    """The approved profiles whose person consents to the share go to the vacancy's company as one
    signed page (portal/companies), recorded as a ``company_link``; False when none may go."""
    codes = [str(r["case_code"]) for r in shortlist]
    keys = dict(
        session.exec(select(Case.code, Case.person_key).where(col(Case.code).in_(codes))).all()  # type: ignore[arg-type]
    )
    shared = [c for c in codes if has_consent(session, keys[c], ConsentPurpose.PROFILE_TO_CONFINDUSTRIA)]
    if (
        not shared
        or session.exec(
            select(CompanyLink.id).where(CompanyLink.kind == "shortlist", CompanyLink.subject_code == vacancy.code)
        ).first()
    ):
        return False
    key = f"vacancy:{vacancy.code}:company:{company.code}"
    enqueue_email(
        session,
        key=key,
        kind=COMPANY_SHORTLIST,
        recipient=company.email,
        recipient_code=company.code,
        context={
            "company_name": company.name,
            "vacancy_code": vacancy.code,
            "vacancy_title": vacancy.title,
            "count": len(shared),
            "url": page_url(PURPOSE_SHORTLIST, company.code, vacancy.code),
            "link_days": get_settings().portal_link_ttl_days,
        },
    )
    session.add(
        CompanyLink(
            kind="shortlist",
            subject_code=vacancy.code,
            company_code=company.code,
            case_codes=shared,
            sent_at=clock.utcnow(),
            sent_by=ACTOR,
            outbox_key=key,
        )
    )
    return True


@dataclass(frozen=True)
class ShortlistEntry:
    """One profile of a company's shortlist page: its match, case, profile and the answer so far."""

    match: Match
    case: Case
    profile: Profile
    interest: Interest | None


class ShortlistUnknown(LookupError):
    """No shortlist of that vacancy was sent to that company."""


def company_shortlist(session: Session, vacancy_code: str, company_code: str) -> tuple[Vacancy, list[ShortlistEntry]]:
    """What the company's shortlist page shows: the profiles sent to it for the vacancy, in rank
    order, only while the person still consents to the share."""
    vacancy = session.exec(select(Vacancy).where(Vacancy.code == vacancy_code)).first()
    link = session.exec(
        select(CompanyLink).where(
            CompanyLink.kind == "shortlist",
            CompanyLink.subject_code == vacancy_code,
            CompanyLink.company_code == company_code,
        )
    ).first()
    if vacancy is None or link is None or vacancy.company_code != company_code:
        raise ShortlistUnknown(vacancy_code)
    sent = set(link.case_codes)
    out = []
    for match, case in _ranked(session, vacancy):
        if case.code not in sent or not has_consent(session, case.person_key, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA):
            continue
        profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
        if profile is None:
            continue
        interest = session.exec(
            select(Interest).where(
                Interest.company_code == company_code, Interest.case_id == case.id, Interest.vacancy_id == vacancy.id
            )
        ).first()
        out.append(ShortlistEntry(match, case, profile, interest))
    return vacancy, out


# --------------------------------------------------------------------------- the coordinators' queue


class AssignRefused(ValueError):
    """An assignment that cannot be made; the message says why, in Italian, with codes only."""


@dataclass(frozen=True)
class WaitingVacancy:
    """A position waiting for its company: the company as the file wrote it (a business name,
    Confindustria's words), why it was not found, and the registry codes it may be."""

    code: str
    import_id: int | None
    company_written: str
    reason: str
    suggestions: tuple[str, ...]
    valid_until: date | None


def waiting_for_company(session: Session, limit: int | None = None) -> list[WaitingVacancy]:
    """The queue, oldest first."""
    query = select(Vacancy).where(Vacancy.status == VacancyStatus.AWAITING_COMPANY).order_by(col(Vacancy.id))
    rows = session.exec(query.limit(limit) if limit else query).all()
    out = []
    for v in rows:
        found = resolve_company(v.company_written, v.company_vat)  # the suggestions of today's registry
        label = HOW_LABELS.get(v.company_match or "unknown", HOW_LABELS["unknown"])
        out.append(
            WaitingVacancy(v.code, v.import_file_id, v.company_written or "", label, found.suggestions, v.valid_until)
        )
    return out


def assign_company(
    session: Session, vacancy_code: str, company_code: str, *, actor: str, today: date | None = None
) -> Vacancy:
    """Give a waiting position its company: it opens (and the matching of its file runs again,
    scoring only what is new) or, past its deadline, closes. Returns the vacancy; an audit row
    says who. Inside the caller's transaction; the matching event goes on commit."""
    company = session.get(Organisation, company_code)
    if company is None or company.kind != OrgKind.COMPANY:
        codes = ", ".join(sorted(e.code for e in default_registry().entries))
        raise AssignRefused(f"azienda {company_code[:40]} sconosciuta; codici validi: {codes}")
    vacancy = session.exec(select(Vacancy).where(Vacancy.code == vacancy_code)).first()
    if vacancy is None:
        raise AssignRefused(f"posizione {vacancy_code[:40]} inesistente")
    if vacancy.status != VacancyStatus.AWAITING_COMPANY:
        has = f" (azienda {vacancy.company_code})" if vacancy.company_code else ""
        state = "aperta" if vacancy.status == VacancyStatus.OPEN else "chiusa"
        raise AssignRefused(
            f"la posizione {vacancy.code} non è in attesa di un'azienda: è {state}{has} "
            "(l'elenco delle posizioni in attesa: incontro vacancy-queue)"
        )
    day = today or clock.today()
    vacancy.company_code = company.code
    vacancy.company_match, vacancy.company_confidence = "manual", 100
    vacancy.company_reason = f"{HOW_LABELS['manual']}: {company.name} (prima: {vacancy.company_reason or '—'})"[:500]
    expired = vacancy.valid_until is not None and vacancy.valid_until < day
    vacancy.status = VacancyStatus.CLOSED if expired else VacancyStatus.OPEN
    session.add(vacancy)
    audit_read(
        session, actor=actor, case_code=None, action="assign_company", purpose=f"{vacancy.code} → {company.code}"
    )
    if vacancy.status == VacancyStatus.OPEN and vacancy.import_file_id is not None:
        queue_event(  # the same event as an import: the matching stage scores what is new
            session,
            EventSpec(
                name=VACANCY_RECEIVED,
                resource_id=f"incontro.import.{vacancy.import_file_id}.company-{vacancy.code}",
                payload={"vacancies": 1, "import_id": vacancy.import_file_id},
            ),
        )
    return vacancy
