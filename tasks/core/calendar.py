"""Business days (weekends and Italian, Bergamo holidays skipped) and appointment slots inside an
office's opening blocks, with its parallel desks and closures (pure; rules in config/offices.yaml)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from models.clock import ROME

#: An opening block: start and end time of day (Europe/Rome).
Block = tuple[time, time]


@lru_cache(maxsize=8)
def _holidays(year: int) -> holidays.HolidayBase:
    # subdiv BG adds 26 August, Sant'Alessandro, Bergamo's patron saint
    return holidays.country_holidays("IT", subdiv="BG", years=year)


def is_business_day(day: date) -> bool:
    """Monday–Friday and not an Italian or Bergamo holiday."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def business_days(start: date) -> Iterator[date]:
    """Business days from ``start`` (inclusive) onwards."""
    day = start
    while True:
        if is_business_day(day):
            yield day
        day += timedelta(days=1)


def add_business_days(start: date, n: int) -> date:
    """The business day ``n`` business days after ``start`` (n=0: start itself if open)."""
    it = business_days(start + timedelta(days=1) if n > 0 else start)
    day = next(it)
    for _ in range(max(n - 1, 0)):
        day = next(it)
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day):
            n += 1
    return n


def day_slots(day: date, blocks: Sequence[Block], slot_minutes: int) -> list[datetime]:
    """Start instants (aware, Europe/Rome) of the appointments that fit whole inside ``blocks``
    on ``day``: a 40-minute slot in 08:45-12:45 starts at 08:45 … 12:05, never at 12:45."""
    if slot_minutes <= 0:
        raise ValueError("slot_minutes must be positive")
    length = timedelta(minutes=slot_minutes)
    starts: list[datetime] = []
    for opens, closes in blocks:
        moment, end = datetime.combine(day, opens, tzinfo=ROME), datetime.combine(day, closes, tzinfo=ROME)
        while moment + length <= end:
            starts.append(moment)
            moment += length
    return starts


def allocate_slots(
    *,
    count: int,
    first_day: date,
    hours: Mapping[int, Sequence[Block]],
    slot_minutes: int,
    desks: int,
    closed: Container[date] = frozenset(),
    booked: Iterable[datetime] = (),
) -> list[datetime]:
    """The ``count`` earliest free appointments from ``first_day`` (aware, Europe/Rome).

    ``hours`` gives each weekday's opening blocks (0 = Monday; a missing day is closed). Slots lie
    inside a block, on business days not in ``closed``; each start is given to up to ``desks``
    people at once, so never more than ``desks`` appointments overlap, counting the ``booked``
    ones (starts of appointments already given, each ``slot_minutes`` long, on the grid or not).
    Raises ValueError when no weekday's blocks hold an appointment (an office never open).
    """
    if desks <= 0:
        raise ValueError("desks must be positive")
    if count > 0 and not any(day_slots(first_day, hours.get(weekday, ()), slot_minutes) for weekday in range(5)):
        raise ValueError("no opening block from Monday to Friday holds an appointment")
    length = timedelta(minutes=slot_minutes)
    taken: dict[date, list[datetime]] = defaultdict(list)
    for start in booked:
        local = start.astimezone(ROME)
        taken[local.date()].append(local)
    slots: list[datetime] = []
    day = first_day - timedelta(days=1)
    while len(slots) < count:  # ends: some weekday holds a slot, and closures and holidays are finite
        day += timedelta(days=1)
        if not is_business_day(day) or day in closed:
            continue
        busy = taken[day]
        for start in day_slots(day, hours.get(day.weekday(), ()), slot_minutes):
            # an appointment overlaps [start, start + length) when it starts less than a slot away
            overlapping = sum(1 for other in busy if abs(other - start) < length)
            for _ in range(min(desks - overlapping, count - len(slots))):
                slots.append(start)
                busy.append(start)
    return slots
