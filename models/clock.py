"""The one clock: business dates are Europe/Rome, instants are aware UTC.

Every "now" and "today" in the application comes from here, never from ``date.today()`` or a
naive ``datetime.now()``: servers and containers may run in UTC (the 02:30 retention run would
otherwise use yesterday's date). Tests move the clock with ``time_machine.travel``, which these
functions follow because they read ``datetime.now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
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


def day_start(day: date) -> datetime:
    """The first instant of a Rome business day, in UTC: the bound to compare stored instants with
    (UTC midnight would move every event between 00:00 and 01:00/02:00 Rome to the day before)."""
    return datetime.combine(day, time(), tzinfo=ROME).astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored instant, aware: a naive value is taken as UTC (how SQLite returns it)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def in_rome(moment: datetime) -> datetime:
    """An instant shown in Rome time; a naive value is taken as UTC (how SQLite returns it)."""
    return as_utc(moment).astimezone(ROME)
