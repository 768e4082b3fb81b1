"""Consent withdrawal: stop, cancel or re-issue every pending share that depended on the consent."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models import clock
from models.cases import Case, Enrollment, Profile
from models.enums import CloseReason, ConsentPurpose, OutboxStatus, State
from models.exchange import DispatchBatch, DispatchItem
from models.ops import Outbox
from models.people import Organisation
from models.state_machine import OPEN
from tasks.core.audit import audit_read
from tasks.core.consent import valid_consent_clause, withdraw
from tasks.core.profiles import profile_row
from tasks.core.transitions import transition
from tasks.files.sheets import XLSX, profiles_xlsx
from tasks.mail.notify import consent_still_valid
from tasks.mail.outbox import enqueue_email
from tasks.privacy.erasure import cancel_rows
from tasks.privacy.identifiers import ACTOR, cases_of, find_case, linked_keys

_log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Consent withdrawal


@dataclass
class WithdrawalResult:
    consents: int = 0
    cancelled: int = 0
    reissued: int = 0
    courses_closed: int = 0
    cases_withdrawn: int = 0


def _pending(session: Session, *conditions: Any) -> list[Outbox]:
    return list(session.exec(select(Outbox).where(col(Outbox.status) == OutboxStatus.PENDING, *conditions)).all())


def _mentions(row: Outbox, codes: Iterable[str]) -> bool:
    text = f"{row.body_text}\n{row.body_html or ''}"
    return any(code in text for code in codes)


def _reissue(
    session: Session, row: Outbox, context: dict[str, Any], attachments: Sequence[tuple[str, str, bytes]] = ()
) -> int:
    """Cancel a pending batch email and enqueue it again from ``context`` (1 when re-issued)."""
    cancel_rows(
        session, [row.id] if row.id is not None else [], "cancelled: consent withdrawn, re-issued without the case"
    )
    if not context.get("cases", context.get("profiles")):
        return 0
    # A fresh key without the original's case codes (it may name the case that left).
    stem = f"{row.kind}:reissue:{hashlib.sha256(row.key.encode()).hexdigest()[:16]}"
    n = len(session.exec(select(Outbox.id).where(col(Outbox.key).startswith(stem))).all())
    enqueue_email(
        session,
        key=f"{stem}:r{n + 1}",
        kind=row.kind,
        recipient=row.recipient,
        recipient_code=row.recipient_code,
        reply_to=row.reply_to,
        language=row.language,
        context=context,
        attachments=attachments,
    )
    return 1


def _reissue_dispatch(session: Session, codes: list[str]) -> int:
    """Pending Confindustria sheets listing one of ``codes``: re-issued with consenting profiles only."""
    count = 0
    for row in _pending(session, Outbox.kind == "dispatch_confindustria"):
        if not _mentions(row, codes):
            continue
        batch = session.exec(select(DispatchBatch).where(DispatchBatch.code == row.key.split(":")[1])).first()
        if batch is None:
            continue
        pairs = session.exec(
            select(Case, Profile)
            .join(DispatchItem, col(DispatchItem.case_id) == col(Case.id))
            .join(Profile, col(Profile.case_id) == col(Case.id))
            .where(
                DispatchItem.batch_id == batch.id,
                valid_consent_clause(col(Case.person_key), ConsentPurpose.PROFILE_TO_CONFINDUSTRIA),
            )
            .order_by(col(Case.id))
        ).all()
        profiles = [profile_row(c, p) for c, p in pairs]
        batch.profile_count = len(profiles)
        session.add(batch)
        when = clock.in_rome(batch.sent_at).date() if batch.sent_at else clock.today()
        context = {"batch_code": batch.code, "count": len(profiles), "profiles": profiles, "date": when}
        sheet = [(f"profili-{batch.code}.xlsx", XLSX, profiles_xlsx(profiles, title=f"Profili {batch.code}"))]
        count += _reissue(session, row, context, sheet if profiles else ())
    return count


def _reissue_cpia(session: Session, codes: list[str]) -> int:
    """Pending CPIA enrolment requests listing one of ``codes``: re-issued with the other cases only."""
    count = 0
    for row in _pending(session, Outbox.kind == "cpia_enrolment_request"):
        if not _mentions(row, codes):
            continue
        pairs = session.exec(
            select(Case, Enrollment)
            .join(Enrollment, col(Enrollment.case_id) == col(Case.id))
            .where(
                Enrollment.cpia_code == row.recipient_code,
                col(Enrollment.outcome).is_(None),
                valid_consent_clause(col(Case.person_key), ConsentPurpose.CPIA_ENROLMENT),
            )
            .order_by(col(Case.id))
        ).all()
        cpia = session.get(Organisation, row.recipient_code or "")
        cases = [
            {"case_code": c.code, "target_level": e.level.value, "office_name": c.office_code}
            for c, e in pairs
            if _mentions(row, [c.code])
        ]
        count += _reissue(session, row, {"cpia_name": cpia.name if cpia else "", "cases": cases})
    return count


def withdraw_consent(
    session: Session,
    case_code: str,
    purpose: ConsentPurpose,
    recipient_code: str = "*",
    *,
    actor: str = ACTOR,
    flow_run_id: str | None = None,
) -> WithdrawalResult:
    """Withdraw a consent and stop every pending share that depended on it; logged.

    - rows carrying the person's data under that consent (contact release...) are cancelled;
    - batch emails not yet sent (Confindustria sheet, CPIA request) are re-issued without the case;
    - CPIA: open courses are closed (``consent_withdrawn``); referrer contact: pending notices to
      the referrer are cancelled; CPI processing: open cases move to WITHDRAWN and every pending
      row with the person's data is cancelled.
    Sent messages cannot be recalled; the audit row says when the consent stopped.
    """
    purpose = ConsentPurpose(purpose)
    recipient = (recipient_code or "*").strip() or "*"
    case = find_case(session, case_code)
    keys = linked_keys(session, case)
    cases = cases_of(session, keys)
    codes = [c.code for c in cases]
    result = WithdrawalResult()
    for key in keys:
        result.consents += len(withdraw(session, key, purpose, recipient))
    personal = _pending(session, col(Outbox.person_key).in_(list(keys)))
    stop = [
        r.id
        for r in personal
        if r.id is not None and r.consent_purpose == purpose.value and not consent_still_valid(session, r)
    ]
    if purpose is ConsentPurpose.CPI_PROCESSING:
        stop = [r.id for r in personal if r.id is not None]
    if purpose is ConsentPurpose.REFERRER_CONTACT:
        stop += [
            r.id
            for r in _pending(session, col(Outbox.case_code).in_(codes), col(Outbox.key).contains(":referrer:"))
            if r.id is not None
        ]
    result.cancelled = cancel_rows(session, stop, f"cancelled: consent {purpose.value} withdrawn")
    if purpose is ConsentPurpose.PROFILE_TO_CONFINDUSTRIA:
        result.reissued = _reissue_dispatch(session, codes)
    if purpose is ConsentPurpose.CPIA_ENROLMENT:
        ids = [c.id for c in cases]
        for course in session.exec(
            select(Enrollment).where(col(Enrollment.case_id).in_(ids), col(Enrollment.outcome).is_(None))
        ).all():
            course.outcome, course.end = "consent_withdrawn", clock.today()
            session.add(course)
            result.courses_closed += 1
        session.flush()
        result.reissued = _reissue_cpia(session, codes)
    if purpose is ConsentPurpose.CPI_PROCESSING:
        for c in cases:
            if c.state in OPEN:
                transition(
                    session,
                    c,
                    State.WITHDRAWN,
                    actor=actor,
                    reason=CloseReason.CONSENT_WITHDRAWN.value,
                    flow_run_id=flow_run_id,
                )
                result.cases_withdrawn += 1
    audit_read(
        session,
        actor=actor,
        case_code=case.code,
        purpose=f"revoca consenso {purpose.value} (destinatario {recipient}): {result.cancelled} email annullate",
        action="consent_withdrawn",
    )
    _log.info("consent %s withdrawn for %s: %s", purpose.value, case.code, asdict(result))
    return result


def cancel_for_expired_consents(session: Session, *, now: datetime | None = None) -> int:
    """Pending personal rows whose consent has expired are cancelled (the drain would refuse them)."""
    rows = _pending(session, col(Outbox.person_key).is_not(None), col(Outbox.consent_purpose).is_not(None))
    stop = [r.id for r in rows if r.id is not None and not consent_still_valid(session, r)]
    return cancel_rows(session, stop, "cancelled: consent expired")
