"""The outbox: enqueue inside the caller's transaction, drain (``tasks.mail.drain``) over one SMTP connection per batch.

Guarantees (docs/ARCHITECTURE.md#mail) - every message arrives exactly once, or ends ``failed`` with a
coordinator alert; never twice, never silently lost (unless a coordinator resends it on purpose):

- A row is written together with the state change that causes it (same transaction, unique
  idempotency key), so a rolled-back change sends nothing and a rerun enqueues nothing twice.
- Before its SMTP transaction a row is **claimed**: ``pending -> sending`` with ``sending_at``,
  committed, by a conditional UPDATE (two drains never send the same row). The server's answer
  makes the row ``sent`` (reply and Message-ID recorded), back to ``pending`` with a backoff, or
  ``failed``; that write is committed together with the next row's claim, before the next
  message leaves (one commit per message), or at the end of the batch. A process that dies in
  between leaves the row ``sending``: settled as uncertain below, never resent.
- Whatever goes wrong *before the message text is handed over* is certain non-delivery. A 4xx
  reply to MAIL/RCPT/DATA, or a 4xx final reply, is retried later (exponential backoff with
  jitter, ``next_attempt_at``) and counts against ``outbox_max_attempts``; a 5xx reply fails that
  row only (``failure=permanent``). A relay that cannot be reached, or a line lost before the
  message was accepted, is the relay's outage, not the message's: the row waits with its attempts
  unchanged (``tasks/mail/outage.py``).
- When the connection drops or times out *while DATA is in progress* (or the process dies
  between the claim and the record) the server may or may not have queued the message. SMTP
  offers no way to ask a relay afterwards, and the same Message-ID does not stop every relay or
  mailbox from delivering twice, so such a row is **never resent blindly**: it becomes
  ``failed`` with ``failure=uncertain``. A drop seen by the drain is settled at once; a row left
  ``sending`` by a dead process is settled by the next drain once it is older than
  ``in_flight_timeout`` (longer than any live SMTP transaction can take).
- Every failed row is reported to the coordinator organisations by a ``failure_alert`` email
  (outbox keys, case codes, kinds and reason categories only), enqueued in the same transaction
  that stamps ``alerted_at`` on the rows, so a crash cannot lose or repeat an alert; the alert
  itself goes through the outbox like any other message.
- Coordinators resend failed rows (``incontro outbox resend``, :func:`resend_failed`): back to
  ``pending`` with attempts reset, audited, with the Message-ID recorded at the first claim so a
  receiver can drop a duplicate; the drain re-checks consent as for any row.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.base import insert_values
from models.cases import Case
from models.clock import utcnow
from models.enums import OrgKind, OutboxStatus
from models.ops import Outbox, OutboxAttachment
from models.people import Organisation
from tasks.core.audit import audit_read
from tasks.core.partners import org_of_kind
from tasks.mail.message import MailAttachment, format_address, parse_address
from tasks.mail.templates import render_email
from tasks.runtime.db import in_chunks
from tasks.runtime.logfilter import REDACTED, redact

_log = logging.getLogger(__name__)

# A claimed row older than this belongs to a dead drain: no live SMTP transaction lasts so long.
IN_FLIGHT_TIMEOUT = timedelta(minutes=15)
ALERT_KIND = "failure_alert"
ALERT_CHUNK = 100  # failed rows listed in one alert email

# Failure categories stored in Outbox.failure (the alert explains each in Italian).
FAIL_PERMANENT = "permanent"
FAIL_UNCERTAIN = "uncertain"
FAIL_GAVE_UP = "gave_up"
FAIL_INVALID = "invalid"
#: ``last_error`` of a row put back because the line, not the message, failed (not counted).
DEFERRED_ERROR = "connection lost before the message was accepted (not counted)"
#: ``last_error`` prefix of a failed row a coordinator put back in the queue.
RESENT_ERROR = "requeued by a coordinator"

# Who gets failure alerts: (formatted address, organisation code) pairs.
AlertTargets = Callable[[Session], Sequence[tuple[str, str]]]


# --------------------------------------------------------------------------------------------
# Enqueue


def _ensure_sqlite_transaction(session: Session) -> None:
    """Make pysqlite open the transaction before a SAVEPOINT.

    pysqlite only emits BEGIN before DML; a SAVEPOINT issued first would itself become the outer
    transaction and its RELEASE would commit the caller's work early.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    driver = conn.connection.driver_connection
    if driver is not None and getattr(driver, "in_transaction", True) is False:
        conn.exec_driver_sql("BEGIN")


#: :func:`parse_address` remembered: a batch mails the same few partners and offices thousands of
#: times (a bad address raises each time; exceptions are not cached).
_address = functools.lru_cache(maxsize=1024)(parse_address)


def office_reply_to(session: Session, case_code: str | None, recipient: str) -> str | None:
    """The responsible CPI office of ``case_code`` as a Reply-To (None when unknown or it is the recipient)."""
    if not case_code:
        return None
    office_code = session.exec(select(Case.office_code).where(Case.code == case_code)).first()
    return _office_address(session.get(Organisation, office_code) if office_code else None, recipient)


def _office_address(office: Organisation | None, recipient: str) -> str | None:
    """The office's address as a Reply-To, None when it has none or it is ``recipient``."""
    if office is None or not office.email:
        return None
    try:
        if _address(office.email).addr_spec.lower() == _address(recipient).addr_spec.lower():
            return None
    except ValueError:
        return None
    return format_address(office.name, office.email)


@dataclass(frozen=True)
class EmailSpec:
    """One notification to enqueue: what :func:`enqueue_email` takes, minus attachments."""

    key: str
    kind: str
    recipient: str
    language: str = "it"
    context: Mapping[str, Any] = field(default_factory=dict)
    recipient_code: str | None = None
    reply_to: str | None = None
    case_code: str | None = None
    person_key: str | None = None
    consent_purpose: str | Enum | None = None


def _outbox_values(
    session: Session, spec: EmailSpec, offices: Mapping[str, Organisation] | None = None
) -> dict[str, Any]:
    """Check the addresses, render the template: the column values of the pending row.
    ``offices`` (case code → its office, read for a whole batch) spares the Reply-To's queries."""
    if not spec.key or len(spec.key) > 200:
        raise ValueError("outbox key must be 1-200 characters")
    _address(spec.recipient)  # fail now, not at 3 a.m. in the drain
    if spec.reply_to:
        _address(spec.reply_to)
    rendered = render_email(spec.kind, spec.language, spec.context)
    reply_to = spec.reply_to
    if reply_to is None and offices is not None and spec.case_code:
        reply_to = _office_address(offices.get(spec.case_code), spec.recipient)
    elif reply_to is None:
        reply_to = office_reply_to(session, spec.case_code, spec.recipient)
    purpose = spec.consent_purpose.value if isinstance(spec.consent_purpose, Enum) else spec.consent_purpose
    now = utcnow()
    return insert_values(
        Outbox,
        key=spec.key,
        kind=spec.kind,
        case_code=spec.case_code,
        person_key=spec.person_key,
        consent_purpose=purpose,
        recipient=spec.recipient,
        recipient_code=spec.recipient_code,
        reply_to=reply_to,
        language=rendered.language,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )


def enqueue_email(
    session: Session,
    *,
    key: str,
    kind: str,
    recipient: str,
    language: str = "it",
    context: Mapping[str, Any] | None = None,
    recipient_code: str | None = None,
    reply_to: str | None = None,
    case_code: str | None = None,
    person_key: str | None = None,
    consent_purpose: str | Enum | None = None,
    attachments: Sequence[MailAttachment | tuple[str, str, bytes]] = (),
) -> Outbox | None:
    """Render ``kind`` and add the outbox row to the caller's session (the caller commits).

    Returns ``None`` and adds nothing when a row with ``key`` already exists, so a rerun of the
    step that enqueues is harmless. Without ``reply_to``, a message about a case answers to the
    case's CPI office.
    """
    spec = EmailSpec(
        key=key,
        kind=kind,
        recipient=recipient,
        language=language,
        context=context or {},
        recipient_code=recipient_code,
        reply_to=reply_to,
        case_code=case_code,
        person_key=person_key,
        consent_purpose=consent_purpose,
    )
    row = Outbox(**_outbox_values(session, spec))  # a bad address or template fails even on a rerun
    if session.exec(select(Outbox.id).where(Outbox.key == key)).first() is not None:
        return None
    _ensure_sqlite_transaction(session)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            assert row.id is not None
            for att in attachments:
                filename, content_type, data = att
                session.add(OutboxAttachment(outbox_id=row.id, filename=filename, content_type=content_type, data=data))
            session.flush()
    except IntegrityError:
        # A concurrent writer enqueued the same key between our check and our insert.
        return None
    return row


def enqueue_emails(session: Session, specs: Sequence[EmailSpec]) -> int:
    """The bulk form of :func:`enqueue_email` for batches (no attachments); returns rows added.

    Keys already in the outbox (a rerun) are skipped with one query per 1,000 keys; the new rows
    go in as one multi-row INSERT (no ORM objects) in the caller's transaction. A concurrent
    writer inserting one of the same keys makes the whole transaction fail (unique key), so the
    step's retry finds the rows and adds nothing twice. The cases' offices (the Reply-To) are
    read once per 1,000 case codes, not once per message.
    """
    wanted: dict[str, EmailSpec] = {}
    for spec in specs:
        wanted.setdefault(spec.key, spec)
    keys = list(wanted)
    existing: set[str] = set()
    for chunk in in_chunks(keys):
        existing.update(session.exec(select(Outbox.key).where(col(Outbox.key).in_(chunk))).all())
    fresh = [spec for key, spec in wanted.items() if key not in existing]
    codes = sorted({s.case_code for s in fresh if s.reply_to is None and s.case_code})
    office_of: dict[str, str] = {}
    for chunk in in_chunks(codes):
        cases = select(Case.code, Case.office_code).where(col(Case.code).in_(chunk), col(Case.office_code).is_not(None))
        office_of.update(session.exec(cases).all())  # type: ignore[arg-type]
    by_code: dict[str, Organisation] = {}
    if office_of:
        orgs = session.exec(select(Organisation).where(col(Organisation.code).in_(set(office_of.values()))))
        by_code = {o.code: o for o in orgs}
    offices = {code: by_code[office] for code, office in office_of.items() if office in by_code}
    rows = [_outbox_values(session, spec, offices) for spec in fresh]
    if rows:
        session.execute(insert(Outbox), rows)
    return len(rows)


def cancel_pending(session: Session, *, person_key: str, consent_purpose: str | Enum | None = None) -> int:
    """Cancel the pending rows carrying ``person_key``'s data (consent withdrawn, erasure).

    With ``consent_purpose`` only rows depending on that consent are cancelled. Runs in the
    caller's transaction; returns how many rows were cancelled. A row already claimed by a drain
    (``sending``) is past the point of no return and is not touched.
    """
    stmt = (
        update(Outbox)
        .where(col(Outbox.person_key) == person_key, col(Outbox.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, last_error="cancelled: consent withdrawn or erasure")
    )
    if consent_purpose is not None:
        purpose = consent_purpose.value if isinstance(consent_purpose, Enum) else consent_purpose
        stmt = stmt.where(col(Outbox.consent_purpose) == purpose)
    result = session.execute(stmt.execution_options(synchronize_session="fetch"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Settling in-flight rows and alerting coordinators


def settle_in_flight(session: Session, *, older_than: timedelta = IN_FLIGHT_TIMEOUT) -> list[str]:
    """Rows left ``sending`` by a dead drain become ``failed`` (uncertain); returns their keys.

    Resending them could deliver twice (the server may have queued the message before the
    process died), so a coordinator alert replaces the resend. Commits.
    """
    cutoff = utcnow() - older_than
    stale = session.exec(
        select(Outbox).where(col(Outbox.status) == OutboxStatus.SENDING, col(Outbox.sending_at) <= cutoff)
    ).all()
    keys = []
    for row in stale:
        result = session.execute(
            update(Outbox)
            .where(col(Outbox.id) == row.id, col(Outbox.status) == OutboxStatus.SENDING)
            .values(
                status=OutboxStatus.FAILED,
                failure=FAIL_UNCERTAIN,
                last_error="uncertain: the sending process stopped during the SMTP transaction; not resent",
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            keys.append(row.key)
    session.commit()
    if keys:
        _log.warning("outbox: %d in-flight rows of a stopped drain marked failed (uncertain)", len(keys))
    return keys


def coordinator_targets(session: Session) -> list[tuple[str, str]]:
    """The coordinator organisations (from config/organisations.yaml) as alert recipients."""
    return [(format_address(o.name, o.email), o.code) for o in org_of_kind(session, OrgKind.COORDINATOR) if o.email]


_CODE = re.compile(r"^\s*(\d{3})\b")


def _failure_item(row: Outbox) -> dict[str, Any]:
    """What an alert says about one row: key, case, kind, reason category, SMTP code; no text."""
    match = _CODE.match(row.last_error or "")
    return {
        "id": row.id,
        "key": row.key,
        "case_code": row.case_code,
        "kind": row.kind,
        "reason": row.failure or FAIL_PERMANENT,
        "code": match.group(1) if match else None,
    }


def alert_failures(session: Session, targets: AlertTargets | None = coordinator_targets) -> list[Outbox]:
    """Enqueue ``failure_alert`` emails for failed rows not yet alerted; returns the new rows.

    The alert rows and the ``alerted_at`` stamps are committed together. Failed alerts are only
    logged (there is nobody left to alert); without any coordinator the rows wait for the next
    drain, so configuring one later still reports them.
    """
    failed = list(
        session.exec(
            select(Outbox)
            .where(col(Outbox.status) == OutboxStatus.FAILED, col(Outbox.alerted_at).is_(None))
            .order_by(col(Outbox.id))
        ).all()
    )
    if not failed:
        session.commit()  # end the read transaction (SQLite: release the lock before any network wait)
        return []
    now = utcnow()
    to_alert = [r for r in failed if r.kind != ALERT_KIND]
    for row in failed:
        if row.kind == ALERT_KIND:
            _log.error("outbox: coordinator alert %s could not be delivered", row.key)
            row.alerted_at = now
            session.add(row)
    recipients = list(targets(session)) if targets is not None and to_alert else []
    created: list[Outbox] = []
    if to_alert and not recipients:
        _log.error("outbox: %d failed rows and no coordinator to alert", len(to_alert))
    elif to_alert:
        for chunk in in_chunks(to_alert, ALERT_CHUNK):
            digest = hashlib.sha256(",".join(str(r.id) for r in chunk).encode()).hexdigest()[:16]
            context = {
                "error_summary": f"{len(chunk)} email non consegnate o dall'esito incerto",
                "failures": [_failure_item(r) for r in chunk],
                "occurred_at": now,
            }
            for address, code in recipients:
                alert = enqueue_email(
                    session,
                    key=f"alert:outbox:{digest}:{code}",
                    kind=ALERT_KIND,
                    recipient=address,
                    recipient_code=code,
                    context=context,
                )
                if alert is not None:
                    created.append(alert)
            for row in chunk:
                row.alerted_at = now
                session.add(row)
    session.commit()
    return created


# --------------------------------------------------------------------------------------------
# The coordinators' view and resend (``incontro outbox``): no personal data leaves these


STATUS_LABELS: dict[OutboxStatus, str] = {
    OutboxStatus.PENDING: "in attesa",
    OutboxStatus.SENDING: "in invio",
    OutboxStatus.SENT: "inviata",
    OutboxStatus.FAILED: "non riuscita",
    OutboxStatus.CANCELLED: "annullata",
}
FAILURE_LABELS: dict[str, str] = {
    FAIL_PERMANENT: "rifiutata dal server in modo definitivo",
    FAIL_UNCERTAIN: "esito incerto: connessione persa durante l'invio, forse già consegnata",
    FAIL_GAVE_UP: "tentativi esauriti: errori temporanei ripetuti",
    FAIL_INVALID: "messaggio non costruibile: indirizzo non valido",
}
RESEND_ACTION = "outbox_resend"


def smtp_code(row: Outbox) -> str | None:
    """The SMTP reply code that ended the last attempt, if the relay gave one."""
    match = _CODE.match(row.last_error or "")
    return match.group(1) if match else None


def reason_label(row: Outbox) -> str:
    """Why the row is where it is, in Italian; empty for a row with nothing to explain."""
    code = smtp_code(row)
    suffix = f" (codice {code})" if code else ""
    if row.status == OutboxStatus.FAILED:
        return FAILURE_LABELS.get(row.failure or FAIL_PERMANENT, "non riuscita") + suffix
    if row.status == OutboxStatus.CANCELLED:
        return "annullata: consenso non più valido o dati cancellati"
    if row.status == OutboxStatus.PENDING and row.last_error:
        if row.last_error.startswith(DEFERRED_ERROR):
            return "in attesa: connessione persa prima della consegna (tentativo non contato)"
        if row.last_error.startswith(RESENT_ERROR):
            return "rimessa in coda da un coordinatore"
        return "in attesa di un nuovo tentativo: errore temporaneo" + suffix
    return ""


def _personal_needles(row: Outbox) -> list[str]:
    """The row's own addresses and display names, longest first (what a server reply may quote)."""
    needles: set[str] = set()
    for value in (row.recipient, row.reply_to):
        if not value:
            continue
        needles.add(value)
        try:
            address = parse_address(value)
        except ValueError:
            continue
        needles.update({address.addr_spec, address.username, address.display_name})
        needles.update(part for part in re.split(r"[\s,.;<>\"']+", address.display_name) if part)
    return sorted((n for n in needles if len(n) >= 3), key=len, reverse=True)


def public_text(row: Outbox, text: str | None) -> str | None:
    """``text`` (an SMTP error or reply) fit for a coordinator's terminal.

    The row's own addresses and names go first (a server may quote ``<anna@...>: Anna Rossi
    unknown``), then anything else that looks like an identifier (e-mails, phones, tax codes).
    """
    if not text:
        return text
    for needle in _personal_needles(row):
        text = re.sub(re.escape(needle), REDACTED, text, flags=re.IGNORECASE)
    return redact(text)


class ResendRefused(ValueError):
    """Some of the rows asked for cannot be resent (``reasons``: row id -> Italian reason); nothing changed."""

    def __init__(self, reasons: Mapping[int, str]) -> None:
        self.reasons = dict(reasons)
        super().__init__("; ".join(f"email {i}: {why}" for i, why in sorted(self.reasons.items())))


@dataclass
class ResendResult:
    """What a resend did: the rows put back, how many were uncertain, how many got a new address."""

    requeued: list[Outbox] = field(default_factory=list)
    uncertain: int = 0
    readdressed: int = 0


_NOT_RESENDABLE = {
    OutboxStatus.SENT: "già inviata",
    OutboxStatus.PENDING: "già in attesa di invio",
    OutboxStatus.SENDING: "in invio in questo momento",
    OutboxStatus.CANCELLED: "annullata (consenso non più valido o dati cancellati): non si rispedisce",
}


def _current_address(session: Session, row: Outbox) -> str:
    """The organisation's address as the registry has it now (corrected after a bounce), else the row's."""
    org = session.get(Organisation, row.recipient_code) if row.recipient_code else None
    if org is None or not org.email:
        return row.recipient
    try:
        same = parse_address(org.email).addr_spec.lower() == parse_address(row.recipient).addr_spec.lower()
    except ValueError:
        same = False
    return row.recipient if same else org.email


def resend_failed(session: Session, *, actor: str, ids: Sequence[int] = (), kind: str | None = None) -> ResendResult:
    """Put failed rows (by id, or every failed row of ``kind``) back to pending; the caller commits.

    All or nothing: when one of ``ids`` is missing or not ``failed`` (or has no usable address)
    :class:`ResendRefused` names each and nothing changes. Each row gets its attempts reset, keeps
    its key and recorded Message-ID, and leaves an audit row (who, which case, why). The drain
    re-checks consent before sending, as for any row.
    """
    if ids:
        found = {r.id: r for r in session.exec(select(Outbox).where(col(Outbox.id).in_(list(ids)))).all()}
        rows = [found[i] for i in dict.fromkeys(ids) if i in found]
        reasons = {i: "inesistente" for i in ids if i not in found}
    else:
        stmt = select(Outbox).where(col(Outbox.status) == OutboxStatus.FAILED).order_by(col(Outbox.id))
        rows = list(session.exec(stmt.where(col(Outbox.kind) == kind)).all()) if kind else []
        reasons = {}
    addresses: dict[int, str] = {}
    for row in rows:
        assert row.id is not None
        if row.status != OutboxStatus.FAILED:
            reasons[row.id] = _NOT_RESENDABLE.get(row.status, "non rispedibile")
            continue
        address = _current_address(session, row)
        try:
            parse_address(address)
        except ValueError:
            reasons[row.id] = "indirizzo non valido o cancellato: correggerlo nell'anagrafica prima di rispedire"
            continue
        addresses[row.id] = address
    if reasons:
        raise ResendRefused(reasons)
    result = ResendResult()
    now = utcnow()
    for row in rows:
        assert row.id is not None
        before, was_uncertain, old_address = reason_label(row), row.failure == FAIL_UNCERTAIN, row.recipient
        moved = session.execute(
            update(Outbox)
            .where(col(Outbox.id) == row.id, col(Outbox.status) == OutboxStatus.FAILED)
            .values(
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                failure=None,
                alerted_at=None,
                last_error=f"{RESENT_ERROR}; before: {row.last_error or row.failure}"[:500],
                recipient=addresses[row.id],
            )
            .execution_options(synchronize_session="fetch")
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            continue  # another coordinator resent it a moment ago
        result.requeued.append(row)
        result.uncertain += was_uncertain
        result.readdressed += addresses[row.id] != old_address
        audit_read(
            session,
            actor=actor,
            case_code=row.case_code,
            action=RESEND_ACTION,
            purpose=f"email n. {row.id} ({row.kind}) rimessa in coda dopo: {before}",
        )
    return result
