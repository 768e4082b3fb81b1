"""The one clock (models/clock.py): business dates in Rome whatever the machine's timezone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine

from models import clock


@pytest.fixture
def utc_machine() -> Iterator[None]:
    """The shipped image used to run in UTC: the process timezone must not matter."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.mark.usefixtures("utc_machine")
@pytest.mark.parametrize(
    ("utc_instant", "rome_day"),
    [
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 1)),  # winter: UTC+1
        (datetime(2026, 7, 14, 22, 30, tzinfo=UTC), date(2026, 7, 15)),  # summer: UTC+2
        (datetime(2026, 7, 14, 21, 59, tzinfo=UTC), date(2026, 7, 14)),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29)),  # the night clocks go forward
    ],
)
def test_today_is_the_rome_date(utc_instant: datetime, rome_day: date) -> None:
    with time_machine.travel(utc_instant, tick=False):
        assert clock.today() == rome_day
        assert clock.now().date() == rome_day
        assert clock.utcnow() == utc_instant
        assert clock.utcnow().tzinfo is UTC


@pytest.mark.usefixtures("utc_machine")
def test_after_midnight_in_rome_a_utc_machine_is_still_on_yesterday() -> None:
    """Why ``date.today()`` is banned (ruff DTZ011): between midnight and 01:00/02:00 Rome time a
    UTC machine still says yesterday, and the nightly runs would file their work a day early."""
    with time_machine.travel(datetime(2026, 12, 4, 23, 30, tzinfo=UTC), tick=False):
        assert date.today() == date(2026, 12, 4)  # noqa: DTZ011  (the machine's UTC date: yesterday in Rome)
        assert clock.today() == date(2026, 12, 5)


def test_in_rome_reads_naive_values_as_utc() -> None:
    naive = datetime(2026, 1, 15, 12, 0)  # how SQLite may hand a stored instant back
    assert clock.in_rome(naive).hour == 13
    assert clock.in_rome(datetime(2026, 7, 15, 12, 0, tzinfo=UTC)).hour == 14
