"""The outbox: enqueue inside the caller's transaction, drain over one SMTP connection per batch.

Guarantees (DESIGN §5) - every message arrives exactly once, or ends ``failed`` with a
coordinator alert; never twice, never silently lost:

- A row is written together with the state change that causes it (same transaction, unique
  idempotency key), so a rolled-back change sends nothing and a rerun enqueues nothing twice.
- Before its SMTP transaction a row is **claimed**: ``pending -> sending`` with ``sending_at``,
  committed, by a conditional UPDATE (two drains never send the same row). The server's answer
  makes the row ``sent`` (reply and Message-ID recorded), back to ``pending`` with a backoff, or
  ``failed``; that write is committed together with the next row's claim, before the next
  message leaves (one commit per message), or at the end of the batch. A process that dies in
  between leaves the row ``sending``: settled as uncertain below, never resent.
- Whatever goes wrong *before the message text is handed over* is certain non-delivery:
  connection refused or dropped, a 4xx reply to MAIL/RCPT/DATA, or a 4xx final reply are retried
  later (exponential backoff with jitter, ``next_attempt_at``); a 5xx reply fails that row only
  (``failure=permanent``).
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
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from enum import Enum
from typing import Any

import aiosmtplib
from sqlalchemy import Update, bindparam, func, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from config.settings import Settings
from models.base import insert_values, utcnow
from models.cases import Case
from models.enums import OrgKind, OutboxStatus
from models.ops import Outbox, OutboxAttachment
from models.people import Organisation
from tasks.core.partners import org_of_kind
from tasks.mail.templates import MailAttachment, build_message, format_address, parse_address, render_email, wire_bytes
from tasks.runtime.db import in_chunks

_log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
ERROR_MAX = 500
# A claimed row older than this belongs to a dead drain: no live SMTP transaction lasts so long.
IN_FLIGHT_TIMEOUT = timedelta(minutes=15)
ALERT_KIND = "failure_alert"
ALERT_CHUNK = 100  # failed rows listed in one alert email

# Failure categories stored in Outbox.failure (the alert explains each in Italian).
FAIL_PERMANENT = "permanent"
FAIL_UNCERTAIN = "uncertain"
FAIL_GAVE_UP = "gave_up"
FAIL_INVALID = "invalid"

# Errors meaning "the connection is gone or never came": retry the row later, reconnect.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
)
# Anything that can go wrong while opening or closing a connection (auth and greeting included).
SESSION_ERRORS: tuple[type[Exception], ...] = (aiosmtplib.SMTPException, *CONNECTION_ERRORS)

ConsentHook = Callable[[Session, Outbox], bool]
SessionFactory = Callable[[], Session]
# Who gets failure alerts: (formatted address, organisation code) pairs.
AlertTargets = Callable[[Session], Sequence[tuple[str, str]]]


@dataclass
class DrainReport:
    """Counts of one drain (keys only, no addresses: safe to log and to return to Prefect)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    failed_keys: list[str] = field(default_factory=list)
    uncertain: int = 0
    alerts: int = 0


def _column_is_aware() -> bool:
    """True when the outbox datetime columns store aware values (SQLModel >= 0.0.50 default)."""
    column_type = Outbox.__table__.c.next_attempt_at.type  # type: ignore[attr-defined]
    return bool(getattr(column_type, "timezone", False))


def db_now() -> datetime:
    """UTC now in the form the outbox columns accept: aware or naive, as the table declares.

    ``models.base.utcnow`` is naive; SQLModel's UTCDateTime columns refuse naive values, so
    everything this module writes or compares goes through here.
    """
    now = utcnow()
    return now.replace(tzinfo=UTC) if _column_is_aware() else now


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


def office_reply_to(session: Session, case_code: str | None, recipient: str) -> str | None:
    """The responsible CPI office of ``case_code`` as a Reply-To (None when unknown or it is the recipient)."""
    if not case_code:
        return None
    office_code = session.exec(select(Case.office_code).where(Case.code == case_code)).first()
    office = session.get(Organisation, office_code) if office_code else None
    if office is None or not office.email:
        return None
    try:
        if parse_address(office.email).addr_spec.lower() == parse_address(recipient).addr_spec.lower():
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


def _outbox_values(session: Session, spec: EmailSpec) -> dict[str, Any]:
    """Check the addresses, render the template: the column values of the pending row."""
    if not spec.key or len(spec.key) > 200:
        raise ValueError("outbox key must be 1-200 characters")
    parse_address(spec.recipient)  # fail now, not at 3 a.m. in the drain
    if spec.reply_to:
        parse_address(spec.reply_to)
    rendered = render_email(spec.kind, spec.language, spec.context)
    reply_to = spec.reply_to
    if reply_to is None:
        reply_to = office_reply_to(session, spec.case_code, spec.recipient)
    purpose = spec.consent_purpose.value if isinstance(spec.consent_purpose, Enum) else spec.consent_purpose
    now = db_now()
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
    step's retry finds the rows and adds nothing twice.
    """
    wanted: dict[str, EmailSpec] = {}
    for spec in specs:
        wanted.setdefault(spec.key, spec)
    keys = list(wanted)
    existing: set[str] = set()
    for chunk in in_chunks(keys):
        existing.update(session.exec(select(Outbox.key).where(col(Outbox.key).in_(chunk))).all())
    rows = [_outbox_values(session, spec) for key, spec in wanted.items() if key not in existing]
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
    cutoff = db_now() - older_than
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
    now = db_now()
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
# Drain


def backoff_delay(
    attempts: int,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    rng: Callable[[], float] = random.random,
) -> timedelta:
    """Exponential backoff with "equal jitter": between half and all of ``base * 2**(n-1)``."""
    exp = min(cap, base * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=exp / 2 + rng() * exp / 2)


def _session_factory(engine_or_factory: Engine | SessionFactory) -> SessionFactory:
    if isinstance(engine_or_factory, Engine):
        engine = engine_or_factory
        return lambda: Session(engine, expire_on_commit=False)
    return engine_or_factory


def smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    """The SMTP client the settings describe: implicit TLS or STARTTLS, credentials, timeout.

    Certificates are verified against the system store (``SSL_CERT_FILE`` is honoured).
    """
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        local_hostname = parse_address(settings.mail_from).domain or None
    except ValueError:
        local_hostname = None
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=password,
        use_tls=settings.smtp_use_tls,
        start_tls=False if settings.smtp_use_tls else settings.smtp_starttls,
        timeout=settings.smtp_timeout,
        local_hostname=local_hostname,
    )


def _describe(exc: BaseException) -> str:
    """A short error for ``last_error`` (the app database, not Prefect)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:ERROR_MAX]


@functools.cache
def _guarded_update(names: tuple[str, ...]) -> Update:
    """``UPDATE outbox SET <names> WHERE id = :row_id AND status = :expect``, built once per shape.

    A prepared Core statement: the drain runs several per message, and building ORM statements
    anew each time cost more than the SMTP transaction itself.
    """
    table = Outbox.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.status == bindparam("expect", type_=table.c.status.type))
        .values({table.c[name]: bindparam(f"v_{name}", type_=table.c[name].type) for name in names})
    )


class _Uncertain(Exception):
    """The connection was lost while DATA was in progress: the server may have the message."""


class _Drainer:
    """State of one drain: the session, the SMTP client and the running report."""

    def __init__(self, session: Session, settings: Settings, consent_ok: ConsentHook | None) -> None:
        self.session = session
        self.settings = settings
        self.consent_ok = consent_ok
        self.report = DrainReport()
        self.smtp: aiosmtplib.SMTP | None = None
        self.reconnects_left = 1
        self.connection_dead = False
        self.sender = parse_address(settings.mail_from).addr_spec
        self.known_ids: set[int] = set()
        self.with_attachments: set[int] = set()

    # -- connection ------------------------------------------------------------------------

    async def connect(self) -> bool:
        """Open the batch connection (greeting, TLS, login, EHLO); False when it cannot be had."""
        smtp = smtp_client(self.settings)
        try:
            await smtp.connect()
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
        except SESSION_ERRORS as exc:
            _log.warning("SMTP connection failed: %s", type(exc).__name__)
            smtp.close()
            return False
        self.smtp = smtp
        return True

    async def close(self) -> None:
        self.commit()  # record the last outcomes before QUIT waits on the network
        if self.smtp is None:
            return
        smtp, self.smtp = self.smtp, None
        if smtp.is_connected:
            try:
                await smtp.quit()
            except SESSION_ERRORS:
                smtp.close()
        else:
            smtp.close()

    async def ensure_connected(self) -> bool:
        """The live connection, reconnecting at most once per drain after a drop."""
        if self.connection_dead:
            return False
        if self.smtp is not None and self.smtp.is_connected:
            return True
        self.commit()  # connecting waits on the network
        if self.smtp is not None:
            await self.close()
            if self.reconnects_left <= 0:
                self.connection_dead = True
                return False
            self.reconnects_left -= 1
        if not await self.connect():
            self.connection_dead = True
            return False
        return True

    def drop_connection(self) -> None:
        if self.smtp is not None:
            self.smtp.close()

    # -- row state (every change is a guarded UPDATE + commit) -----------------------------

    def _move(self, row: Outbox, expect: OutboxStatus, **values: Any) -> bool:
        """Set ``values`` on ``row`` if it is still in ``expect``; False if it moved on.

        Not committed here: the write rides on the next commit, which :meth:`claim` (before
        any message leaves), :meth:`ensure_connected` (before connecting) and the end of the
        batch make. So one commit per message records the previous outcome and the new claim.
        """
        params = {f"v_{name}": value for name, value in values.items()}
        result = self.session.connection().execute(
            _guarded_update(tuple(values)), {"row_id": row.id, "expect": expect, **params}
        )
        moved = bool(result.rowcount)
        if moved:
            for name, value in values.items():
                set_committed_value(row, name, value)
        return moved

    def commit(self) -> None:
        """End the open transaction: never hold one (or SQLite's lock) across a network wait."""
        self.session.commit()

    def claim(self, row: Outbox) -> bool:
        """pending -> sending, committed (with the previous row's outcome) before a byte leaves."""
        moved = self._move(
            row,
            OutboxStatus.PENDING,
            status=OutboxStatus.SENDING,
            sending_at=db_now(),
            attempts=row.attempts + 1,
        )
        self.commit()
        return moved

    def mark_sent(self, row: Outbox, reply: str, message_id: str | None) -> None:
        moved = self._move(
            row,
            OutboxStatus.SENDING,
            status=OutboxStatus.SENT,
            sent_at=db_now(),
            server_reply=reply[:ERROR_MAX],
            message_id=message_id,
            last_error=None,
            failure=None,
        )
        if not moved:  # settled as uncertain meanwhile (a drain far slower than in_flight_timeout)
            self._move(
                row,
                OutboxStatus.FAILED,
                status=OutboxStatus.SENT,
                sent_at=db_now(),
                server_reply=reply[:ERROR_MAX],
                message_id=message_id,
            )
        self.report.sent += 1

    def mark_failed(
        self, row: Outbox, error: str, failure: str, *, expect: OutboxStatus, attempts: int | None = None
    ) -> None:
        values: dict[str, Any] = {"status": OutboxStatus.FAILED, "last_error": error[:ERROR_MAX], "failure": failure}
        if attempts is not None:
            values["attempts"] = attempts
        if self._move(row, expect, **values):
            self.report.failed += 1
            self.report.failed_keys.append(row.key)
            if failure == FAIL_UNCERTAIN:
                self.report.uncertain += 1

    def mark_retry(self, row: Outbox, error: str, *, expect: OutboxStatus, attempts: int) -> None:
        """Back to pending after a backoff, or failed for good after ``outbox_max_attempts``."""
        if attempts >= self.settings.outbox_max_attempts:
            self.mark_failed(
                row, f"gave up after {attempts} attempts: {error}", FAIL_GAVE_UP, expect=expect, attempts=attempts
            )
            return
        moved = self._move(
            row,
            expect,
            status=OutboxStatus.PENDING,
            attempts=attempts,
            last_error=error[:ERROR_MAX],
            next_attempt_at=db_now() + backoff_delay(attempts),
        )
        if moved:
            self.report.retried += 1

    def mark_cancelled(self, row: Outbox, reason: str) -> None:
        if self._move(row, OutboxStatus.PENDING, status=OutboxStatus.CANCELLED, last_error=reason):
            self.report.cancelled += 1

    # -- sending ---------------------------------------------------------------------------

    def prefetch(self, rows: Sequence[Outbox]) -> None:
        """Learn in one query which rows of the batch have attachments (most have none)."""
        ids = [r.id for r in rows if r.id is not None]
        self.known_ids.update(ids)
        if ids:
            found = self.session.exec(
                select(OutboxAttachment.outbox_id).where(col(OutboxAttachment.outbox_id).in_(ids)).distinct()
            ).all()
            self.with_attachments.update(found)
        self.session.commit()

    def _prepare(self, row: Outbox) -> tuple[Message, str]:
        attachments: Sequence[OutboxAttachment] = ()
        if row.id not in self.known_ids or row.id in self.with_attachments:
            attachments = self.session.exec(
                select(OutboxAttachment).where(OutboxAttachment.outbox_id == row.id).order_by(col(OutboxAttachment.id))
            ).all()
        message = build_message(row, list(attachments), mail_from=self.settings.mail_from)
        return message, parse_address(row.recipient).addr_spec

    async def transmit(self, message: Message, recipient: str) -> str:
        """One SMTP transaction; raises :class:`_Uncertain` when DATA was cut short."""
        smtp = self.smtp
        assert smtp is not None
        utf8 = not (self.sender + recipient).isascii()
        if utf8 and not smtp.supports_extension("smtputf8"):
            raise aiosmtplib.SMTPNotSupported("non-ASCII address and no SMTPUTF8 on the server")
        eight_bit = smtp.supports_extension("8bitmime")
        data = wire_bytes(message, utf8=utf8, cte_type="8bit" if eight_bit else "7bit")
        options = ["SMTPUTF8"] if utf8 else []
        if eight_bit:
            options.append("BODY=8BITMIME")
        if smtp.supports_extension("size"):
            options.insert(0, f"SIZE={len(data)}")
        encoding = "utf-8" if utf8 else "ascii"
        try:
            await smtp.mail(self.sender, options=options, encoding=encoding)
            await smtp.rcpt(recipient, encoding=encoding)
        except aiosmtplib.SMTPResponseException:
            await self._reset()
            raise
        try:
            response = await smtp.data(data)
        except aiosmtplib.SMTPResponseException:
            await self._reset()
            raise  # a reply: the server told us it did not take the message
        except CONNECTION_ERRORS as exc:
            raise _Uncertain(_describe(exc)) from exc
        return response.message

    async def _reset(self) -> None:
        """RSET after a refusal so the next row starts a clean envelope."""
        if self.smtp is not None and self.smtp.is_connected:
            try:
                await self.smtp.rset()
            except SESSION_ERRORS:
                self.drop_connection()

    async def send_row(self, row: Outbox) -> None:
        """Send one row and record the outcome; never raises for SMTP or network errors."""
        if row.status != OutboxStatus.PENDING:
            return
        if row.consent_purpose and self.consent_ok is not None and not self.consent_ok(self.session, row):
            self.mark_cancelled(row, f"cancelled: consent {row.consent_purpose} no longer valid")
            return
        try:
            message, recipient = self._prepare(row)
        except (ValueError, UnicodeError) as exc:
            self.mark_failed(row, f"cannot build message: {exc}", FAIL_INVALID, expect=OutboxStatus.PENDING)
            return
        if not await self.ensure_connected():
            self.mark_retry(row, "SMTP server unreachable", expect=OutboxStatus.PENDING, attempts=row.attempts + 1)
            return
        attempts = row.attempts + 1
        if not self.claim(row):
            return  # cancelled, or claimed by another drain, since we selected it
        try:
            reply = await self.transmit(message, recipient)
        except _Uncertain as exc:
            self.drop_connection()
            self.mark_failed(
                row, f"uncertain: connection lost during DATA ({exc})", FAIL_UNCERTAIN, expect=OutboxStatus.SENDING
            )
        except aiosmtplib.SMTPNotSupported as exc:
            self.mark_failed(row, _describe(exc), FAIL_INVALID, expect=OutboxStatus.SENDING)
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                self.mark_failed(row, _describe(exc), FAIL_PERMANENT, expect=OutboxStatus.SENDING)
            else:  # 4xx: not taken, try later
                if exc.code == 421:  # RFC 5321 3.8: the server is closing the channel
                    self.drop_connection()
                self.mark_retry(row, _describe(exc), expect=OutboxStatus.SENDING, attempts=attempts)
        except CONNECTION_ERRORS as exc:
            # Lost before DATA: the server cannot have the message. Retry later, reconnect now.
            self.drop_connection()
            self.mark_retry(row, _describe(exc), expect=OutboxStatus.SENDING, attempts=attempts)
        except ValueError as exc:
            self.mark_failed(row, f"cannot send: {exc}", FAIL_INVALID, expect=OutboxStatus.SENDING)
        else:
            self.mark_sent(row, reply, message["Message-ID"])


def _due_rows(session: Session, *, limit: int, with_consent: bool) -> list[Outbox]:
    stmt = (
        select(Outbox)
        .where(col(Outbox.status) == OutboxStatus.PENDING, col(Outbox.next_attempt_at) <= db_now())
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
    )
    if not with_consent:
        stmt = stmt.where(col(Outbox.consent_purpose).is_(None))
    rows = list(session.exec(stmt).all())
    session.commit()  # end the read transaction: each row gets its own short writes
    return rows


async def drain_outbox(
    engine_or_session_factory: Engine | SessionFactory,
    *,
    settings: Settings,
    limit: int | None = None,
    consent_ok: ConsentHook | None = None,
    in_flight_timeout: timedelta = IN_FLIGHT_TIMEOUT,
    alert_targets: AlertTargets | None = coordinator_targets,
) -> DrainReport:
    """Send the due pending rows over one SMTP connection and record each outcome at once.

    First settles rows a dead drain left in flight and alerts coordinators about failures; after
    the batch, alerts about this drain's failures go out on the same connection. Rows with a
    ``consent_purpose`` are only picked up when ``consent_ok`` is given (they are re-checked right
    before sending and cancelled when consent no longer holds); without the hook they stay
    pending rather than leave without a check.
    """
    factory = _session_factory(engine_or_session_factory)
    batch = limit if limit is not None else settings.outbox_batch_size
    with factory() as session:
        drainer = _Drainer(session, settings, consent_ok)
        stale = settle_in_flight(session, older_than=in_flight_timeout)
        drainer.report.failed += len(stale)
        drainer.report.uncertain += len(stale)
        drainer.report.failed_keys.extend(stale)
        drainer.report.alerts += len(alert_failures(session, alert_targets))
        rows = _due_rows(session, limit=batch, with_consent=consent_ok is not None)
        drainer.prefetch(rows)
        try:
            for row in rows:
                await drainer.send_row(row)
            alerts = alert_failures(session, alert_targets)
            drainer.report.alerts += len(alerts)
            for alert in alerts:
                await drainer.send_row(alert)
        finally:
            await drainer.close()
        if rows or stale:
            _log.info(
                "outbox drained: sent=%d failed=%d (uncertain=%d) retried=%d cancelled=%d alerts=%d",
                drainer.report.sent,
                drainer.report.failed,
                drainer.report.uncertain,
                drainer.report.retried,
                drainer.report.cancelled,
                drainer.report.alerts,
            )
        return drainer.report


def due_count(session: Session, *, now: datetime | None = None) -> int:
    """How many rows are pending and due (for the drain's scheduling and the dashboard)."""
    moment = now or db_now()
    count = session.exec(
        select(func.count())
        .select_from(Outbox)
        .where(col(Outbox.status) == OutboxStatus.PENDING, col(Outbox.next_attempt_at) <= moment)
    ).one()
    return int(count)
