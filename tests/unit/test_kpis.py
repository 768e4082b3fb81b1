"""Every KPI equals a hand-computed answer AND an independent SQL query on a small seeded history.

The fixture (October 2026, Bergamo time; CEST until 25 October, CET after) is built so that each
figure can be worked out on paper; the comments next to the expectations show the arithmetic.
The independent queries are raw SQL written against the tables (own UTC bounds, own calendar of
2026 holidays), sharing no code with ``tasks.reports.kpis``.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from models.cases import Case, CaseEvent, Enrollment
from models.enums import Cefr, InterestAnswer, OutcomeKind, State
from models.exchange import DispatchBatch, DispatchItem, Interest, Outcome
from models.people import Referral
from tasks.reports import kpis
from tasks.reports.kpis import Period, PeriodError
from tests.factories import make_case, seed_partners

S = State
OCT = Period.month("2026-10")
ALL = Period.since_start(date(2026, 11, 1))
# October 2026 in Bergamo, in UTC as stored (CEST = UTC+2 on 1 October, CET = UTC+1 on 1 November).
LO, HI = "2026-09-30 22:00:00", "2026-10-31 23:00:00"


def _history(session: Session, case: Case, steps: list[tuple[State, str]]) -> None:
    """Append-only history as the transitions would have written it (times in UTC)."""
    previous: State | None = None
    for state, at in steps:
        moment = datetime.fromisoformat(at + "+00:00")
        session.add(CaseEvent(case_id=_id(case), from_state=previous, to_state=state, actor="test", at=moment))
        previous = state
    assert previous is not None
    case.state = previous
    session.add(case)
    session.commit()


FULL_PATH = [S.REFERRED, S.ACCEPTED, S.INTAKE_SCHEDULED, S.INTAKE_DONE, S.PROFILE_READY, S.DISPATCHED]
HIRE_PATH = [*FULL_PATH, S.INTEREST, S.INTERVIEW, S.HIRED]


def seed(session: Session) -> dict[str, Case]:
    """Thirteen cases; see the module docstring and each expectation for what they exercise."""
    seed_partners(session)

    def case(name: str, office: str | None, referrer: str, **kw: Any) -> Case:
        return make_case(session, office=office, referrer=referrer, **kw)

    c: dict[str, Case] = {}
    c["A"] = case("A", "CPI-BG", "CARITAS-BG")
    _history(
        session,
        c["A"],
        list(
            zip(
                HIRE_PATH,
                [
                    "2026-09-28 09:00",
                    "2026-09-29 09:00",
                    "2026-10-01 08:00",
                    "2026-10-06 08:00",
                    "2026-10-06 10:00",
                    "2026-10-08 09:00",
                    "2026-10-15 09:00",
                    "2026-10-20 09:00",
                    "2026-10-27 09:00",
                ],
                strict=True,
            )
        ),
    )
    # A second partner referred A later: the credit stays with the first referrer.
    session.add(Referral(person_key=c["A"].person_key, case_id=_id(c["A"]), referrer_code="AMBITO-BG"))
    c["B"] = case("B", "CPI-BG", "AMBITO-BG")
    _history(
        session,
        c["B"],
        [
            (S.REFERRED, "2026-10-01 07:00"),
            (S.ACCEPTED, "2026-10-02 07:00"),
            (S.INTAKE_SCHEDULED, "2026-10-05 07:00"),
            (S.INTAKE_DONE, "2026-10-12 07:00"),
            (S.LITERACY, "2026-10-12 08:00"),
        ],
    )
    c["C"] = case("C", "CPI-TRE", "CARITAS-BG")
    august = ["08-20", "08-21", "08-24", "08-31", "09-01", "09-02", "09-10", "09-15", "09-21"]
    _history(session, c["C"], [(s, f"2026-{d} 08:00") for s, d in zip(HIRE_PATH, august, strict=True)])
    c["D"] = case("D", "CPI-TRE", "AMBITO-BG")
    spring = ["03-02", "03-03", "03-05", "03-10", "03-10", "03-12", "03-16", "03-20", "04-01"]
    _history(session, c["D"], [(s, f"2026-{d} 10:00") for s, d in zip(HIRE_PATH, spring, strict=True)])
    c["E"] = case("E", "CPI-BG", "CARITAS-BG")
    april = ["02-02", "02-03", "02-05", "02-10", "02-10", "02-12", "02-16", "03-20", "04-20"]
    _history(session, c["E"], [(s, f"2026-{d} 10:00") for s, d in zip(HIRE_PATH, april, strict=True)])
    c["F"] = case("F", "CPI-BG", "CARITAS-BG")
    _history(session, c["F"], [(S.REFERRED, "2026-10-20 09:00"), (S.REJECTED, "2026-10-21 09:00")])
    c["G"] = case("G", None, "CARITAS-BG")
    _history(session, c["G"], [(S.REFERRED, "2026-10-22 09:00"), (S.DUPLICATE, "2026-10-22 09:05")])
    c["H"] = case("H", "CPI-TRE", "AMBITO-BG")
    _history(
        session,
        c["H"],
        [(S.REFERRED, "2026-10-10 09:00"), (S.ACCEPTED, "2026-10-12 09:00"), (S.INTAKE_SCHEDULED, "2026-10-13 09:00")],
    )
    c["I"] = case("I", "CPI-BG", "CARITAS-BG")  # 1 November 00:30 in Bergamo: not October
    _history(session, c["I"], [(S.REFERRED, "2026-10-31 23:30")])
    c["J"] = case("J", None, "CARITAS-BG")  # 1 October 00:30 in Bergamo: October
    _history(session, c["J"], [(S.REFERRED, "2026-09-30 22:30")])
    c["K"] = case("K", "CPI-TRE", "AMBITO-BG")
    september = ["09-01", "09-02", "09-03", "09-10", "09-10 10:00", "10-08 09:00"]
    _history(
        session,
        c["K"],
        [(s, f"2026-{d}" if " " in d else f"2026-{d} 08:00") for s, d in zip(FULL_PATH, september, strict=True)],
    )
    c["M"] = case("M", "CPI-TRE", "CARITAS-BG")
    _history(
        session,
        c["M"],
        [
            (S.REFERRED, "2026-10-05 09:00"),
            (S.ACCEPTED, "2026-10-06 09:00"),
            (S.INTAKE_SCHEDULED, "2026-10-07 09:00"),
            (S.NO_SHOW, "2026-10-29 09:00"),
        ],
    )
    c["R"] = case("R", "CPI-ALB", "ASSOC-RIFUGIATI-BG")
    _history(session, c["R"], [(S.REFERRED, "2026-10-19 09:00"), (S.ACCEPTED, "2026-10-20 09:00")])
    c["L"] = case("L", "CPI-BG", "CARITAS-BG", state=S.CLOSED)  # closed: its old due date is no longer a duty
    c["Q"] = case("Q", "CPI-BG", "CARITAS-BG", state=S.PROFILE_READY)  # courses only, no history

    # next steps: H late since 20 Oct, M due Friday 30 Oct, R due 1 Nov (not late), L closed
    for name, due in (("H", date(2026, 10, 20)), ("M", date(2026, 10, 30)), ("R", date(2026, 11, 1))):
        c[name].next_step, c[name].next_due = "intake", due
        session.add(c[name])
    c["L"].next_step, c["L"].next_due = "intake", date(2026, 10, 1)
    session.add(c["L"])

    # hires: D's 180th day is 1 Oct, E's 31 Oct (both due in October); C's and A's are not
    hires = (("D", date(2026, 4, 4), 365), ("E", date(2026, 5, 4), 90), ("C", date(2026, 9, 22), 365))
    for name, start, length in hires:
        recorded = _utc(f"{start.isoformat()} 10:00")
        session.add(
            Outcome(case_id=_id(c[name]), kind=OutcomeKind.HIRED, start=start, length_days=length, recorded_at=recorded)
        )
    session.add(Outcome(case_id=_id(c["A"]), kind=OutcomeKind.HIRED, start=date(2026, 11, 2), length_days=200))
    session.add(Outcome(case_id=_id(c["D"]), kind=OutcomeKind.EMPLOYED_180, recorded_at=_utc("2026-10-14 10:00")))

    # Italian courses
    courses = (
        (c["B"], "CPIA-BG", Cefr.A2, "2026-10-12 09:00", None, None),
        (c["Q"], "CPIA-BG", Cefr.A2, "2026-09-01 09:00", "passed", date(2026, 10, 23)),
        (c["Q"], "CPIA-TRV", Cefr.A1, "2026-09-01 09:00", "dropped", date(2026, 10, 9)),
        (c["Q"], "CPIA-BG", Cefr.A2, "2026-06-01 09:00", "failed", date(2026, 9, 25)),
        (c["Q"], "CPIA-BG", Cefr.A2, "2026-09-15 09:00", "passed", date(2026, 11, 5)),
    )
    for owner, cpia, level, requested, outcome, end in courses:
        session.add(
            Enrollment(
                case_id=_id(owner),
                cpia_code=cpia,
                level=level,
                requested_at=_utc(requested),
                outcome=outcome,
                end=end,
            )
        )

    # dispatch: W36 (September) with C; W41 (8 October) with A and K
    w36 = DispatchBatch(
        code="DSP-2026-W36", recipient_code="CONFINDUSTRIA-BG", created_at=_utc("2026-09-02 07:00"),
        sent_at=_utc("2026-09-02 08:00"),
    )  # fmt: skip
    w41 = DispatchBatch(
        code="DSP-2026-W41", recipient_code="CONFINDUSTRIA-BG", created_at=_utc("2026-10-08 08:00"),
        sent_at=_utc("2026-10-08 09:00"),
    )  # fmt: skip
    session.add_all([w36, w41])
    session.flush()
    session.add_all(
        [
            DispatchItem(batch_id=_id(w36), case_id=_id(c["C"])),
            DispatchItem(batch_id=_id(w41), case_id=_id(c["A"])),
            DispatchItem(batch_id=_id(w41), case_id=_id(c["K"])),
        ]
    )
    answers = (
        ("C", "COMP-FORNO-SERIO", InterestAnswer.INTERESTED, "2026-09-10 08:00"),
        ("A", "COMP-OFFICINE-VALSERIANA", InterestAnswer.INTERESTED, "2026-10-14 09:00"),
        ("A", "COMP-GOMMA-ISOLA", InterestAnswer.INTERVIEW, "2026-10-15 09:00"),
        ("A", "COMP-LOGISTICA-ORIO", InterestAnswer.NO, "2026-10-16 09:00"),
        ("K", "COMP-OFFICINE-VALSERIANA", InterestAnswer.NO, "2026-10-20 09:00"),
        ("K", "COMP-GOMMA-ISOLA", InterestAnswer.INTERESTED, "2026-11-03 09:00"),  # after October
    )
    for name, company, answer, at in answers:
        session.add(Interest(company_code=company, case_id=_id(c[name]), answer=answer, answered_at=_utc(at)))
    session.commit()
    return c


def _id(row: Any) -> int:
    assert row.id is not None
    return int(row.id)


def _utc(text_value: str) -> datetime:
    return datetime.fromisoformat(text_value + "+00:00")


@pytest.fixture
def seeded(session: Session) -> dict[str, Case]:
    return seed(session)


def _sql(session: Session, query: str, **params: Any) -> list[Any]:
    return list(session.connection().execute(text(query), params).all())


# --------------------------------------------------------------------------------------------
# Hand-computed expectations for October 2026

FLOWS_OCT = {
    # entered: referred B F G H J M R; accepted B H M R; intake_scheduled A B H M; ...
    "referred": (7, 6),  # left: B F G H M R (J still there, I is November)
    "accepted": (4, 4),  # left: A (1 Oct) B H M; R still there
    "intake_scheduled": (4, 3),  # left: A B M; H still there
    "intake_done": (2, 2),
    "literacy": (1, 0),
    "profile_ready": (1, 2),  # left: A and K (dispatched 8 Oct)
    "dispatched": (2, 1),
    "interest": (1, 1),
    "interview": (1, 1),
    "hired": (1, 0),
    "rejected": (1, 0),
    "duplicate": (1, 0),
    "no_show": (1, 0),
}

CONVERSION_ALL = [  # cumulative to 31 Oct: cohorts of first entries
    ("referred", "accepted", 12, 9),  # A B C D E F G H J K M R; F rejected, G duplicate, J waiting
    ("accepted", "intake_scheduled", 9, 8),  # R waits
    ("intake_scheduled", "intake_done", 8, 6),  # H waits, M no-show
    ("intake_done", "profile_ready", 6, 5),  # B at the CPIA course
    ("profile_ready", "dispatched", 5, 5),
    ("dispatched", "interest", 5, 4),  # K: no interest yet
    ("interest", "interview", 4, 4),
    ("interview", "hired", 4, 4),
]

PLACEMENT_OFFICE = [  # taken in charge (accepted) and hired, cumulative
    ("CPI-ALB", 1, 0, 0.0, -15.0, "sotto"),  # R
    ("CPI-BG", 3, 2, 2 / 3, 51.7, "sopra"),  # A B E; A E hired
    ("CPI-TRE", 5, 2, 0.4, 25.0, "sopra"),  # C D H K M; C D hired
    ("Totale", 9, 4, 4 / 9, 29.4, "sopra"),
]
PLACEMENT_REFERRER = [
    ("AMBITO-BG", 4, 1, 0.25, 10.0, "sopra"),  # B D H K (A's later referral does not count)
    ("ASSOC-RIFUGIATI-BG", 1, 0, 0.0, -15.0, "sotto"),
    ("CARITAS-BG", 4, 3, 0.75, 60.0, "sopra"),  # A C E M
    ("Totale", 9, 4, 4 / 9, 29.4, "sopra"),
]

TIME_IN_STAGE_OCT = {
    # state: (completed, mean, median, max, open, open median) in business days
    "referred": (6, 0.8, 1, 1, 1, 21),  # B1 F1 G0 H1 (Sat→Mon) M1 R1; J open since 1 Oct: 21
    "accepted": (4, 1.2, 1, 2, 1, 8),  # A 29 Sep→1 Oct: 2; B1 H1 M1 → mean 1.25; R open 20→31 Oct: 8
    "intake_scheduled": (3, 8.0, 5, 16, 1, 13),  # A 1→6 Oct: 3; B 5→12: 5; M 7→29: 16; H open: 13
    "intake_done": (2, 0.0, 0, 0, 0, None),
    "literacy": (0, None, None, None, 1, 14),  # B since 12 Oct
    "profile_ready": (2, 11.0, 11.0, 20, 0, None),  # A 6→8 Oct: 2; K 10 Sep→8 Oct: 20
    "dispatched": (1, 5.0, 5, 5, 1, 16),  # A 8→15 Oct; K open since 8 Oct
    "interest": (1, 3.0, 3, 3, 0, None),
    "interview": (1, 5.0, 5, 5, 0, None),
    "no_show": (0, None, None, None, 1, 1),  # M since Thu 29 Oct: Fri 30
}


# --------------------------------------------------------------------------------------------
# Periods


def test_period_month_bounds_follow_bergamo_time() -> None:
    assert (OCT.start, OCT.end, OCT.key) == (date(2026, 10, 1), date(2026, 11, 1), "2026-10")
    lo, hi = OCT.utc_bounds()
    assert (lo.isoformat(), hi.isoformat()) == ("2026-09-30T22:00:00+00:00", "2026-10-31T23:00:00+00:00")
    assert Period.month("2026-12").end == date(2027, 1, 1)
    assert Period.month_to_date(date(2026, 10, 15)).key == "2026-10-01_2026-10-15"


@pytest.mark.parametrize("bad", ["2026-13", "10/2026", "2026-1", "ottobre", "", "2026-00"])
def test_period_refuses_bad_months_in_italian(bad: str) -> None:
    with pytest.raises(PeriodError, match="scrivere AAAA-MM, per esempio 2026-10"):
        Period.month(bad)


# --------------------------------------------------------------------------------------------
# Entering and leaving each state


def test_state_flows_hand_and_sql(session: Session, seeded: dict[str, Case]) -> None:
    got = {r["state"]: (r["entered"], r["left"]) for r in kpis.state_flows(session, OCT)}
    assert got == FLOWS_OCT
    entered = dict(
        _sql(
            session,
            "SELECT to_state, COUNT(DISTINCT case_id) FROM case_event WHERE at >= :lo AND at < :hi GROUP BY to_state",
            lo=LO,
            hi=HI,
        )
    )
    left = dict(
        _sql(
            session,
            "SELECT from_state, COUNT(DISTINCT case_id) FROM case_event "
            "WHERE at >= :lo AND at < :hi AND from_state IS NOT NULL GROUP BY from_state",
            lo=LO,
            hi=HI,
        )
    )
    assert got == {s: (entered.get(s, 0), left.get(s, 0)) for s in set(entered) | set(left)}


def test_state_flows_per_office_and_referrer_match_sql(session: Session, seeded: dict[str, Case]) -> None:
    by_office = {
        (r["group"], r["state"]): r["entered"] for r in kpis.state_flows(session, OCT, by="office") if r["entered"]
    }
    assert by_office[("CPI-BG", "referred")] == 2  # B F
    assert by_office[("CPI-TRE", "referred")] == 2  # H M
    assert by_office[("—", "referred")] == 2  # G J have no office
    rows = _sql(
        session,
        "SELECT COALESCE(c.office_code, '—'), e.to_state, COUNT(DISTINCT e.case_id) FROM case_event e "
        'JOIN "case" c ON c.id = e.case_id WHERE e.at >= :lo AND e.at < :hi GROUP BY 1, 2',
        lo=LO,
        hi=HI,
    )
    assert by_office == {(o, s): n for o, s, n in rows}
    by_ref = {
        (r["group"], r["state"]): r["entered"] for r in kpis.state_flows(session, OCT, by="referrer") if r["entered"]
    }
    rows = _sql(
        session,
        "SELECT r.referrer_code, e.to_state, COUNT(DISTINCT e.case_id) FROM case_event e "
        "JOIN referral r ON r.id = (SELECT MIN(id) FROM referral WHERE case_id = e.case_id) "
        "WHERE e.at >= :lo AND e.at < :hi GROUP BY 1, 2",
        lo=LO,
        hi=HI,
    )
    assert by_ref == {(o, s): n for o, s, n in rows}
    assert by_ref[("CARITAS-BG", "intake_scheduled")] == 2  # A M


# --------------------------------------------------------------------------------------------
# Conversion and placement


_FIRST_ENTRY = (
    "SELECT case_id, MIN(at) AS first_at FROM case_event WHERE to_state = '{state}' AND at < :hi GROUP BY case_id"
)


def test_conversion_hand_and_sql(session: Session, seeded: dict[str, Case]) -> None:
    got = [(r["from_state"], r["to_state"], r["entered"], r["converted"]) for r in kpis.conversion(session, ALL)]
    assert got == CONVERSION_ALL
    for source, target, entered, converted in CONVERSION_ALL:
        ((n_in, n_out),) = _sql(
            session,
            f"SELECT COUNT(*), COUNT(t.case_id) FROM ({_FIRST_ENTRY.format(state=source)}) s "
            f"LEFT JOIN ({_FIRST_ENTRY.format(state=target)}) t ON t.case_id = s.case_id WHERE s.first_at >= :lo",
            lo="2000-01-01",
            hi=HI,
        )
        assert (n_in, n_out) == (entered, converted)
    october = kpis.conversion(session, OCT)[0]  # referred in October: B F G H J M R; accepted B H M R
    assert (october["entered"], october["converted"], october["rate"]) == (7, 4, 4 / 7)


@pytest.mark.parametrize(("by", "expected"), [("office", PLACEMENT_OFFICE), ("referrer", PLACEMENT_REFERRER)])
def test_placement_against_baseline_hand_and_sql(
    session: Session, seeded: dict[str, Case], by: kpis.Grouping, expected: list[tuple[Any, ...]]
) -> None:
    rows = kpis.placement(session, ALL, by=by)
    got = [(r["group"], r["taken_in_charge"], r["hired"], r["rate"], r["delta_pp"], r["vs_baseline"]) for r in rows]
    assert got == [(g, t, h, pytest.approx(r), d, v) for g, t, h, r, d, v in expected]
    assert all(r["baseline"] == 0.15 for r in rows)
    group = (
        "c.office_code"
        if by == "office"
        else "(SELECT referrer_code FROM referral WHERE id = (SELECT MIN(id) FROM referral WHERE case_id = c.id))"
    )
    sql = _sql(
        session,
        f"SELECT {group}, COUNT(*), COUNT(h.case_id) FROM ({_FIRST_ENTRY.format(state='accepted')}) a "
        f'JOIN "case" c ON c.id = a.case_id LEFT JOIN ({_FIRST_ENTRY.format(state="hired")}) h '
        "ON h.case_id = a.case_id GROUP BY 1 ORDER BY 1",
        hi=HI,
    )
    assert [(g, t, h) for g, t, h, *_ in got[:-1]] == [tuple(r) for r in sql]


# --------------------------------------------------------------------------------------------
# Time in stage (business days) and overdue steps

_CALENDAR = """
WITH RECURSIVE cal(d) AS (SELECT '2026-01-01' UNION ALL SELECT date(d, '+1 day') FROM cal WHERE d < '2026-12-31'),
biz(d) AS (SELECT d FROM cal WHERE strftime('%w', d) NOT IN ('0', '6') AND d NOT IN (
    '2026-01-01', '2026-01-06', '2026-04-06', '2026-04-25', '2026-05-01', '2026-06-02',
    '2026-08-15', '2026-08-26', '2026-11-01', '2026-12-08', '2026-12-25', '2026-12-26')),
ev AS (SELECT case_id, to_state, at,
    date(at, CASE WHEN at >= '2026-03-29 01:00' AND at < '2026-10-25 01:00' THEN '+2 hours' ELSE '+1 hour' END)
        AS local_day,
    LEAD(at) OVER (PARTITION BY case_id ORDER BY at, id) AS left_at
    FROM case_event WHERE at < :hi),
stay AS (SELECT ev.*, date(left_at, CASE WHEN left_at >= '2026-03-29 01:00' AND left_at < '2026-10-25 01:00'
    THEN '+2 hours' ELSE '+1 hour' END) AS left_day FROM ev)
"""


def test_time_in_stage_hand_and_sql(session: Session, seeded: dict[str, Case]) -> None:
    rows = {r["state"]: r for r in kpis.time_in_stage(session, OCT)}
    got = {
        s: (r["completed"], r["mean_bd"], r["median_bd"], r["max_bd"], r["open"], r["open_median_bd"])
        for s, r in rows.items()
    }
    assert got == TIME_IN_STAGE_OCT
    done = _sql(
        session,
        _CALENDAR + "SELECT to_state, (SELECT COUNT(*) FROM biz WHERE d > local_day AND d <= left_day) "
        "FROM stay WHERE left_at >= :lo",
        lo=LO,
        hi=HI,
    )
    waiting = _sql(
        session,
        _CALENDAR + "SELECT to_state, (SELECT COUNT(*) FROM biz WHERE d > local_day AND d <= '2026-10-31') "
        "FROM stay WHERE left_at IS NULL AND to_state NOT IN "
        "('duplicate', 'rejected', 'hired', 'withdrawn', 'closed', 'erased')",
        hi=HI,
    )
    for state, row in rows.items():
        ended = [n for s, n in done if s == state]
        still = [n for s, n in waiting if s == state]
        assert row["completed"] == len(ended) and row["open"] == len(still)
        if ended:
            assert (row["median_bd"], row["max_bd"]) == (statistics.median(ended), max(ended))
            assert row["mean_bd"] == round(sum(ended) / len(ended), 1)
        if still:
            assert row["open_median_bd"] == statistics.median(still)


def test_time_in_stage_counts_26_august_as_a_holiday(session: Session, seeded: dict[str, Case]) -> None:
    """C waited for its intake from Monday 24 to Monday 31 August: 25, 27, 28, 31 = 4 (26 is Bergamo's
    patron saint day); its referral→acceptance took 1 day, acceptance→appointment 1 (Fri→Mon)."""
    august = Period(date(2026, 8, 1), date(2026, 9, 1))
    rows = {r["state"]: r for r in kpis.time_in_stage(session, august)}
    assert rows["intake_scheduled"]["max_bd"] == 4
    assert rows["referred"]["max_bd"] == 1 and rows["accepted"]["max_bd"] == 1
    (sql,) = _sql(
        session,
        _CALENDAR + "SELECT (SELECT COUNT(*) FROM biz WHERE d > local_day AND d <= left_day) FROM stay "
        "WHERE case_id = :cid AND to_state = 'intake_scheduled'",
        cid=seeded["C"].id,
        hi=HI,
    )
    assert sql == (4,)


def test_overdue_steps_hand_and_sql(session: Session, seeded: dict[str, Case]) -> None:
    rows = kpis.overdue_steps(session, date(2026, 11, 1))
    c = seeded
    assert [(r["case_code"], r["office"], r["due"], r["business_days_late"]) for r in rows] == [
        (c["H"].code, "CPI-TRE", date(2026, 10, 20), 8),  # 21 22 23 26 27 28 29 30 October
        (c["M"].code, "CPI-TRE", date(2026, 10, 30), 0),  # due Friday, checked Sunday
    ]
    sql = _sql(
        session,
        "SELECT code FROM \"case\" WHERE next_due < '2026-11-01' AND state NOT IN "
        "('duplicate', 'rejected', 'hired', 'withdrawn', 'closed', 'erased') ORDER BY next_due, code",
    )
    assert [r["case_code"] for r in rows] == [code for (code,) in sql]
    assert set(rows[0]) == {"case_code", "office", "next_step", "state", "due", "business_days_late"}


# --------------------------------------------------------------------------------------------
# Retention, literacy, interest


def test_retention_180_hand_and_sql(session: Session, seeded: dict[str, Case]) -> None:
    rows = kpis.retention_180(session, OCT)
    got = [(r["group"], r["hires_due"], r["employed_180"], r["rate"], r["contract_180"]) for r in rows]
    assert got == [("CPI-BG", 1, 0, 0.0, 0), ("CPI-TRE", 1, 1, 1.0, 1), ("Totale", 2, 1, 0.5, 1)]  # E, D
    sql = _sql(
        session,
        "SELECT c.office_code, COUNT(*), COUNT(e.id), SUM(CASE WHEN o.length_days >= 180 THEN 1 ELSE 0 END) "
        'FROM outcome o JOIN "case" c ON c.id = o.case_id '
        "LEFT JOIN outcome e ON e.case_id = o.case_id AND e.kind = 'employed_180' AND e.recorded_at < :hi "
        "WHERE o.kind = 'hired' AND date(o.start, '+180 days') BETWEEN '2026-10-01' AND '2026-10-31' "
        "GROUP BY 1 ORDER BY 1",
        hi=HI,
    )
    assert [(g, d, k, n) for g, d, k, _r, n in got[:-1]] == [tuple(r) for r in sql]


def test_literacy_outcomes_hand_and_sql(session: Session, seeded: dict[str, Case]) -> None:
    rows = kpis.literacy_outcomes(session, OCT)
    got = [(r["cpia"], r["level"], r["passed"], r["failed"], r["dropped"], r["ongoing"], r["pass_rate"]) for r in rows]
    assert got == [
        ("CPIA-BG", "A2", 1, 0, 0, 2, 1.0),  # passed 23 Oct; B's course and the one ending 5 Nov still run
        ("CPIA-TRV", "A1", 0, 0, 1, 0, 0.0),  # dropped 9 Oct
        ("Totale", "—", 1, 0, 1, 2, 0.5),  # the course failed on 25 September is not October's
    ]
    ended = _sql(
        session,
        "SELECT outcome, COUNT(*) FROM enrollment WHERE outcome IS NOT NULL "
        "AND \"end\" >= '2026-10-01' AND \"end\" < '2026-11-01' GROUP BY outcome",
    )
    assert dict(ended) == {"passed": 1, "dropped": 1}
    ((running,),) = _sql(
        session,
        "SELECT COUNT(*) FROM enrollment WHERE requested_at < :hi AND (outcome IS NULL OR \"end\" >= '2026-11-01')",
        hi=HI,
    )
    assert running == rows[-1]["ongoing"]


def test_interest_per_dispatched_profile_hand_and_sql(session: Session, seeded: dict[str, Case]) -> None:
    rows = kpis.interest_by_batch(session, OCT)
    got = [(r["batch"], r["profiles"], r["with_interest"], r["rate"], r["interested_answers"]) for r in rows]
    # W41: A (two companies interested) and K (a "no", and a yes only on 3 November)
    assert got == [("DSP-2026-W41", 2, 1, 0.5, 2), ("Totale", 2, 1, 0.5, 2)]
    assert rows[0]["answers_per_profile"] == 1.0
    sql = _sql(
        session,
        "SELECT b.code, COUNT(*), SUM(CASE WHEN n.hits > 0 THEN 1 ELSE 0 END), SUM(n.hits) FROM dispatch_batch b "
        "JOIN dispatch_item i ON i.batch_id = b.id JOIN (SELECT i2.id AS item_id, (SELECT COUNT(*) FROM interest x "
        "WHERE x.case_id = i2.case_id AND x.answer IN ('interested', 'interview') AND x.answered_at >= b2.sent_at "
        "AND x.answered_at < :hi) AS hits FROM dispatch_item i2 JOIN dispatch_batch b2 ON b2.id = i2.batch_id) n "
        "ON n.item_id = i.id WHERE b.sent_at >= :lo AND b.sent_at < :hi GROUP BY b.code",
        lo=LO,
        hi=HI,
    )
    assert [(b, p, w, a) for b, p, w, _r, a in got[:-1]] == [tuple(r) for r in sql]
    september = kpis.interest_by_batch(session, Period.month("2026-09"))
    assert [(r["batch"], r["profiles"], r["with_interest"]) for r in september] == [
        ("DSP-2026-W36", 1, 1),  # C, interested on 10 September
        ("Totale", 1, 1),
    ]
