"""Appointment slots by office capacity, skipping weekends and Italian (Bergamo) holidays."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from models.clock import ROME


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


def allocate_slots(
    *,
    count: int,
    first_day: date,
    daily_capacity: int,
    opening: time,
    slot_minutes: int,
    booked: Mapping[date, int],
) -> list[datetime]:
    """The next ``count`` free slots (aware, Europe/Rome): fill each business day up to capacity."""
    if daily_capacity <= 0:
        raise ValueError("daily_capacity must be positive")
    slots: list[datetime] = []
    for day in business_days(first_day):
        taken = booked.get(day, 0)
        while taken < daily_capacity and len(slots) < count:
            slots.append(datetime.combine(day, opening, tzinfo=ROME) + timedelta(minutes=slot_minutes * taken))
            taken += 1
        if len(slots) >= count:
            return slots
    raise AssertionError("unreachable")
