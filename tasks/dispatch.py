"""Dispatch stage steps: pseudonymous profiles to Confindustria, consent-gated, then on to the
member companies of their sectors.

The email to Confindustria is a summary and one signed link to the batch's page
(portal/companies): mail clients clip messages above ~100 KB, so profiles and links never ride
in it. From that page Confindustria sends each member company its own link, with the profiles
of its sectors, in one click per company (or all); each send is a ``company_link`` row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from config.data import load_organisations
from config.settings import get_settings
from models.cases import Case, Profile
from models.clock import utcnow
from models.enums import ConsentPurpose, OrgKind, State
from models.exchange import CompanyLink, DispatchBatch, DispatchItem
from models.people import Organisation
from tasks.core.consent import valid_consent_clause
from tasks.core.partners import org_of_kind, the_org
from tasks.core.profiles import profile_row
from tasks.core.transitions import transition_many
from tasks.files.sheets import XLSX, profiles_xlsx
from tasks.mail.links import PURPOSE_BATCH, PURPOSE_COMPANY_BATCH, page_url
from tasks.mail.outbox import enqueue_email
from tasks.runtime.db import in_chunks

ACTOR = "flow:dispatch"
LINKS_PER_PROFILE = 3
#: The kind of email a member company receives with its page of a batch's profiles.
COMPANY_PROFILES = "company_profiles"
#: Occupations named in the summary email (the rest are counted as "other").
SUMMARY_OCCUPATIONS = 8


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
    """Every shareable profile, in batches of at most ``dispatch_max_profiles``: one batch page and
    one short email each (with its sheet), so a backlog reaches Confindustria as pages a person
    can work through.

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
    """One batch: its rows, its cases to DISPATCHED, the summary email with its page's link and sheet."""
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
    shares = _shares(session, pairs)
    enqueue_email(
        session,
        key=f"batch:{batch_code}:confindustria",
        kind="dispatch_confindustria",
        recipient=confindustria.email,
        recipient_code=confindustria.code,
        context={
            "batch_code": batch_code,
            "count": len(rows),
            "profiles": [],
            "batch_url": page_url(PURPOSE_BATCH, confindustria.code, batch_code),
            "occupations": occupation_summary(rows),
            "companies": len(shares),
            "unmatched": len(pairs) - len({c for codes in shares.values() for c in codes}),
            "date": today,
            "link_days": get_settings().portal_link_ttl_days,
            "attachment_name": f"profili-{batch_code}.xlsx",
        },
        attachments=[(f"profili-{batch_code}.xlsx", XLSX, profiles_xlsx(rows, title=f"Profili {batch_code}"))],
    )


def occupation_summary(rows: Iterable[dict[str, Any]], limit: int = SUMMARY_OCCUPATIONS) -> list[dict[str, Any]]:
    """The batch's profiles by first occupation (Italian label, how many, their codes), most
    frequent first: what Confindustria reads in the email before opening the page."""
    codes: dict[str, list[str]] = {}
    for row in rows:
        first = str(row.get("occupations") or "").split(", ")[0].strip()
        codes.setdefault(first or "professione non indicata", []).append(str(row["profile_code"]))
    top = sorted(codes.items(), key=lambda item: (-len(item[1]), item[0]))
    out: list[dict[str, Any]] = [{"label": label, "count": len(c), "codes": c} for label, c in top[:limit]]
    rest = [code for _, c in top[limit:] for code in c]
    if rest:
        out.append({"label": "altre professioni", "count": len(rest), "codes": rest})
    return out


# ------------------------------------------------------------------------- the batch page


@dataclass(frozen=True)
class CompanyShare:
    """One member company on a batch page: its profiles of the batch and whether they went out."""

    company_code: str
    company_name: str
    case_codes: tuple[str, ...]
    sent_at: Any = None
    sent_codes: tuple[str, ...] = ()


class BatchUnknown(LookupError):
    """No batch with that code (or not one the page may show)."""


def batch_profiles(session: Session, batch_code: str) -> list[tuple[Case, Profile]]:
    """The batch's profiles whose person still consents to the share, in the batch's order."""
    batch = session.exec(select(DispatchBatch).where(DispatchBatch.code == batch_code)).first()
    if batch is None:
        raise BatchUnknown(batch_code)
    query = (
        select(Case, Profile)
        .join(DispatchItem, col(DispatchItem.case_id) == col(Case.id))
        .join(Profile, col(Profile.case_id) == col(Case.id))
        .where(
            DispatchItem.batch_id == batch.id,
            valid_consent_clause(col(Case.person_key), ConsentPurpose.PROFILE_TO_CONFINDUSTRIA),
        )
        .order_by(col(DispatchItem.id))
    )
    return [(c, p) for c, p in session.exec(query).all()]


def _shares(session: Session, pairs: Sequence[tuple[Case, Profile]]) -> dict[str, list[str]]:
    """Company code → the case codes of ``pairs`` in its sectors (the best companies per profile)."""
    known = {o.code for o in org_of_kind(session, OrgKind.COMPANY)}
    sectors = {o.code: o.sectors for o in load_organisations() if o.code in known}
    out: dict[str, list[str]] = {}
    for case, profile in pairs:
        for code in companies_for(profile.occupations, sectors):
            out.setdefault(code, []).append(case.code)
    return out


def company_shares(session: Session, batch_code: str) -> list[CompanyShare]:
    """Every member company with profiles in the batch, by name, with what was sent to it."""
    shares = _shares(session, batch_profiles(session, batch_code))
    names = {o.code: o.name for o in org_of_kind(session, OrgKind.COMPANY)}
    sent = {
        link.company_code: link
        for link in session.exec(
            select(CompanyLink).where(CompanyLink.kind == "batch", CompanyLink.subject_code == batch_code)
        ).all()
    }
    out = []
    for code, cases in shares.items():
        link = sent.get(code)
        out.append(
            CompanyShare(
                company_code=code,
                company_name=names[code],
                case_codes=tuple(cases),
                sent_at=link.sent_at if link else None,
                sent_codes=tuple(link.case_codes) if link else (),
            )
        )
    return sorted(out, key=lambda share: share.company_name.casefold())


def send_company_links(session: Session, batch_code: str, company_codes: Iterable[str], *, actor: str) -> list[str]:
    """Email each named company (not yet sent) its own link to its profiles of the batch and record
    what went to whom; returns the companies sent to now. A company with no profile of the batch,
    or one already sent, is skipped: one click twice sends nothing twice."""
    wanted = set(company_codes)
    sent: list[str] = []
    for share in company_shares(session, batch_code):
        if share.company_code not in wanted or share.sent_at is not None or not share.case_codes:
            continue
        company = session.get(Organisation, share.company_code)
        assert company is not None
        key = f"batch:{batch_code}:company:{company.code}"
        enqueue_email(
            session,
            key=key,
            kind=COMPANY_PROFILES,
            recipient=company.email,
            recipient_code=company.code,
            context={
                "company_name": company.name,
                "batch_code": batch_code,
                "count": len(share.case_codes),
                "url": page_url(PURPOSE_COMPANY_BATCH, company.code, batch_code),
                "link_days": get_settings().portal_link_ttl_days,
            },
        )
        session.add(
            CompanyLink(
                kind="batch",
                subject_code=batch_code,
                company_code=company.code,
                case_codes=list(share.case_codes),
                sent_at=utcnow(),
                sent_by=actor[:64],
                outbox_key=key,
            )
        )
        sent.append(company.code)
    return sent


def company_batch_profiles(session: Session, batch_code: str, company_code: str) -> list[tuple[Case, Profile]]:
    """What a company's page of a batch shows: the profiles sent to it, still consenting."""
    link = session.exec(
        select(CompanyLink).where(
            CompanyLink.kind == "batch",
            CompanyLink.subject_code == batch_code,
            CompanyLink.company_code == company_code,
        )
    ).first()
    if link is None:
        raise BatchUnknown(batch_code)
    sent = set(link.case_codes)
    return [(c, p) for c, p in batch_profiles(session, batch_code) if c.code in sent]


def next_batch_code(session: Session, today: date) -> str:
    """DSP-<yyyymmdd>-<n>: one more than the highest number sent that day (codes an operator
    chose by hand, such as DSP-<date>-05 or DSP-<date>-01-02, never collide with it)."""
    prefix = f"DSP-{today:%Y%m%d}-"
    codes = session.exec(select(DispatchBatch.code).where(col(DispatchBatch.code).startswith(prefix))).all()
    numbers = [int(code[len(prefix) :]) for code in codes if code[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"
