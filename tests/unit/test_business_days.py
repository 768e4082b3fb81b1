"""Business-day arithmetic around Italian holidays and Bergamo's patron saint (26 August).

Expected values are worked out on a calendar by hand (weekdays noted in the comments), not
derived from the ``holidays`` package the code uses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tasks.core.calendar import add_business_days, business_days_between, is_business_day
from tasks.reports.kpis import local_date

HOLIDAYS_ON_WEEKDAYS = [
    date(2025, 4, 25),  # Liberazione, Friday
    date(2026, 6, 2),  # Festa della Repubblica, Tuesday
    date(2025, 8, 15),  # Ferragosto, Friday
    date(2026, 8, 26),  # Sant'Alessandro, Bergamo's patron saint, Wednesday
    date(2025, 8, 26),  # ... Tuesday
    date(2025, 12, 25),  # Natale, Thursday
    date(2025, 12, 26),  # Santo Stefano, Friday
    date(2026, 12, 25),  # Natale, Friday
    date(2026, 4, 6),  # Easter Monday (Pasquetta) 2026
    date(2027, 3, 29),  # Easter Monday 2027
    date(2025, 4, 21),  # Easter Monday 2025
    date(2026, 1, 6),  # Epifania, Tuesday
    date(2026, 12, 8),  # Immacolata, Tuesday
    date(2025, 5, 1),  # Festa del lavoro, Thursday
]


@pytest.mark.parametrize("day", HOLIDAYS_ON_WEEKDAYS, ids=str)
def test_holidays_are_not_business_days(day: date) -> None:
    assert day.weekday() < 5  # the test is only meaningful on a weekday
    assert not is_business_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 8, 25),  # the day before Sant'Alessandro
        date(2026, 8, 27),
        date(2026, 4, 7),  # the day after Easter Monday
        date(2026, 4, 3),  # Good Friday is a working day in Italy
        date(2026, 12, 24),  # Christmas Eve
        date(2026, 12, 31),
        date(2026, 6, 1),
        date(2026, 12, 7),  # Sant'Ambrogio is Milan's holiday, not Bergamo's
    ],
    ids=str,
)
def test_ordinary_weekdays_are_business_days(day: date) -> None:
    assert is_business_day(day)


def test_weekends_are_never_business_days() -> None:
    assert not is_business_day(date(2026, 10, 3))  # Saturday
    assert not is_business_day(date(2026, 10, 4))  # Sunday


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Mon 24 Aug → Mon 31 Aug 2026: 25, 27, 28, 31 (26 Sant'Alessandro, 29-30 weekend)
        (date(2026, 8, 24), date(2026, 8, 31), 4),
        # Fri 14 Aug → Tue 18 Aug 2025: 15 Ferragosto (Fri), weekend, 18 → 1
        (date(2025, 8, 14), date(2025, 8, 18), 1),
        # Thu 24 Apr → Mon 28 Apr 2025: 25 Liberazione, weekend, 28 → 1
        (date(2025, 4, 24), date(2025, 4, 28), 1),
        # Fri 29 May → Wed 3 Jun 2026: 1 Jun, (2 Jun Repubblica), 3 Jun → 2
        (date(2026, 5, 29), date(2026, 6, 3), 2),
        # Wed 23 Dec → Tue 29 Dec 2026: 24, (25 Natale Fri), weekend, 28, 29 → 3
        (date(2026, 12, 23), date(2026, 12, 29), 3),
        # Wed 24 Dec → Mon 29 Dec 2025: (25 Thu, 26 Fri), weekend, 29 → 1
        (date(2025, 12, 24), date(2025, 12, 29), 1),
        # Thu 2 Apr → Tue 7 Apr 2026: 3 (Good Friday works), weekend, (6 Pasquetta), 7 → 2
        (date(2026, 4, 2), date(2026, 4, 7), 2),
        # same day, and end before start
        (date(2026, 10, 5), date(2026, 10, 5), 0),
        (date(2026, 10, 6), date(2026, 10, 5), 0),
        # across the year: Wed 30 Dec 2026 → Thu 7 Jan 2027: 31, (1 Jan), weekend, 4, 5, (6 Epifania), 7 → 4
        (date(2026, 12, 30), date(2027, 1, 7), 4),
    ],
)
def test_business_days_between(start: date, end: date, expected: int) -> None:
    assert business_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 8, 25), 1, date(2026, 8, 27)),  # skips Sant'Alessandro
        (date(2026, 8, 24), 3, date(2026, 8, 28)),  # 25, 27, 28
        (date(2026, 4, 3), 1, date(2026, 4, 7)),  # Good Friday + 1 → after Easter Monday
        (date(2026, 6, 1), 1, date(2026, 6, 3)),  # skips 2 June
        (date(2026, 12, 24), 1, date(2026, 12, 28)),  # skips Christmas (Fri) and the weekend
        (date(2025, 12, 24), 1, date(2025, 12, 29)),  # skips Christmas (Thu) and Santo Stefano (Fri)
        (date(2025, 4, 24), 1, date(2025, 4, 28)),  # skips 25 April (Fri)
        (date(2025, 8, 14), 1, date(2025, 8, 18)),  # skips Ferragosto (Fri)
        (date(2026, 8, 26), 0, date(2026, 8, 27)),  # n=0 on a holiday: the next open day
        (date(2026, 8, 27), 0, date(2026, 8, 27)),
    ],
)
def test_add_business_days(start: date, n: int, expected: date) -> None:
    assert add_business_days(start, n) == expected


def test_add_and_between_agree_over_a_year() -> None:
    """Adding n business days then counting them back gives n, across every holiday of 2026."""
    start = date(2025, 12, 31)
    for n in range(1, 260):
        assert business_days_between(start, add_business_days(start, n)) == n
    # 2026 has 261 weekdays; 8 holidays fall on a weekday in Bergamo:
    # 1 Jan, 6 Jan, 6 Apr, 1 May, 2 Jun, 26 Aug, 8 Dec, 25 Dec (25 Apr, 15 Aug, 1 Nov, 26 Dec are weekends)
    assert business_days_between(start, date(2026, 12, 31)) == 261 - 8


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 9, 30, 22, 30, tzinfo=UTC), date(2026, 10, 1)),  # CEST: 00:30 on 1 October
        (datetime(2026, 10, 31, 22, 30, tzinfo=UTC), date(2026, 10, 31)),  # CET: 23:30 on 31 October
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 8, 25, 22, 0, tzinfo=UTC), date(2026, 8, 26)),  # midnight of Sant'Alessandro
        (datetime(2026, 8, 25, 21, 59), date(2026, 8, 25)),  # naive values are read as UTC
    ],
)
def test_stored_utc_timestamps_fall_on_bergamo_days(moment: datetime, expected: date) -> None:
    assert local_date(moment) == expected
