"""The referrer's acknowledgement of a referral file tells the truth (issue 18).

Every row of the file lands in exactly one list: accepted (with its CPI, or waiting for the
coordinators to assign one), in verification (a possible duplicate an operator decides on),
already followed (merged into an existing case, also one of the same file: counted once, as a
duplicate), or rejected with the reason in Italian (a row the import refused, or a person who
said no to the processing of their data). The letter is addressed to the centre by its name.
Codes and row numbers only: the referrer knows who is on each row of its own file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from config.data import load_offices
from models.cases import Case, CaseEvent
from models.enums import State
from models.ops import DedupReview, ImportFile, ImportRow
from models.people import Organisation, Referral
from tasks.core.routing import ASSIGN_OFFICE
from tasks.files.imports import report_rejected
from tasks.mail.outbox import enqueue_email
from tasks.referral.missing_consent import consent_missing, remind_referrer
from tasks.runtime.db import in_chunks

#: Why a referred person was turned down, in the words the referrer reads (by case_event reason).
REJECTION_REASONS: dict[str, str] = {
    "no_consent": "la persona non ha dato il consenso al trattamento dei dati (nel file il consenso è «NO»): "
    "la segnalazione non è stata registrata. Se la persona cambia idea, potete segnalarla di nuovo",
}
#: Any other reason (an older or unexpected one): never the code.
REJECTED_OTHERWISE = "la segnalazione non è stata accettata: per chiarimenti scrivete al coordinamento"


@dataclass
class Acknowledgement:
    """The lists of the acknowledgement, one entry per row of the file (template context)."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    in_review: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    waiting_office: int = 0


def _office_names() -> dict[str, str]:
    return {o.code: o.name for o in load_offices()}


def rejection_reason(code: str | None) -> str:
    """The Italian reason for a case_event reason of a move to REJECTED."""
    return REJECTION_REASONS.get(code or "", REJECTED_OTHERWISE)


def sort_rows(
    refs: Sequence[tuple[Referral, Case]],
    *,
    bad_rows: Sequence[tuple[int | None, list[dict[str, Any]]]],
    rejected_why: Mapping[int, str | None],
    in_review: set[int],
    offices: Mapping[str, str],
) -> Acknowledgement:
    """Put each row in its one list (pure): ``refs`` the file's referrals with their case now,
    ``bad_rows`` the rows the import refused, ``rejected_why`` the REJECTED reason by case id,
    ``in_review`` the ids of cases an operator still has to tell apart from a known person."""
    ack = Acknowledgement()
    first_row = {c.id: r.row_number for r, c in refs if c.person_key == r.person_key}
    for ref, case in sorted(refs, key=lambda rc: rc[0].row_number or 0):
        row = ref.row_number
        if case.person_key != ref.person_key:  # merged: the referral now points at the existing case
            same = first_row.get(case.id)
            ack.duplicates.append(
                {
                    "row": row,
                    "case_code": case.code,
                    "office_name": offices.get(case.office_code or ""),
                    "same_file_row": same if same != row else None,
                }
            )
        elif case.state is State.REJECTED:
            reason = rejection_reason(rejected_why.get(case.id or 0))
            ack.rejected.append({"row": row, "errors": [{"column": None, "reason": reason}]})
        elif case.id in in_review:
            ack.in_review.append({"row": row, "case_code": case.code})
        else:
            waiting = case.next_step == ASSIGN_OFFICE or not case.office_code
            ack.waiting_office += waiting
            ack.accepted.append(
                {
                    "row": row,
                    "case_code": case.code,
                    "office_name": None if waiting else offices.get(case.office_code or ""),
                }
            )
    ack.rejected += [{"row": number, "errors": errors} for number, errors in bad_rows]
    ack.rejected.sort(key=lambda r: r["row"] or 0)
    return ack


def gather(session: Session, import_id: int) -> tuple[Acknowledgement, list[ImportRow], list[Case]]:
    """The acknowledgement of ``import_id`` from the database, the refused rows and the file's own
    cases (not those it was merged into)."""
    refs = list(
        session.exec(
            select(Referral, Case)
            .join(Case, col(Case.id) == col(Referral.case_id))
            .where(Referral.import_file_id == import_id)
        ).all()
    )
    bad = list(
        session.exec(
            select(ImportRow).where(ImportRow.import_file_id == import_id).order_by(col(ImportRow.row_number))
        ).all()
    )
    own = [c for r, c in refs if c.person_key == r.person_key]
    refused = [c.id for c in own if c.state is State.REJECTED and c.id is not None]
    why: dict[int, str | None] = {}
    for chunk in in_chunks(refused):
        rows = session.exec(
            select(CaseEvent.case_id, CaseEvent.reason)
            .where(col(CaseEvent.case_id).in_(chunk), col(CaseEvent.to_state) == State.REJECTED)
            .order_by(col(CaseEvent.id))
        ).all()
        why.update(dict(rows))
    waiting = [c.id for c in own if c.state is State.REFERRED and c.id is not None]
    review: set[int] = set()
    for chunk in in_chunks(waiting):
        review.update(
            session.exec(
                select(DedupReview.case_id).where(
                    col(DedupReview.case_id).in_(chunk), col(DedupReview.decision).is_(None)
                )
            ).all()
        )
    ack = sort_rows(
        refs,
        bad_rows=[(b.row_number, list(b.errors)) for b in bad],
        rejected_why=why,
        in_review=review,
        offices=_office_names(),
    )
    return ack, bad, own


def acknowledge(session: Session, imp: ImportFile) -> int:
    """Queue the acknowledgement to the sending centre (and the error report and the consent
    reminder, when due) in the caller's transaction; returns how many emails were queued."""
    assert imp.id is not None
    sender = session.get(Organisation, imp.sender_code)
    assert sender is not None
    ack, bad, own = gather(session, imp.id)
    notices = imp.notices or {}
    context = {
        "file_name": imp.filename,
        "referrer_name": sender.name,
        "received_at": imp.received_at,
        "accepted": ack.accepted,
        "rejected": ack.rejected,
        "duplicates": ack.duplicates,
        "in_review": ack.in_review,
        "waiting_office": ack.waiting_office,
        "unused_columns": notices.get("unused_columns", []),
        "consent_missing": consent_missing(imp),
        "row_warnings": notices.get("row_warnings", []),
        "row_warnings_total": notices.get("row_warnings_total", 0),
    }
    queued = 0
    if enqueue_email(
        session,
        key=f"import:{imp.id}:ack",
        kind="referral_ack",
        recipient=sender.email,
        recipient_code=sender.code,
        context=context,
    ):
        queued += 1
    if report_rejected(session, imp, [{"row": b.row_number, **e} for b in bad for e in b.errors]):
        queued += 1
    if remind_referrer(session, imp, sender, own):
        queued += 1
    return queued
