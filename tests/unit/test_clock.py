"""The one clock (models/clock.py): business dates in Rome whatever the machine's timezone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlmodel import Session

from config.data import load_routing
from models import clock
from models.enums import State
from tests.factories import SHAREABLE, make_case, seed_partners


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


def test_day_start_is_midnight_in_rome() -> None:
    assert clock.day_start(date(2026, 12, 5)) == datetime(2026, 12, 4, 23, 0, tzinfo=UTC)
    assert clock.day_start(date(2026, 7, 15)) == datetime(2026, 7, 14, 22, 0, tzinfo=UTC)


@pytest.mark.usefixtures("utc_machine")
def test_no_interest_days_are_counted_in_rome_days(session: Session) -> None:
    """Dispatched at 00:30 Rome (23:30 UTC the day before): the 30 days start on the Rome date.
    With UTC midnight as the day's bound the case moved to POLICY one day early (found when
    test_policy_flows failed between midnight in Rome and midnight UTC)."""
    from tasks.core.transitions import transition
    from tasks.policy.routing import route_to_policy

    with time_machine.travel(datetime(2026, 12, 4, 23, 30, tzinfo=UTC), tick=False):
        seed_partners(session)
        case = make_case(session, state=State.PROFILE_READY, consents=SHAREABLE)
        transition(session, case, State.DISPATCHED, actor="test")
        session.commit()
        dispatched_on = clock.today()
    assert dispatched_on == date(2026, 12, 5)
    days = load_routing().dispatch.no_interest_days
    assert route_to_policy(session, as_of=dispatched_on + timedelta(days=days - 1)) == {}
    routed = route_to_policy(session, as_of=dispatched_on + timedelta(days=days))
    assert [code for codes in routed.values() for code in codes] == [case.code]
