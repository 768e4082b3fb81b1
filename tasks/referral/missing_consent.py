"""Referral files without consent columns: imported, their cases wait for the consent at the CPI.

Such a file used to send every case to REJECTED (``no_consent``) without a word to the sender.
Now the import keeps a file-level warning (``import_file.notices``, the first line of the
acknowledgement), the cases are accepted at their CPI like any other, with the reason
``consent_to_collect`` on their step (tasks/core/consent.py), the intake form asks the operator
to record the consent (tasks/intake.py), and the referrer gets one reminder per import. Nothing
is shared meanwhile: every share joins a recorded consent (docs/ARCHITECTURE.md#privacy). A file
*with* the column where a row says NO keeps the rule: that case is rejected.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlmodel import Session, col, select

from models.cases import Case
from models.enums import ConsentPurpose
from models.ops import ImportFile
from models.people import Organisation, Referral
from models.state_machine import TERMINAL
from tasks.core.consent import CONSENT_TO_COLLECT, consenting_persons
from tasks.mail.outbox import enqueue_email
from tasks.runtime.db import in_chunks

#: The warning code of a file without the consent-to-processing column.
CONSENT_COLUMNS_MISSING = "consent_columns_missing"
#: The column whose absence (not a NO in it) makes the consent one to collect.
CONSENT_FIELD = "consent_privacy"


def file_warnings(fields: Collection[str]) -> list[str]:
    """The file-level warnings of a referral file that names these ``fields``."""
    return [] if CONSENT_FIELD in fields else [CONSENT_COLUMNS_MISSING]


def consent_missing(imp: ImportFile) -> bool:
    """Whether ``imp`` came without consent columns."""
    return CONSENT_COLUMNS_MISSING in (imp.notices or {}).get("warnings", [])


def consent_to_collect(session: Session, cases: Sequence[Case]) -> set[int]:
    """Ids of the ``cases`` referred in a file without consent columns (any of their referrals):
    their missing consent is one to collect, not a refusal. Two queries per 1,000 cases."""
    ids = sorted(c.id for c in cases if c.id is not None)
    pairs: list[tuple[int, int]] = []
    for chunk in in_chunks(ids):
        pairs += [
            (case_id, import_id)
            for case_id, import_id in session.exec(
                select(Referral.case_id, Referral.import_file_id).where(
                    col(Referral.case_id).in_(chunk), col(Referral.import_file_id).is_not(None)
                )
            ).all()
            if case_id is not None and import_id is not None
        ]
    flagged: set[int] = set()
    for chunk in in_chunks(sorted({i for _, i in pairs})):
        flagged |= {
            imp.id
            for imp in session.exec(select(ImportFile).where(col(ImportFile.id).in_(chunk))).all()
            if imp.id
            if consent_missing(imp)
        }
    return {case_id for case_id, import_id in pairs if import_id in flagged}


def mark_consent_to_collect(session: Session, cases: Sequence[Case]) -> None:
    """The accepted ``cases`` wait at their office's step with the reason "consent to collect"
    (set after the move: a transition clears the reason of the step it replaces)."""
    for case in cases:
        case.next_step_reason = CONSENT_TO_COLLECT
        session.add(case)


def remind_referrer(session: Session, imp: ImportFile, sender: Organisation, own_cases: Sequence[Case]) -> bool:
    """For a file without consent columns, one reminder to the referrer listing the open cases of
    the file still without the consent to processing; False otherwise (or when queued before)."""
    if not consent_missing(imp):
        return False
    open_cases = [c for c in own_cases if c.state not in TERMINAL]
    consenting = consenting_persons(session, (c.person_key for c in open_cases), ConsentPurpose.CPI_PROCESSING)
    waiting = sorted(c.code for c in open_cases if c.person_key not in consenting)
    return queue_consent_reminder(session, imp, sender, waiting)


def queue_consent_reminder(session: Session, imp: ImportFile, sender: Organisation, case_codes: list[str]) -> bool:
    """One reminder per import to the referrer: the consents are collected at the CPI, and the
    next file should carry the consent columns. Case codes only; the outbox key keeps it single."""
    if not case_codes:
        return False
    queued = enqueue_email(
        session,
        key=f"import:{imp.id}:consent-reminder",
        kind="consent_reminder",
        recipient=sender.email,
        recipient_code=sender.code,
        context={"file_name": imp.filename, "case_codes": case_codes, "referrer_name": sender.name},
    )
    return queued is not None
