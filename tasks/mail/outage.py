"""Outages of the SMTP relay (docs/ARCHITECTURE.md#mail): they cost no message an attempt.

- A drain that cannot open a session with the relay (refused, timed out, greeting, TLS or login
  refused) records a failed *probe* on the relay's ``mail_relay`` row and leaves every due row
  as it was: still pending, attempts unchanged. ``outbox_max_attempts`` counts only the replies a
  relay gave to that message (4xx again and again).
- Probes back off across drains (30 s doubling to 10 minutes, with jitter): before
  ``next_probe_at`` no drain connects, so a dead relay does not make every stage wait for the
  SMTP timeout. The first session that opens clears the row, and the backlog leaves.
- Once the outage is older than ``outbox_outage_alert_after`` (24 hours by default), the first
  drain that sees it stamps ``alerted_at`` by a guarded UPDATE and, in the same transaction,
  enqueues one ``failure_alert`` per coordinator: once per outage, whatever the number of drains,
  processes or restarts. The alert waits at the head of the outbox and leaves when the relay does.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.settings import Settings
from models.clock import as_utc, utcnow
from models.enums import OutboxStatus
from models.ops import MailRelay, Outbox
from tasks.mail.outbox import ALERT_KIND, AlertTargets, enqueue_email

_log = logging.getLogger(__name__)

OUTAGE_BACKOFF_BASE_SECONDS = 30.0
OUTAGE_BACKOFF_CAP_SECONDS = 600.0  # the relay is back: mail leaves within ten minutes at most
ERROR_MAX = 300


def relay_name(settings: Settings) -> str:
    """The relay as the outage table knows it: ``host:port`` (no credentials)."""
    return f"{settings.smtp_host}:{settings.smtp_port}"


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return None if moment is None else as_utc(moment)


@dataclass(frozen=True)
class RelayStatus:
    """What the drain and the command line need to know of one relay (no personal data)."""

    relay: str
    down_since: datetime | None = None
    failed_probes: int = 0
    next_probe_at: datetime | None = None
    last_error: str | None = None
    alerted_at: datetime | None = None

    @classmethod
    def of(cls, row: MailRelay) -> RelayStatus:
        return cls(
            relay=row.relay,
            down_since=_aware(row.down_since),
            failed_probes=row.failed_probes,
            next_probe_at=_aware(row.next_probe_at),
            last_error=row.last_error,
            alerted_at=_aware(row.alerted_at),
        )

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def probe_due(self, now: datetime) -> bool:
        """May a drain connect now? Always while the relay answers; after the backoff otherwise."""
        return not self.down or self.next_probe_at is None or self.next_probe_at <= now


def relay_status(session: Session, relay: str) -> RelayStatus:
    """The relay's current status (up when it never failed); reads only, in the caller's transaction."""
    row = session.get(MailRelay, relay)
    return RelayStatus.of(row) if row is not None else RelayStatus(relay=relay)


def down_relays(session: Session) -> list[RelayStatus]:
    """Every relay currently in an outage (for the coordinators' ``incontro outbox list``)."""
    rows = session.exec(select(MailRelay).where(col(MailRelay.down_since).is_not(None))).all()
    return [RelayStatus.of(r) for r in rows]


def record_failure(session: Session, relay: str, error: str, backoff: Callable[[int], timedelta]) -> RelayStatus:
    """One more failed probe: the outage starts now unless it already had; commits.

    ``backoff(n)`` is the wait after the n-th failed probe of this outage.
    """
    now = utcnow()
    for _ in range(2):  # a concurrent drain may create the row between our read and our insert
        row = session.get(MailRelay, relay, with_for_update=True, populate_existing=True)
        if row is None:
            row = MailRelay(relay=relay)
        if row.down_since is None:
            row.down_since, row.failed_probes, row.alerted_at = now, 0, None
        row.failed_probes += 1
        row.next_probe_at = now + backoff(row.failed_probes)
        row.last_error = error[:ERROR_MAX]
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return RelayStatus.of(row)
    raise RuntimeError(f"could not record the outage of relay {relay}")


def record_recovery(session: Session, relay: str) -> timedelta | None:
    """The relay answered: end its outage (if any) and return how long it lasted; commits."""
    now = utcnow()
    row = session.get(MailRelay, relay, populate_existing=True)
    if row is None or row.down_since is None:
        session.commit()
        return None
    lasted = now - (_aware(row.down_since) or now)
    row.down_since, row.failed_probes, row.next_probe_at, row.alerted_at = None, 0, None, None
    session.add(row)
    session.commit()
    _log.warning("SMTP relay reachable again after an outage of %s", lasted)
    return lasted


def alert_outage(
    session: Session, status: RelayStatus, *, after: timedelta, targets: AlertTargets | None
) -> list[Outbox]:
    """Enqueue the outage alert when ``status`` is down longer than ``after`` and not yet alerted.

    The guarded UPDATE of ``alerted_at`` and the alert rows commit together, so exactly one
    drain alerts about one outage. Without coordinators nothing is stamped (a coordinator
    configured later is still told). Returns the alert rows created.
    """
    now = utcnow()
    since = status.down_since
    if since is None or status.alerted_at is not None or now - since < after or targets is None:
        return []
    recipients = list(targets(session))
    if not recipients:
        session.commit()
        _log.error("SMTP relay unreachable for more than %s and no coordinator to alert", after)
        return []
    stamped = session.execute(
        update(MailRelay)
        .where(
            col(MailRelay.relay) == status.relay,
            col(MailRelay.down_since) == since,
            col(MailRelay.alerted_at).is_(None),
        )
        .values(alerted_at=now)
    )
    if not stamped.rowcount:  # type: ignore[attr-defined]
        session.commit()  # another drain alerted, or the relay came back meanwhile
        return []
    pending = session.exec(
        select(func.count()).select_from(Outbox).where(col(Outbox.status) == OutboxStatus.PENDING)
    ).one()
    hours = int((now - since).total_seconds() // 3600)
    context = {
        "error_summary": f"server di posta {status.relay} irraggiungibile da {hours} ore",
        "occurred_at": now,
        "outage": {
            "relay": status.relay,
            "since": since,
            "hours": hours,
            "pending": int(pending),
            "probes": status.failed_probes,
            "error": (status.last_error or "").split(":", 1)[0],
        },
    }
    digest = hashlib.sha256(f"{status.relay}|{since.isoformat()}".encode()).hexdigest()[:16]
    created: list[Outbox] = []
    for address, code in recipients:
        alert = enqueue_email(
            session,
            key=f"alert:outage:{digest}:{code}",
            kind=ALERT_KIND,
            recipient=address,
            recipient_code=code,
            context=context,
        )
        if alert is not None:
            alert.next_attempt_at = since  # first in line when the relay returns
            session.add(alert)
            created.append(alert)
    session.commit()
    _log.error("SMTP relay unreachable for %d hours: %d coordinator alerts queued", hours, len(created))
    return created
