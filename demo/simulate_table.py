"""The simulation's weekly table, read from the application database as the coordinators would:
the funnel of the week, cases without a next step (must stay 0), overdue steps per CPI and the
median / 90th-percentile business days spent in each stage."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import clock
from models.cases import Case, CaseEvent
from models.enums import State
from tasks.core.calendar import business_days_between
from tasks.core.next_steps import overdue_cases, stuck_cases
from tasks.reports.kpis import local_date, stays
from tasks.reports.tables import STATE_LABELS, organisation_names

#: Columns of the weekly funnel: Italian heading → the states a case entered that week.
FUNNEL: dict[str, tuple[State, ...]] = {
    "in carico": (State.ACCEPTED,),
    "colloqui": (State.INTAKE_DONE,),
    "alfabetizzazione": (State.LITERACY,),
    "profili": (State.PROFILE_READY,),
    "inviati": (State.DISPATCHED,),
    "interesse": (State.INTEREST, State.INTERVIEW),
    "assunti": (State.HIRED,),
    "chiusi": (State.CLOSED, State.WITHDRAWN),
}
#: Stages whose time is measured (the main path).
TIMED: tuple[State, ...] = (
    State.ACCEPTED,
    State.INTAKE_SCHEDULED,
    State.LITERACY,
    State.PROFILE_READY,
    State.DISPATCHED,
    State.INTEREST,
    State.INTERVIEW,
    State.POLICY,
)


@dataclass
class WeekRow:
    """One line of the table (counts only: no personal data)."""

    week: int
    monday: date
    referred: int
    entered: dict[str, int]
    stuck: int
    overdue: dict[str, int]
    times: dict[State, tuple[float, float, int]] = field(default_factory=dict)  # median, p90, stays


def percentile(values: list[int], share: float) -> float:
    """Nearest-rank percentile (``share`` 0.5 = median by rank, 0.9 = p90)."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def _office(code: str | None) -> str:
    if code is None:
        return "senza CPI"
    name = organisation_names().get(code, code)
    return name.removeprefix("CPI ").removeprefix("Centro per l'Impiego di ")


def week_row(session: Session, week: int, monday: date) -> WeekRow:
    """The figures of the week starting ``monday``, as of its Friday evening (overdue: due
    before Friday, the system's own definition)."""
    lo, hi = clock.day_start(monday), clock.day_start(monday + timedelta(days=7))
    friday = monday + timedelta(days=4)
    referred = session.exec(
        select(func.count()).select_from(Case).where(col(Case.created_at) >= lo, col(Case.created_at) < hi)
    ).one()
    entered: dict[str, int] = {}
    for heading, states in FUNNEL.items():
        entered[heading] = session.exec(
            select(func.count(func.distinct(CaseEvent.case_id))).where(
                col(CaseEvent.to_state).in_(states), col(CaseEvent.at) >= lo, col(CaseEvent.at) < hi
            )
        ).one()
    overdue = Counter(_office(c.office_code) for c in overdue_cases(session, friday))
    ended: dict[State, list[int]] = {}
    for stay in stays(session, hi):
        if stay.state in TIMED and stay.left is not None:
            days = business_days_between(local_date(stay.entered), local_date(stay.left))
            ended.setdefault(stay.state, []).append(days)
    times = {s: (percentile(v, 0.5), percentile(v, 0.9), len(v)) for s, v in ended.items()}
    return WeekRow(week, monday, int(referred), entered, len(stuck_cases(session)), dict(overdue), times)


def _overdue_text(overdue: dict[str, int]) -> str:
    if not overdue:
        return "0"
    return ", ".join(f"{office} {n}" for office, n in sorted(overdue.items(), key=lambda kv: (-kv[1], kv[0])))


def funnel_markdown(rows: list[WeekRow]) -> list[str]:
    """The weekly funnel as a Markdown table (Italian headings)."""
    head = ["settimana", "dal", "segnalate", *FUNNEL, "senza passo", "scaduti per CPI"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            str(r.week),
            f"{r.monday:%d/%m}",
            str(r.referred),
            *(str(r.entered[h]) for h in FUNNEL),
            str(r.stuck),
            _overdue_text(r.overdue),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def times_markdown(rows: list[WeekRow]) -> list[str]:
    """Median / p90 business days in each stage, over the stays ended by each week's end."""
    head = ["settimana", *(STATE_LABELS[s.value] for s in TIMED)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [str(r.week)]
        for s in TIMED:
            median, p90, _ = r.times.get(s, (math.nan, math.nan, 0))
            cells.append("—" if math.isnan(median) else f"{median:g} / {p90:g}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines
