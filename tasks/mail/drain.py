"""The SMTP drain of the outbox: claim, send and record each due row over one connection per batch
(docs/ARCHITECTURE.md#mail).

Only what the relay answered about a message counts against its attempts: when no session can
be opened, or the line drops before the message was accepted, the rows stay pending with their
attempts unchanged and the relay's outage is recorded instead (``tasks/mail/outage.py``).
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from typing import Any

import aiosmtplib
from sqlalchemy import Update, bindparam, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from config.settings import Settings
from models.enums import OutboxStatus
from models.ops import Outbox, OutboxAttachment
from tasks.mail.message import build_message, parse_address, wire_bytes
from tasks.mail.outage import (
    OUTAGE_BACKOFF_BASE_SECONDS,
    OUTAGE_BACKOFF_CAP_SECONDS,
    RelayStatus,
    alert_outage,
    record_failure,
    record_recovery,
    relay_name,
    relay_status,
)
from tasks.mail.outbox import (
    DEFERRED_ERROR,
    FAIL_GAVE_UP,
    FAIL_INVALID,
    FAIL_PERMANENT,
    FAIL_UNCERTAIN,
    IN_FLIGHT_TIMEOUT,
    AlertTargets,
    alert_failures,
    coordinator_targets,
    settle_in_flight,
    utcnow,
)

_log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
ERROR_MAX = 500

# Errors meaning "the connection is gone or never came": the row waits (not counted), reconnect.
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
    deferred: int = 0  # due rows left pending, attempts untouched: relay unreachable or line lost before acceptance


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
        self.relay_reached: bool | None = None  # outcome of the last connection attempt
        self.relay_error: str | None = None
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
            self.relay_reached, self.relay_error = False, _describe(exc)
            return False
        self.smtp = smtp
        self.relay_reached = True
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

    def claim(self, row: Outbox, message_id: str | None) -> bool:
        """pending -> sending, committed (with the previous row's outcome) before a byte leaves.

        The Message-ID is recorded with the claim: a resend of this row (``incontro outbox
        resend``) carries the same one even if ``mail_from`` changed meanwhile.
        """
        moved = self._move(
            row,
            OutboxStatus.PENDING,
            status=OutboxStatus.SENDING,
            sending_at=utcnow(),
            attempts=row.attempts + 1,
            message_id=message_id,
        )
        self.commit()
        return moved

    def mark_sent(self, row: Outbox, reply: str, message_id: str | None) -> None:
        moved = self._move(
            row,
            OutboxStatus.SENDING,
            status=OutboxStatus.SENT,
            sent_at=utcnow(),
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
                sent_at=utcnow(),
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
            next_attempt_at=utcnow() + backoff_delay(attempts),
        )
        if moved:
            self.report.retried += 1

    def mark_deferred(self, row: Outbox, error: str, *, attempts: int) -> None:
        """Back to pending with the attempts it had before the claim: the line, not the message, failed.

        A short wait puts it behind the rows already due, so a message that keeps losing the
        line cannot hold up the queue.
        """
        moved = self._move(
            row,
            OutboxStatus.SENDING,
            status=OutboxStatus.PENDING,
            attempts=attempts,
            last_error=f"{DEFERRED_ERROR}: {error}"[:ERROR_MAX],
            next_attempt_at=utcnow() + backoff_delay(1),
        )
        if moved:
            self.report.deferred += 1

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
        if self.connection_dead:
            self.report.deferred += 1  # untouched: still due, attempts unchanged
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
            self.report.deferred += 1  # the relay's outage, not this message's: no attempt counted
            return
        before = row.attempts
        attempts = before + 1
        if not self.claim(row, message["Message-ID"]):
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
            # Lost before DATA: the server cannot have the message. Not counted; reconnect now.
            self.drop_connection()
            self.mark_deferred(row, _describe(exc), attempts=before)
        except ValueError as exc:
            self.mark_failed(row, f"cannot send: {exc}", FAIL_INVALID, expect=OutboxStatus.SENDING)
        else:
            self.mark_sent(row, reply, message["Message-ID"])


def _due_rows(session: Session, *, limit: int, with_consent: bool) -> list[Outbox]:
    stmt = (
        select(Outbox)
        .where(col(Outbox.status) == OutboxStatus.PENDING, col(Outbox.next_attempt_at) <= utcnow())
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
    )
    if not with_consent:
        stmt = stmt.where(col(Outbox.consent_purpose).is_(None))
    rows = list(session.exec(stmt).all())
    session.commit()  # end the read transaction: each row gets its own short writes
    return rows


def _outage_backoff(probes: int) -> timedelta:
    return backoff_delay(probes, base=OUTAGE_BACKOFF_BASE_SECONDS, cap=OUTAGE_BACKOFF_CAP_SECONDS)


def _settle_relay(
    session: Session, drainer: _Drainer, before: RelayStatus, settings: Settings, targets: AlertTargets | None
) -> int:
    """Record what this drain learnt of the relay; returns the outage alerts it queued."""
    if drainer.relay_reached is False:
        status = record_failure(session, before.relay, drainer.relay_error or "unreachable", _outage_backoff)
        return len(alert_outage(session, status, after=settings.outbox_outage_alert_after, targets=targets))
    if drainer.relay_reached and before.down:
        record_recovery(session, before.relay)
    return 0


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
    pending rather than leave without a check. While the relay is in an outage the drain does
    not connect before the outage's next probe, and rows that cannot leave stay as they were
    (``deferred``): an outage costs no attempts and alerts coordinators once when it lasts.
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
        relay = relay_status(session, relay_name(settings))
        rows = _due_rows(session, limit=batch, with_consent=consent_ok is not None)
        if not relay.probe_due(utcnow()):  # backing off: nobody connects before the next probe
            drainer.report.deferred = len(rows)
            after = settings.outbox_outage_alert_after
            drainer.report.alerts += len(alert_outage(session, relay, after=after, targets=alert_targets))
            _log.info("outbox: SMTP relay down since %s, %d due rows wait", relay.down_since, len(rows))
            return drainer.report
        drainer.prefetch(rows)
        try:
            if not rows and relay.down:
                await drainer.ensure_connected()  # nothing to send: probe whether the outage is over
            for row in rows:
                await drainer.send_row(row)
            alerts = alert_failures(session, alert_targets)
            drainer.report.alerts += len(alerts)
            for alert in alerts:
                await drainer.send_row(alert)
        finally:
            await drainer.close()
        drainer.report.alerts += _settle_relay(session, drainer, relay, settings, alert_targets)
        if rows or stale:
            _log.info(
                "outbox drained: sent=%d failed=%d (uncertain=%d) retried=%d deferred=%d cancelled=%d alerts=%d",
                drainer.report.sent,
                drainer.report.failed,
                drainer.report.uncertain,
                drainer.report.retried,
                drainer.report.deferred,
                drainer.report.cancelled,
                drainer.report.alerts,
            )
        return drainer.report
