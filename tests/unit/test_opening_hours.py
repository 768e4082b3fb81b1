"""Intake appointments lie inside each office's opening blocks (issue 18).

The worked examples are read off a calendar by hand (weekdays and holidays noted in the
comments); the properties hold for any opening hours, slot length, desks, closures and
appointments already given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlmodel import Session, col, select

from config.data import Office, load_offices
from config.hours import load_appointment_rules
from models.cases import Case
from models.clock import ROME
from models.enums import State
from tasks.core.calendar import allocate_slots, day_slots, is_business_day
from tasks.intake import schedule_intakes
from tests.factories import make_case, seed_partners

OFFICES = {o.code: o for o in load_offices()}


def _at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=ROME)


def _slots(office: Office, count: int, first_day: date, booked: Sequence[datetime] = ()) -> list[datetime]:
    return allocate_slots(
        count=count,
        first_day=first_day,
        hours=office.hours.by_weekday(),
        slot_minutes=office.slot_minutes,
        desks=office.desks,
        closed=load_appointment_rules().closed_days() | {d for c in office.closures for d in c.days()},
        booked=booked,
    )


# --------------------------------------------------------------------------------------------
# Worked examples on the offices' own hours


def test_bergamo_gives_mornings_only_inside_08_45_12_45_and_tuesday_thursday_afternoons() -> None:
    bergamo = OFFICES["CPI-BG"]
    # Mon 7 Dec 2026; Tue 8 Dec is the Immacolata. 40-minute slots, two desks.
    slots = _slots(bergamo, 30, date(2026, 12, 7))
    monday = [s for s in slots if s.date() == date(2026, 12, 7)]
    starts = ["08:45", "09:25", "10:05", "10:45", "11:25", "12:05"]
    assert [f"{s:%H:%M}" for s in monday] == [t for t in starts for _ in range(2)]  # two people each time
    assert not [s for s in slots if s.date() == date(2026, 12, 8)]  # holiday
    thursday = [f"{s:%H:%M}" for s in slots if s.date() == date(2026, 12, 10)]
    # Wed 9 fills the morning (12); Thu 10 takes the last 6: the first three morning starts
    assert thursday == ["08:45", "08:45", "09:25", "09:25", "10:05", "10:05"]
    assert all(s.time() <= time(12, 5) for s in slots[:24])  # the bug: slots at 13:15-17:00


def test_a_busy_week_uses_the_afternoon_blocks_and_never_the_lunch_break() -> None:
    bergamo = OFFICES["CPI-BG"]
    slots = _slots(bergamo, 60, date(2026, 12, 7))
    thursday = sorted({f"{s:%H:%M}" for s in slots if s.date() == date(2026, 12, 10)})
    assert thursday == ["08:45", "09:25", "10:05", "10:45", "11:25", "12:05", "14:00", "14:40", "15:20"]
    for slot in slots:
        assert not time(12, 5) < slot.time() < time(14, 0), slot  # 12:45-14:00 closed
        assert slot.time() <= time(15, 20)  # the last 40 minutes before 16:00


def test_province_closures_and_office_closures_get_no_appointments() -> None:
    lovere = OFFICES["CPI-LOV"]  # one desk, 09:00-12:30, 45 minutes: 4 a day
    slots = _slots(lovere, 12, date(2026, 12, 21))  # Mon 21 Dec 2026
    days = sorted({s.date() for s in slots})
    # 24 Dec (province closure), 25 Christmas, 26 Saturday, 31 Dec (closure), 1 Jan
    assert days == [date(2026, 12, 21), date(2026, 12, 22), date(2026, 12, 23)]
    slots = _slots(lovere, 8, date(2027, 1, 21))  # Thu 21 Jan 2027; Fri 22 staff training at Lovere
    assert sorted({s.date() for s in slots}) == [date(2027, 1, 21), date(2027, 1, 25)]
    assert [f"{s:%H:%M}" for s in slots[:4]] == ["09:00", "09:45", "10:30", "11:15"]  # 12:00 would end 12:45


def test_appointments_already_given_keep_their_desks() -> None:
    lovere = OFFICES["CPI-LOV"]
    taken = [_at(date(2026, 9, 3), 9, 0), _at(date(2026, 9, 3), 10, 30)]  # Thu 3 Sep 2026
    slots = _slots(lovere, 3, date(2026, 9, 3), booked=taken)
    assert slots == [_at(date(2026, 9, 3), 9, 45), _at(date(2026, 9, 3), 11, 15), _at(date(2026, 9, 4), 9, 0)]
    off_grid = [_at(date(2026, 9, 3), 9, 20)]  # given by hand, 9:20-10:05: blocks 9:00 and 9:45
    assert _slots(lovere, 1, date(2026, 9, 3), booked=off_grid) == [_at(date(2026, 9, 3), 10, 30)]


def test_every_office_is_open_some_weekday_morning_and_fits_its_slots() -> None:
    for office in OFFICES.values():
        mornings = [office.hours.blocks(day) for day in range(5)]
        assert all(blocks and blocks[0][0] <= time(9, 0) for blocks in mornings), office.code
        assert 1 <= office.desks <= 3 and 30 <= office.slot_minutes <= 60


def test_scheduling_at_bergamo_keeps_to_its_hours_and_its_two_desks_across_runs(session: Session) -> None:
    """The measured bug: CPI Bergamo (08:45-12:45) got slots at 13:15-17:00."""
    seed_partners(session)
    first = [make_case(session, state=State.ACCEPTED, office="CPI-BG").code for _ in range(30)]
    assert schedule_intakes(session, today=date(2026, 12, 3)) == {"CPI-BG": first}  # Thu: from Mon 7 Dec
    later = [make_case(session, state=State.ACCEPTED, office="CPI-BG").code for _ in range(10)]
    assert schedule_intakes(session, today=date(2026, 12, 3)) == {"CPI-BG": later}
    given = session.exec(select(Case.intake_at).where(col(Case.code).in_(first + later))).all()
    local = sorted(at.astimezone(ROME) for at in given if at is not None)
    assert len(local) == 40
    for at in local:
        morning = time(8, 45) <= at.time() and (at + timedelta(minutes=40)).time() <= time(12, 45)
        afternoon = at.weekday() in (1, 3) and time(14, 0) <= at.time() <= time(15, 20)
        assert morning or afternoon, at
        assert at.date() != date(2026, 12, 8)  # Immacolata
    assert max(Counter(local).values()) == 2  # two desks, and the second run did not double-book
    # Mon 7 (12 places), Wed 9 (12), Thu 10 (18, with the afternoon): 42 places for 40 people
    assert {at.date() for at in local} == {date(2026, 12, 7), date(2026, 12, 9), date(2026, 12, 10)}


# --------------------------------------------------------------------------------------------
# The office's hours are checked on load


def _office(**changes: Any) -> dict[str, Any]:
    data = OFFICES["CPI-LOV"].model_dump(by_alias=True)
    data["hours"] = {"mon": ["09:00-12:30"], "thu": ["09:00-12:30", "14:00-16:00"]}
    data["closures"] = []
    return data | changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hours": {"mon": ["12:45-08:45"]}}, "start must be before end"),
        ({"hours": {"mon": ["8:45-12:45"]}}, "HH:MM-HH:MM"),
        ({"hours": {"tue": ["09:00-12:30", "12:00-14:00"]}}, "must not overlap"),
        ({"hours": {"tue": ["14:00-16:00", "09:00-12:30"]}}, "in order"),
        ({"hours": {"lunedi": ["09:00-12:30"]}}, "lunedi"),
        ({"hours": {}}, "at least one day"),
        ({"hours": {"fri": ["09:00-09:30"]}, "slot_minutes": 45}, "shorter than one appointment"),
        ({"desks": 0}, "desks"),
        ({"closures": [{"from": "2027-01-10", "to": "2027-01-05", "reason": "trasloco"}]}, "before 'from'"),
    ],
)
def test_wrong_hours_fail_on_load(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Office.model_validate(_office(**changes))


def test_a_closure_covers_every_day_from_to() -> None:
    office = Office.model_validate(
        _office(closures=[{"from": "2027-08-09", "to": "2027-08-13", "reason": "chiusura estiva"}])
    )
    assert [d.day for d in office.closures[0].days()] == [9, 10, 11, 12, 13]
    assert office.daily_capacity == 6  # Thursday, one desk, 45': 09:00-12:30 holds 4, 14:00-16:00 holds 2


# --------------------------------------------------------------------------------------------
# Properties

_TIMES = st.integers(min_value=7 * 4, max_value=19 * 4).map(lambda q: time(q // 4, (q % 4) * 15))


@st.composite
def _blocks(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    """Up to three ordered, apart blocks on quarter hours between 07:00 and 19:00."""
    edges = sorted(set(draw(st.lists(_TIMES, min_size=0, max_size=6))))
    edges = edges[: len(edges) // 2 * 2]
    return tuple((edges[i], edges[i + 1]) for i in range(0, len(edges), 2))


@st.composite
def _office_hours(draw: st.DrawFn) -> dict[int, tuple[tuple[time, time], ...]]:
    hours = {day: draw(_blocks()) for day in range(5)}
    if not any(hours.values()):
        hours[draw(st.integers(0, 4))] = ((time(9, 0), time(12, 30)),)
    return hours


def _max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at the same instant (an end frees its desk before a start takes it)."""
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda p: (p[0], p[1]))
    most = now = 0
    for _, step in points:
        now += step
        most = max(most, now)
    return most


@settings(max_examples=150, deadline=None)
@given(
    hours=_office_hours(),
    slot_minutes=st.sampled_from([20, 30, 40, 45, 60]),
    desks=st.integers(min_value=1, max_value=3),
    first_day=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    count=st.integers(min_value=0, max_value=40),
    closed_offsets=st.sets(st.integers(min_value=0, max_value=30), max_size=8),
    booked_raw=st.lists(
        st.tuples(st.integers(min_value=0, max_value=20), st.integers(min_value=7 * 12, max_value=18 * 12)),
        max_size=15,
    ),
)
def test_no_slot_outside_a_block_or_on_a_closed_day_and_never_more_than_desks_at_once(
    hours: dict[int, tuple[tuple[time, time], ...]],
    slot_minutes: int,
    desks: int,
    first_day: date,
    count: int,
    closed_offsets: set[int],
    booked_raw: list[tuple[int, int]],
) -> None:
    length = timedelta(minutes=slot_minutes)
    closed = {first_day + timedelta(days=n) for n in closed_offsets}
    booked: list[datetime] = []  # appointments given earlier (on any 5-minute mark), never over the desks
    for offset, five in booked_raw:
        start = _at(first_day + timedelta(days=offset), five // 12, five % 12 * 5)
        if _max_overlap([(b, b + length) for b in [*booked, start]]) <= desks:
            booked.append(start)
    try:
        slots = allocate_slots(
            count=count,
            first_day=first_day,
            hours=hours,
            slot_minutes=slot_minutes,
            desks=desks,
            closed=closed,
            booked=booked,
        )
    except ValueError:
        # only when no block from Monday to Friday holds a single appointment
        assert all(not day_slots(first_day, hours.get(d, ()), slot_minutes) for d in range(5))
        return
    assert len(slots) == count
    assert slots == sorted(slots)  # the earliest free first
    for slot in slots:
        local = slot.astimezone(ROME)
        day = local.date()
        assert day >= first_day and is_business_day(day) and day not in closed
        inside = [
            (a, b)
            for a, b in hours.get(day.weekday(), ())
            if _at(day, a.hour, a.minute) <= local and local + length <= _at(day, b.hour, b.minute)
        ]
        assert inside, f"{local} outside the blocks {hours.get(day.weekday())}"
    assert _max_overlap([(s, s + length) for s in [*booked, *slots]]) <= desks
