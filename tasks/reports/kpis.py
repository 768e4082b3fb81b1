"""Coordinator KPIs from the application database: counts, rates and case codes only.

Every figure is computed *as of the end of a period* (only rows timestamped before it count), so
the report for October reads the same whether it runs on 1 November or in December. Periods are
whole local days in Bergamo (Europe/Rome); timestamps are stored in UTC and compared against the
period's UTC bounds. Durations are business days (Italian holidays plus 26 August, Bergamo).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import case as sa_case
from sqlalchemy import func, literal, or_
from sqlmodel import Session, col, select

from models.cases import Case, CaseEvent, Enrollment
from models.clock import as_utc, day_start, in_rome
from models.enums import InterestAnswer, OutcomeKind, State
from models.exchange import DispatchBatch, DispatchItem, Interest, Outcome
from models.people import Referral
from models.state_machine import OPEN
from tasks.core.calendar import business_days_between
from tasks.core.next_steps import missing_step, step_label

#: Placement rate of the province's CPIs (~15% of ~55,000 accesses a year): the partnership's baseline.
BASELINE_PLACEMENT = 0.15
#: DUL's success criterion and the retention check: still employed 180 days after the start.
RETENTION_DAYS = 180
#: When the programme's data can start: the floor of a cumulative period.
EPOCH = date(2020, 1, 1)
#: Label of cases without an office or a referrer.
NONE_LABEL = "—"

#: The main path of the funnel, one conversion step per pair.
CONVERSION_STEPS: tuple[tuple[State, State], ...] = (
    (State.REFERRED, State.ACCEPTED),
    (State.ACCEPTED, State.INTAKE_SCHEDULED),
    (State.INTAKE_SCHEDULED, State.INTAKE_DONE),
    (State.INTAKE_DONE, State.PROFILE_READY),
    (State.PROFILE_READY, State.DISPATCHED),
    (State.DISPATCHED, State.INTEREST),
    (State.INTEREST, State.INTERVIEW),
    (State.INTERVIEW, State.HIRED),
)
#: The stages of the main path a funnel chart shows, in order.
FUNNEL_STATES: tuple[State, ...] = (
    State.REFERRED,
    State.ACCEPTED,
    State.INTAKE_SCHEDULED,
    State.INTAKE_DONE,
    State.LITERACY,
    State.PROFILE_READY,
    State.DISPATCHED,
    State.INTEREST,
    State.INTERVIEW,
    State.HIRED,
)
_POSITIVE = (InterestAnswer.INTERESTED, InterestAnswer.INTERVIEW)
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")

Row = dict[str, Any]
Grouping = Literal["office", "referrer"]


class PeriodError(ValueError):
    """A period the user typed cannot be read (the message says how to write it)."""


@dataclass(frozen=True)
class Period:
    """Local days ``start`` (inclusive) to ``end`` (exclusive)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise PeriodError(f"periodo vuoto: la fine ({self.end}) deve seguire l'inizio ({self.start})")

    @classmethod
    def month(cls, text: str) -> Period:
        """``2026-10`` → 1 to 31 October 2026."""
        match = _MONTH_RE.fullmatch(str(text).strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise PeriodError(f"mese {str(text)[:20]!r} non valido: scrivere AAAA-MM, per esempio 2026-10")
        start = date(int(match.group(1)), int(match.group(2)), 1)
        return cls(start, _next_month(start))

    @classmethod
    def since_start(cls, end: date) -> Period:
        """Everything before ``end``: cumulative figures (placement, conversion)."""
        return cls(EPOCH, end)

    @classmethod
    def month_to_date(cls, as_of: date) -> Period:
        """From the first of ``as_of``'s month up to and including ``as_of``."""
        return cls(as_of.replace(day=1), as_of + timedelta(days=1))

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def key(self) -> str:
        """``2026-10`` for a calendar month, ``2026-10-01_2026-10-15`` otherwise."""
        if self.start.day == 1 and self.end == _next_month(self.start):
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}_{self.last_day.isoformat()}"

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """Midnight in Bergamo at both ends, as aware UTC datetimes (what the columns hold)."""
        return day_start(self.start), day_start(self.end)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def local_date(moment: datetime) -> date:
    """The Bergamo calendar day of a stored (UTC) timestamp."""
    return in_rome(moment).date()


def rate(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide (shown as a dash)."""
    return part / whole if whole else None


# --------------------------------------------------------------------------------------------
# Grouping: by CPI office or by the partner who referred the case first


def _first_referrer() -> Any:
    """case_id → referrer of its first referral (a merged duplicate does not move the credit)."""
    first = (
        select(col(Referral.case_id).label("case_id"), func.min(Referral.id).label("rid"))
        .where(col(Referral.case_id).is_not(None))
        .group_by(col(Referral.case_id))
        .subquery()
    )
    return (
        select(first.c.case_id, col(Referral.referrer_code).label("referrer"))
        .join(Referral, col(Referral.id) == first.c.rid)
        .subquery()
    )


def _grouped(stmt: Any, case_id: Any, by: Grouping | None) -> tuple[Any, Any]:
    """Add the grouping column to a statement over case ids (a constant when not grouping)."""
    if by is None:
        return stmt.add_columns(literal(NONE_LABEL).label("grp")), literal(NONE_LABEL)
    if by == "office":
        stmt = stmt.join(Case, col(Case.id) == case_id)
        return stmt.add_columns(col(Case.office_code).label("grp")), col(Case.office_code)
    ref = _first_referrer()
    stmt = stmt.outerjoin(ref, ref.c.case_id == case_id)
    return stmt.add_columns(ref.c.referrer.label("grp")), ref.c.referrer


def _label(value: object) -> str:
    return NONE_LABEL if value is None else str(value)


# --------------------------------------------------------------------------------------------
# Entering and leaving each state


def state_flows(session: Session, period: Period, *, by: Grouping | None = None) -> list[Row]:
    """Distinct cases that entered and that left each state within the period (per group)."""
    lo, hi = period.utc_bounds()
    counts: dict[tuple[str, State], dict[str, int]] = defaultdict(lambda: {"entered": 0, "left": 0})
    for column, key in ((CaseEvent.to_state, "entered"), (CaseEvent.from_state, "left")):
        base = select(col(column), func.count(func.distinct(CaseEvent.case_id))).where(
            col(CaseEvent.at) >= lo, col(CaseEvent.at) < hi, col(column).is_not(None)
        )
        stmt, group_col = _grouped(base, CaseEvent.case_id, by)
        for state, n, grp in session.exec(stmt.group_by(col(column), group_col)).all():
            counts[(_label(grp), State(state))][key] = int(n)
    order = {s: i for i, s in enumerate(State)}
    rows = [
        {"group": grp, "state": state.value, **values}
        for (grp, state), values in sorted(counts.items(), key=lambda kv: (kv[0][0], order[kv[0][1]]))
    ]
    if by is None:
        for row in rows:
            del row["group"]
    return rows


# --------------------------------------------------------------------------------------------
# Conversion along the main path, placement against the baseline


def _first_entries(session: Session, states: Iterable[State], before: datetime) -> dict[State, dict[int, datetime]]:
    """state → case_id → first time the case entered it (before ``before``)."""
    rows = session.exec(
        select(CaseEvent.to_state, CaseEvent.case_id, func.min(CaseEvent.at))
        .where(col(CaseEvent.to_state).in_(list(states)), col(CaseEvent.at) < before)
        .group_by(col(CaseEvent.to_state), col(CaseEvent.case_id))
    ).all()
    out: dict[State, dict[int, datetime]] = defaultdict(dict)
    for state, case_id, at in rows:
        out[State(state)][int(case_id)] = as_utc(at)
    return out


def conversion(session: Session, period: Period) -> list[Row]:
    """Per step S → T: cases that first entered S in the period, and how many reached T by its end."""
    lo, hi = period.utc_bounds()
    entries = _first_entries(session, {s for step in CONVERSION_STEPS for s in step}, hi)
    rows: list[Row] = []
    for source, target in CONVERSION_STEPS:
        cohort = {cid for cid, at in entries[source].items() if at >= lo}
        reached = len(cohort & entries[target].keys())
        rows.append(
            {
                "from_state": source.value,
                "to_state": target.value,
                "entered": len(cohort),
                "converted": reached,
                "rate": rate(reached, len(cohort)),
            }
        )
    return rows


def _groups_of(session: Session, case_ids: Iterable[int], by: Grouping) -> dict[int, str]:
    ids = list(case_ids)
    if not ids:
        return {}
    if by == "office":
        stmt: Any = select(Case.id, Case.office_code).where(col(Case.id).in_(ids))
    else:
        ref = _first_referrer()
        stmt = select(ref.c.case_id, ref.c.referrer).where(ref.c.case_id.in_(ids))
    found = {int(cid): _label(grp) for cid, grp in session.exec(stmt).all()}
    return {cid: found.get(cid, NONE_LABEL) for cid in ids}


def placement(session: Session, period: Period, *, by: Grouping = "office") -> list[Row]:
    """Hired / taken in charge per office or referrer, against the 15% baseline; last row = total.

    Taken in charge = first entered ACCEPTED (a CPI office assigned) within the period; hired =
    reached HIRED before the period ends. With :meth:`Period.since_start` it is the cumulative rate.
    """
    lo, hi = period.utc_bounds()
    entries = _first_entries(session, (State.ACCEPTED, State.HIRED), hi)
    cohort = {cid for cid, at in entries[State.ACCEPTED].items() if at >= lo}
    hired = cohort & entries[State.HIRED].keys()
    groups = _groups_of(session, cohort, by)
    taken: dict[str, int] = defaultdict(int)
    won: dict[str, int] = defaultdict(int)
    for cid in cohort:
        taken[groups[cid]] += 1
        won[groups[cid]] += cid in hired
    rows = [_placement_row(grp, taken[grp], won[grp]) for grp in sorted(taken)]
    rows.append(_placement_row("Totale", len(cohort), len(hired)))
    return rows


def _placement_row(group: str, taken: int, hired: int) -> Row:
    share = rate(hired, taken)
    delta = None if share is None else round((share - BASELINE_PLACEMENT) * 100, 1)
    verdict = NONE_LABEL if delta is None else "sopra" if delta > 0 else "sotto" if delta < 0 else "pari"
    return {
        "group": group,
        "taken_in_charge": taken,
        "hired": hired,
        "rate": share,
        "baseline": BASELINE_PLACEMENT,
        "delta_pp": delta,
        "vs_baseline": verdict,
    }


# --------------------------------------------------------------------------------------------
# Time in stage (business days) and overdue next steps


@dataclass(frozen=True)
class Stay:
    """One uninterrupted stay of a case in a state (``left`` None while it is still there)."""

    case_id: int
    state: State
    entered: datetime
    left: datetime | None


def stays(session: Session, before: datetime) -> list[Stay]:
    """Every stay reconstructed from the case history recorded before ``before``."""
    rows = session.exec(
        select(CaseEvent.case_id, CaseEvent.to_state, CaseEvent.at)
        .where(col(CaseEvent.at) < before)
        .order_by(col(CaseEvent.case_id), col(CaseEvent.at), col(CaseEvent.id))
    ).all()
    out: list[Stay] = []
    for i, (case_id, state, at) in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        left = nxt[2] if nxt is not None and nxt[0] == case_id else None
        out.append(Stay(int(case_id), State(state), at, left))
    return out


def time_in_stage(session: Session, period: Period) -> list[Row]:
    """Per state: stays that ended in the period (business days: mean, median, max) and the
    stays still open at the period's end (how many, median age in business days)."""
    lo, hi = period.utc_bounds()
    done: dict[State, list[int]] = defaultdict(list)
    still: dict[State, list[int]] = defaultdict(list)
    for stay in stays(session, hi):
        start = local_date(stay.entered)
        if stay.left is not None:
            if stay.left >= lo:
                done[stay.state].append(business_days_between(start, local_date(stay.left)))
        elif stay.state in OPEN:
            still[stay.state].append(business_days_between(start, period.last_day))
    rows: list[Row] = []
    for state in State:
        ended, waiting = done.get(state, []), still.get(state, [])
        if not ended and not waiting:
            continue
        rows.append(
            {
                "state": state.value,
                "completed": len(ended),
                "mean_bd": round(statistics.fmean(ended), 1) if ended else None,
                "median_bd": statistics.median(ended) if ended else None,
                "max_bd": max(ended) if ended else None,
                "open": len(waiting),
                "open_median_bd": statistics.median(waiting) if waiting else None,
            }
        )
    return rows


def overdue_steps(session: Session, as_of: date) -> list[Row]:
    """Open cases whose next step was due before ``as_of``: case code, office, step, lateness."""
    rows = session.exec(
        select(Case.code, Case.office_code, Case.next_step, Case.next_due, Case.state)  # type: ignore[call-overload]
        .where(col(Case.next_due) < as_of, col(Case.state).in_(sorted(OPEN)))
        .order_by(col(Case.next_due), col(Case.code))
    ).all()
    return [
        {
            "case_code": code,
            "office": _label(office),
            "next_step": step_label(step),
            "state": State(state).value,
            "due": due,
            "business_days_late": business_days_between(due, as_of),
        }
        for code, office, step, due, state in rows
    ]


def steps_by_office(session: Session, as_of: date) -> list[Row]:
    """Per CPI office, the invariant as of ``as_of``: open cases, those without a next step (an
    owner or a due date), steps past due and the oldest one's lateness. Last row = total."""
    dead = missing_step()
    late = col(Case.next_due) < as_of
    rows = session.exec(
        select(  # type: ignore[call-overload]
            Case.office_code,
            func.count(),
            func.sum(sa_case((dead, 1), else_=0)),
            func.sum(sa_case((late, 1), else_=0)),
            func.min(sa_case((late, Case.next_due), else_=None)),
        )
        .where(col(Case.state).in_(sorted(OPEN)))
        .group_by(col(Case.office_code))
    ).all()
    out: list[Row] = []
    for office, open_, no_step, overdue, oldest in sorted(rows, key=lambda r: (r[0] is None, r[0] or "")):
        oldest = date.fromisoformat(str(oldest)) if oldest is not None else None
        out.append(_steps_row(_label(office), open_, int(no_step or 0), int(overdue or 0), oldest, as_of))
    if out:
        dues = [r["oldest_due"] for r in out if r["oldest_due"] is not None]
        open_, no_step, overdue = (sum(r[k] for r in out) for k in ("open", "without_step", "overdue"))
        out.append(_steps_row("Totale", open_, no_step, overdue, min(dues) if dues else None, as_of))
    return out


def _steps_row(office: str, open_: int, no_step: int, overdue: int, oldest: date | None, as_of: date) -> Row:
    late = business_days_between(oldest, as_of) if oldest is not None else None
    return {
        "office": office,
        "open": open_,
        "without_step": no_step,
        "overdue": overdue,
        "oldest_due": oldest,
        "max_late_bd": late,
    }


# --------------------------------------------------------------------------------------------
# Retention, literacy courses, employer interest


def retention_180(session: Session, period: Period) -> list[Row]:
    """Hires whose 180th day fell in the period, per office, and what their 180-day check found
    (recorded before the period's end: tasks/outcomes.py): still employed, left, not found out,
    not checked yet; rate = still employed / hires due (an unchecked hire is not counted as kept).
    Also how many had a contract of at least 180 days (DUL's success criterion). Last row = total."""
    _lo, hi = period.utc_bounds()
    first_day = period.start - timedelta(days=RETENTION_DAYS)
    last_day = period.last_day - timedelta(days=RETENTION_DAYS)
    hires = session.exec(
        select(Outcome.case_id, Outcome.length_days, Case.office_code)
        .join(Case, col(Case.id) == col(Outcome.case_id))
        .where(
            Outcome.kind == OutcomeKind.HIRED,
            col(Outcome.start) >= first_day,
            col(Outcome.start) <= last_day,
            col(Outcome.recorded_at) < hi,
        )
    ).all()
    checks: dict[OutcomeKind, set[int]] = defaultdict(set)
    for case_id, kind in session.exec(
        select(Outcome.case_id, Outcome.kind).where(col(Outcome.kind).in_(_CHECKS), col(Outcome.recorded_at) < hi)
    ).all():
        checks[OutcomeKind(kind)].add(int(case_id))
    due: dict[str, set[int]] = defaultdict(set)
    long_contract: dict[str, set[int]] = defaultdict(set)
    for case_id, length, office in hires:
        due[_label(office)].add(case_id)
        if length is not None and length >= RETENTION_DAYS:
            long_contract[_label(office)].add(case_id)
    rows = [_retention_row(o, due[o], checks, long_contract[o]) for o in sorted(due)]
    all_due = set().union(*due.values()) if due else set()
    all_long = set().union(*long_contract.values()) if long_contract else set()
    rows.append(_retention_row("Totale", all_due, checks, all_long))
    return rows


_CHECKS = (OutcomeKind.EMPLOYED_180, OutcomeKind.LEFT_180, OutcomeKind.UNKNOWN_180)


def _retention_row(group: str, due: set[int], checks: dict[OutcomeKind, set[int]], long_contract: set[int]) -> Row:
    kept = len(due & checks[OutcomeKind.EMPLOYED_180])
    checked = due & set().union(*(checks[k] for k in _CHECKS))
    return {
        "group": group,
        "hires_due": len(due),
        "employed_180": kept,
        "left_180": len(due & checks[OutcomeKind.LEFT_180]),
        "unknown_180": len(due & checks[OutcomeKind.UNKNOWN_180]),
        "not_checked": len(due - checked),
        "rate": rate(kept, len(due)),
        "contract_180": len(long_contract),
    }


def literacy_outcomes(session: Session, period: Period) -> list[Row]:
    """Italian courses per CPIA and level: ended in the period by outcome, and still running at
    its end; pass rate = passed / ended. Last row = total."""
    _lo, hi = period.utc_bounds()
    ended = session.exec(
        select(Enrollment.cpia_code, Enrollment.level, Enrollment.outcome, func.count())
        .where(
            col(Enrollment.outcome).is_not(None),
            col(Enrollment.end) >= period.start,
            col(Enrollment.end) < period.end,
        )
        .group_by(col(Enrollment.cpia_code), col(Enrollment.level), col(Enrollment.outcome))
    ).all()
    running = session.exec(
        select(Enrollment.cpia_code, Enrollment.level, func.count())
        .where(
            col(Enrollment.requested_at) < hi,
            or_(col(Enrollment.outcome).is_(None), col(Enrollment.end) >= period.end),
        )
        .group_by(col(Enrollment.cpia_code), col(Enrollment.level))
    ).all()
    table: dict[tuple[str, str], Row] = {}

    def row(cpia: str, level: object) -> Row:
        key = (cpia, str(getattr(level, "value", level)))
        return table.setdefault(
            key, {"cpia": key[0], "level": key[1], "passed": 0, "failed": 0, "dropped": 0, "ongoing": 0}
        )

    for cpia, level, outcome, n in ended:
        bucket = outcome if outcome in ("passed", "failed", "dropped") else "dropped"
        row(cpia, level)[bucket] += int(n)
    for cpia, level, n in running:
        row(cpia, level)["ongoing"] += int(n)
    rows = [table[k] for k in sorted(table)]
    total: Row = {"cpia": "Totale", "level": NONE_LABEL}
    for key in ("passed", "failed", "dropped", "ongoing"):
        total[key] = sum(r[key] for r in rows)
    rows.append(total)
    for r in rows:
        r["pass_rate"] = rate(r["passed"], r["passed"] + r["failed"] + r["dropped"])
    return rows


def interest_by_batch(session: Session, period: Period) -> list[Row]:
    """Per dispatch batch sent in the period: profiles, profiles that drew a company's interest
    (interested or interview, after the batch and before the period's end) and the interested
    answers per profile. Last row = total over batches."""
    lo, hi = period.utc_bounds()
    sent = func.coalesce(col(DispatchBatch.sent_at), col(DispatchBatch.created_at))
    items = session.exec(
        select(DispatchBatch.code, sent, DispatchItem.case_id)
        .join(DispatchItem, col(DispatchItem.batch_id) == col(DispatchBatch.id))
        .where(sent >= lo, sent < hi)
        .order_by(col(DispatchBatch.code))
    ).all()
    answers: dict[int, list[datetime]] = defaultdict(list)
    case_ids = sorted({int(cid) for _b, _s, cid in items})
    for case_id, at in session.exec(
        select(Interest.case_id, Interest.answered_at).where(
            col(Interest.case_id).in_(case_ids), col(Interest.answer).in_(_POSITIVE), col(Interest.answered_at) < hi
        )
    ).all():
        answers[int(case_id)].append(as_utc(at))
    per_batch: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for code, sent_at, case_id in items:
        since = _as_utc(sent_at)
        hits = sum(at >= since for at in answers.get(int(case_id), []))
        counts = per_batch[code]
        counts[0] += 1
        counts[1] += hits > 0
        counts[2] += hits
    rows = [_interest_row(code, *per_batch[code]) for code in sorted(per_batch)]
    rows.append(_interest_row("Totale", *(sum(c[i] for c in per_batch.values()) for i in range(3))))
    return rows


def _as_utc(value: datetime | str) -> datetime:
    """COALESCE loses the column type on SQLite (a string comes back): read it as UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(moment)


def _interest_row(batch: str, profiles: int, with_interest: int, answers: int) -> Row:
    return {
        "batch": batch,
        "profiles": profiles,
        "with_interest": with_interest,
        "rate": rate(with_interest, profiles),
        "interested_answers": answers,
        "answers_per_profile": None if not profiles else round(answers / profiles, 2),
    }
