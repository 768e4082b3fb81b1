"""Dispatch stage steps: pseudonymous profile sheets to Confindustria, consent-gated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from config.data import load_organisations
from config.settings import get_settings
from models.cases import Case, Profile
from models.clock import utcnow
from models.enums import ConsentPurpose, OrgKind, State
from models.exchange import DispatchBatch, DispatchItem
from tasks.core.consent import valid_consent_clause
from tasks.core.partners import org_of_kind, the_org
from tasks.core.profiles import profile_row
from tasks.core.transitions import transition_many
from tasks.files.sheets import XLSX, profiles_xlsx
from tasks.mail.links import answer_url
from tasks.mail.outbox import enqueue_email
from tasks.runtime.db import in_chunks

ACTOR = "flow:dispatch"
LINKS_PER_PROFILE = 3


def shareable_profiles(session: Session, case_codes: list[str] | None = None) -> list[tuple[Case, Profile]]:
    """PROFILE_READY (or NOT_SELECTED, back in the pool) cases whose person consents to the share."""
    query = (
        select(Case, Profile)
        .join(Profile, col(Profile.case_id) == col(Case.id))
        .where(
            col(Case.state).in_([State.PROFILE_READY, State.NOT_SELECTED]),
            valid_consent_clause(col(Case.person_key), ConsentPurpose.PROFILE_TO_CONFINDUSTRIA),
        )
    )
    if case_codes:
        query = query.where(col(Case.code).in_(case_codes))
    return [(c, p) for c, p in session.exec(query.order_by(col(Case.id))).all()]


def companies_for(occupations: list[str], sectors: dict[str, list[str]], limit: int = LINKS_PER_PROFILE) -> list[str]:
    """Companies whose sectors cover the profile's ISCO codes, best first (at most ``limit``).

    A profile code meets a company sector when they are the same unit group, share the minor
    group (first three digits: a 7214 fitter and a 7212 welding shop), or the sector is the
    whole major group (one digit). Ranked by those three counts, then by code, so the same batch
    always lists the same companies.
    """
    ranked = []
    for company, codes in sectors.items():
        units = [c for c in codes if len(c) == 4]
        exact = sum(1 for c in occupations if c in codes)
        minor = sum(1 for c in occupations if any(u[:3] == c[:3] for u in units))
        major = sum(1 for c in occupations if c[:1] in codes)
        if exact or minor or major:
            ranked.append((-exact, -minor, -major, company))
    return [company for *_, company in sorted(ranked)[:limit]]


def answer_links(
    session: Session, rows: list[dict[str, Any]], pairs: Sequence[tuple[Case, Profile]]
) -> list[dict[str, Any]]:
    """Email rows with signed answer links: one per company of the profile's sectors (max 3).

    Confindustria forwards each profile to the companies named next to its links; each link lets
    only that company answer about only that profile (tasks/mail/links.py), without an account.
    """
    known = {o.code: o.name for o in org_of_kind(session, OrgKind.COMPANY)}
    sectors = {o.code: o.sectors for o in load_organisations() if o.code in known}
    out = []
    for row, (case, profile) in zip(rows, pairs, strict=True):
        links = [
            {"company_code": code, "company_name": known[code], "url": answer_url(code, case.code)}
            for code in companies_for(profile.occupations, sectors)
        ]
        out.append({**row, "links": links})
    return out


@dataclass
class DispatchSummary:
    batch_codes: list[str] = field(default_factory=list)
    case_codes: list[str] = field(default_factory=list)


def dispatch_profiles(
    session: Session,
    *,
    today: date,
    batch_code: str | None = None,
    case_codes: list[str] | None = None,
    max_profiles: int | None = None,
    flow_run_id: str | None = None,
) -> DispatchSummary:
    """Every shareable profile, in batches of at most ``dispatch_max_profiles``: one sheet and
    one email each, so a backlog reaches Confindustria as mails a person can read and forward.

    Batch codes are DSP-<yyyymmdd>-<n>, or ``batch_code``, ``batch_code``-02, ... when given; a
    ``batch_code`` already sent makes the call a no-op (a rerun sends nothing twice).
    """
    if batch_code and session.exec(select(DispatchBatch).where(DispatchBatch.code == batch_code)).first():
        return DispatchSummary(batch_codes=[batch_code])
    pairs = shareable_profiles(session, case_codes)
    size = max_profiles or get_settings().dispatch_max_profiles
    summary = DispatchSummary()
    for n, chunk in enumerate(in_chunks(pairs, size), start=1):
        if batch_code:
            code = batch_code if n == 1 else f"{batch_code}-{n:02d}"
        else:
            code = next_batch_code(session, today)  # sees the batches flushed just before
        _send_batch(session, code, chunk, today, flow_run_id)
        summary.batch_codes.append(code)
    summary.case_codes = [c.code for c, _ in pairs]
    return summary


def _send_batch(
    session: Session, batch_code: str, pairs: Sequence[tuple[Case, Profile]], today: date, flow_run_id: str | None
) -> None:
    """One batch: its rows, its cases to DISPATCHED, its sheet and email to Confindustria."""
    confindustria = the_org(session, OrgKind.CONFINDUSTRIA)
    batch = DispatchBatch(
        code=batch_code, recipient_code=confindustria.code, profile_count=len(pairs), sent_at=utcnow()
    )
    session.add(batch)
    session.flush()
    assert batch.id is not None
    rows = [profile_row(c, p) for c, p in pairs]
    case_ids = [case.id for case, _ in pairs if case.id is not None]
    session.add_all([DispatchItem(batch_id=batch.id, case_id=case_id) for case_id in case_ids])
    moves = [(case, f"batch:{batch_code}") for case, _ in pairs]
    transition_many(session, moves, State.DISPATCHED, actor=ACTOR, flow_run_id=flow_run_id)
    sheet = profiles_xlsx(rows, title=f"Profili {batch_code}")
    enqueue_email(
        session,
        key=f"batch:{batch_code}:confindustria",
        kind="dispatch_confindustria",
        recipient=confindustria.email,
        recipient_code=confindustria.code,
        context={
            "batch_code": batch_code,
            "count": len(rows),
            "profiles": answer_links(session, rows, pairs),
            "date": today,
            "link_days": get_settings().portal_link_ttl_days,
        },
        attachments=[(f"profili-{batch_code}.xlsx", XLSX, sheet)],
    )


def next_batch_code(session: Session, today: date) -> str:
    """DSP-<yyyymmdd>-<n>: one more than the highest number sent that day (codes an operator
    chose by hand, such as DSP-<date>-05 or DSP-<date>-01-02, never collide with it)."""
    prefix = f"DSP-{today:%Y%m%d}-"
    codes = session.exec(select(DispatchBatch.code).where(col(DispatchBatch.code).startswith(prefix))).all()
    numbers = [int(code[len(prefix) :]) for code in codes if code[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"
