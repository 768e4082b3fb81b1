"""The referrer is told when an operator closes a case (issue 18; the closure: tasks/core/closure.py).

One ``case_closed`` email per closed case and referring partner that may be told (the person's
REFERRER_CONTACT consent, re-checked by the drain): the partner referred the person, so the email
names them, and nobody else receives it. Keys ``case:<code>:closed:referrer:<org>`` keep each
email single, so :func:`tell_referrers` may run right after the closure (same transaction) and
again from the maintenance sweep, which picks up closures nobody told yet (:func:`untold_closures`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from config.data import load_offices
from models import clock
from models.cases import Case, CaseEvent
from models.enums import CloseReason, ConsentPurpose, State
from models.ops import Outbox
from models.people import Person
from tasks.core.audit import audit_read
from tasks.core.closure import OPERATOR_REASONS, close_cases, closure_label, parse_reason
from tasks.core.partners import referrers_by_case
from tasks.mail.outbox import EmailSpec, enqueue_emails
from tasks.runtime.db import in_chunks

KIND = "case_closed"
ACTOR = "system:closure-notice"


def notice_key(case_code: str, org_code: str) -> str:
    """The outbox key of the closure email of ``case_code`` to the partner ``org_code``."""
    return f"case:{case_code}:closed:referrer:{org_code}"


def _closures(session: Session, case_ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    """The reason and instant of each case's last move to CLOSED."""
    out: dict[int, tuple[str, datetime]] = {}
    for chunk in in_chunks(sorted(case_ids)):
        rows = session.exec(
            select(CaseEvent.case_id, CaseEvent.reason, CaseEvent.at)
            .where(col(CaseEvent.case_id).in_(chunk), col(CaseEvent.to_state) == State.CLOSED)
            .order_by(col(CaseEvent.id))
        ).all()
        out.update({case_id: (reason or "", at) for case_id, reason, at in rows})
    return out


def tell_referrers(session: Session, codes: Sequence[str]) -> int:
    """Queue the closure email to the consenting referrers of the closed cases ``codes`` (in the
    caller's transaction); returns how many emails were added (0 on a rerun)."""
    cases = [
        c
        for chunk in in_chunks(sorted(set(codes)))
        for c in session.exec(select(Case).where(col(Case.code).in_(chunk), col(Case.state) == State.CLOSED)).all()
    ]
    ids = [c.id for c in cases if c.id is not None]
    referrers = referrers_by_case(session, ids)
    closures = _closures(session, ids)
    told = [c for c in cases if c.id in referrers and c.id in closures]
    if not told:
        return 0
    names = {
        p.key: " ".join(part for part in (p.given_names, p.family_name) if part)
        for chunk in in_chunks(sorted({c.person_key for c in told}))
        for p in session.exec(select(Person).where(col(Person.key).in_(chunk))).all()
    }
    offices = {o.code: o for o in load_offices()}
    specs: list[EmailSpec] = []
    for case in told:
        reason, at = closures[case.id or 0]
        office = offices.get(case.office_code or "")
        for org in referrers[case.id or 0]:
            specs.append(
                EmailSpec(
                    key=notice_key(case.code, org.code),
                    kind=KIND,
                    recipient=org.email,
                    recipient_code=org.code,
                    case_code=case.code,
                    person_key=case.person_key,
                    consent_purpose=ConsentPurpose.REFERRER_CONTACT,
                    reply_to=office.email if office else None,
                    context={
                        "case_code": case.code,
                        "reason": reason,
                        "reason_label": closure_label(reason),
                        "closed_on": clock.in_rome(at).date(),
                        "referrer_name": org.name,
                        "person_name": names.get(case.person_key) or None,
                        "office_name": office.name if office else None,
                        "office_phone": office.phone if office else None,
                        "office_email": office.email if office else None,
                    },
                )
            )
    added = enqueue_emails(session, specs)
    if added:
        for case in told:
            audit_read(session, actor=ACTOR, case_code=case.code, purpose="avviso di chiusura al segnalante")
    return added


def untold_closures(session: Session, since: datetime) -> list[str]:
    """Codes of cases an operator closed since ``since`` whose referrers have no closure email
    yet (a desk closure, a run stopped between the closure and the email), by code."""
    reasons = [r.value for r in OPERATOR_REASONS]
    closed = session.exec(
        select(Case.code)
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(
            col(Case.state) == State.CLOSED,
            col(CaseEvent.to_state) == State.CLOSED,
            col(CaseEvent.reason).in_(reasons),
            col(CaseEvent.at) >= since,
        )
        .distinct()
    ).all()
    codes = sorted(set(closed))
    told: set[str | None] = set()
    for chunk in in_chunks(codes):
        told.update(
            session.exec(
                select(Outbox.case_code).where(col(Outbox.case_code).in_(chunk), col(Outbox.kind) == KIND)
            ).all()
        )
    return [c for c in codes if c not in told]


def close_and_tell(
    session: Session, closures: Sequence[Mapping[str, str]], *, actor: str, flow_run_id: str | None = None
) -> list[str]:
    """Close each ``{case_code, reason}`` (reasons as codes or Italian labels; ``other`` needs
    its note, so it has no place here) and queue the referrers' emails, in one transaction;
    returns the codes closed now. A case already closed is skipped (a rerun of a step whose
    commit went through: the form's check refused closed cases before), and told if untold."""
    wanted = [(str(r["case_code"]).strip().upper(), parse_reason(r["reason"])) for r in closures]
    codes = [code for code, _ in wanted]
    done = set(session.exec(select(Case.code).where(col(Case.code).in_(codes), col(Case.state) == State.CLOSED)).all())
    by_reason: dict[CloseReason, list[str]] = defaultdict(list)
    for code, reason in wanted:
        if code not in done:
            by_reason[reason].append(code)
    closed: list[str] = []
    for reason, group in by_reason.items():
        closed += close_cases(session, group, reason, note=None, actor=actor, flow_run_id=flow_run_id)
    tell_referrers(session, codes)
    return closed
