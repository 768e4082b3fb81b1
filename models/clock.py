"""The one clock: business dates are Europe/Rome, instants are aware UTC.

Every "now" and "today" in the application comes from here, never from ``date.today()`` or a
naive ``datetime.now()``: servers and containers may run in UTC (the 02:30 retention run would
otherwise use yesterday's date). Tests move the clock with ``time_machine.travel``, which these
functions follow because they read ``datetime.now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

#: The timezone of every business date (appointments, deadlines, reports, schedules).
ROME = ZoneInfo("Europe/Rome")


def utcnow() -> datetime:
    """This instant, aware, in UTC (what the database stores)."""
    return datetime.now(UTC)


def now() -> datetime:
    """This instant, aware, in Rome time."""
    return datetime.now(ROME)


def today() -> date:
    """Today's business date in Rome (not the machine's timezone)."""
    return now().date()


def in_rome(moment: datetime) -> datetime:
    """An instant shown in Rome time; a naive value is taken as UTC (how SQLite returns it)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(ROME)
