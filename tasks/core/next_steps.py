"""Every open case has a next step, an owner and a due date (docs/ARCHITECTURE.md#data).

The defaults are data (``config/next_steps.yaml``), chosen by a pure function from the case's state
and a few facts; :func:`tasks.core.transitions.transition_many` applies them to every case it
moves, in bulk, unless the stage code set the step itself with :func:`set_step` (the intake slot,
the CPIA course, the chosen measure, the coordinators' "assign a CPI"). A closed case has none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel, col, select

from config.next_steps import COORDINATORS, OwnerKind, Step, StepTable, load_next_steps
from models import clock
from models.cases import Case, Enrollment
from models.enums import ConsentPurpose, InterestAnswer, State
from models.people import Referral
from models.state_machine import OPEN
from tasks.core.calendar import add_business_days
from tasks.core.consent import consenting_persons
from tasks.runtime.db import in_chunks

#: What a reader sees for a step code the table does not know (older data): never the code.
UNKNOWN_STEP_LABEL = "passo da verificare"

_CONSENT_FACTS: dict[str, ConsentPurpose] = {
    "consent_cpia": ConsentPurpose.CPIA_ENROLMENT,
    "consent_confindustria": ConsentPurpose.PROFILE_TO_CONFINDUSTRIA,
}


@dataclass(frozen=True)
class Assignment:
    """A case's next step, owner code and due date (all None for a closed case)."""

    step: str | None
    owner: str | None
    due: date | None


CLEARED = Assignment(None, None, None)

#: The one step a closed case keeps: a hire is checked 180 days after it started (still employed,
#: left, not found out), the retention KPI and DUL's success criterion (tasks/outcomes.py records it).
FOLLOW_UP_STEP = "follow_up_180"
FOLLOW_UP_DAYS = 180

# --------------------------------------------------------------------------------------------
# Pure rules


def facts_needed(table: StepTable, state: State) -> frozenset[str]:
    """The facts the rows of ``state`` test (gathered only when a row needs them)."""
    return frozenset(name for row in table.states.get(state, ()) for name in row.when)


def choose_step(table: StepTable, state: State, facts: Mapping[str, bool]) -> Step | None:
    """The default step of a case in ``state`` with these ``facts``; None for a closed case.

    A fact a row tests must be in ``facts`` (KeyError otherwise): a missing fact is a bug,
    never a silent "false"."""
    rows = table.states.get(state)
    if rows is None:
        return None
    for row in rows:
        if all(facts[name] is want for name, want in row.when.items()):
            return table.steps[row.step]
    raise AssertionError(f"{state.value}: no catch-all row (config.next_steps checks it on load)")


def owner_code(kind: OwnerKind, *, office_code: str | None, org_code: str | None = None) -> str:
    """The owner code of a step of ``kind``: the coordinators, the case's CPI, or the organisation
    (``org_code``); an organisation that is unknown falls back to the CPI, then the coordinators."""
    if kind is OwnerKind.COORDINATOR:
        return COORDINATORS
    if kind is OwnerKind.OFFICE:
        return office_code or COORDINATORS
    return org_code or office_code or COORDINATORS


def follow_up_due(started: date) -> date:
    """The first business day from the 180th calendar day after a hire started."""
    return add_business_days(started + timedelta(days=FOLLOW_UP_DAYS), 0)


def due_date(step: Step, today: date) -> date:
    """``step.days`` business days after ``today`` (Italian holidays and 26 August skipped)."""
    return _business_days_after(today, step.days)


@lru_cache(maxsize=256)
def _business_days_after(today: date, days: int) -> date:
    # a bulk move asks the same few questions 100,000 times
    return add_business_days(today, days)


def step_label(code: str | None, table: StepTable | None = None) -> str:
    """The Italian words for a step code; never the code itself."""
    if code is None:
        return "nessun prossimo passo"
    step = (table or load_next_steps()).steps.get(code)
    return step.label if step else UNKNOWN_STEP_LABEL


def owner_label(code: str | None, names: Mapping[str, str]) -> str:
    """The Italian name of an owner code (``names``: organisation and office names by code)."""
    if code is None:
        return "nessun responsabile"
    if code == COORDINATORS:
        return "coordinamento"
    return names.get(code, "ente non in elenco")


# --------------------------------------------------------------------------------------------
# Facts and organisations, in bulk (one query per 1,000 cases and kind)


def gather_facts(session: Session, cases: Sequence[Case], names: Iterable[str]) -> dict[int, dict[str, bool]]:
    """For each case id, the value of each fact in ``names``."""
    out: dict[int, dict[str, bool]] = {c.id: {} for c in cases if c.id is not None}
    for name in sorted(set(names)):
        if name in _CONSENT_FACTS:
            yes = consenting_persons(session, (c.person_key for c in cases), _CONSENT_FACTS[name])
            for c in cases:
                out[c.id or 0][name] = c.person_key in yes
        elif name == "course_open":
            open_ = set(_by_case(session, Enrollment, "cpia_code", list(out), col(Enrollment.outcome).is_(None)))
            for case_id, facts in out.items():
                facts[name] = case_id in open_
        else:
            raise KeyError(f"fatto sconosciuto {name!r} (config/next_steps.yaml)")
    return out


def _by_case(
    session: Session, model: type[SQLModel], value: str, case_ids: list[int], *where: Any, first: bool = False
) -> dict[int, str]:
    """``{case id: model.value}`` over ``case_ids``, one query per 1,000: the last row (by id)
    of each case wins, or the first with ``first``."""
    key, column, order = model.case_id, getattr(model, value), model.id  # type: ignore[attr-defined]
    out: dict[int, str] = {}
    for chunk in in_chunks(sorted(case_ids)):
        rows = session.exec(
            select(key, column).where(col(key).in_(chunk), *where).order_by(col(order).desc() if first else col(order))
        ).all()
        out.update({case_id: v for case_id, v in rows if v is not None})
    return out


def _org_owners(session: Session, kind: OwnerKind, case_ids: list[int]) -> dict[int, str]:
    """The organisation that acts for each case, for the kinds that name one."""
    # The company's and the measure's tables only where a company or a provider acts: the
    # earlier stages' flow runs start without them (issue 16, bench/bench_startup.py).
    from models.exchange import Interest
    from models.policy import MeasureStatus, PolicyMeasure

    if not case_ids:
        return {}
    if kind is OwnerKind.PARTNER:  # who referred the person first
        return _by_case(session, Referral, "referrer_code", case_ids, first=True)
    if kind is OwnerKind.COMPANY:  # the company that last said yes
        return _by_case(session, Interest, "company_code", case_ids, col(Interest.answer) != InterestAnswer.NO)
    if kind is OwnerKind.CPIA:  # the CPIA of the open course
        return _by_case(session, Enrollment, "cpia_code", case_ids, col(Enrollment.outcome).is_(None))
    if kind is OwnerKind.OPERATOR:  # the provider of the chosen measure
        started = [MeasureStatus.CHOSEN, MeasureStatus.STARTED]
        return _by_case(session, PolicyMeasure, "provider_code", case_ids, col(PolicyMeasure.status).in_(started))
    return {}


# --------------------------------------------------------------------------------------------
# Applying steps


def plan_defaults(
    session: Session, cases: Sequence[Case], state: State, *, today: date, table: StepTable | None = None
) -> dict[int, Assignment]:
    """The default assignment of each case (by id) once in ``state``: facts and organisations
    gathered for the whole batch, then the pure rule per case."""
    table = table or load_next_steps()
    if state is State.HIRED and FOLLOW_UP_STEP in table.steps:  # hired today: checked 180 days on
        due = follow_up_due(today)
        return {
            c.id: Assignment(FOLLOW_UP_STEP, owner_code(OwnerKind.OFFICE, office_code=c.office_code), due)
            for c in cases
            if c.id is not None
        }
    if state not in OPEN:
        return {c.id: CLEARED for c in cases if c.id is not None}
    facts = gather_facts(session, cases, facts_needed(table, state))
    chosen = {c.id: choose_step(table, state, facts[c.id]) for c in cases if c.id is not None}
    kinds = {s.owner for s in chosen.values() if s is not None}
    orgs = {k: _org_owners(session, k, [i for i, s in chosen.items() if s and s.owner is k]) for k in kinds}
    plan: dict[int, Assignment] = {}
    for c in cases:
        step = chosen.get(c.id) if c.id is not None else None
        if c.id is None or step is None:
            continue
        org = orgs.get(step.owner, {}).get(c.id)
        plan[c.id] = Assignment(
            step.code, owner_code(step.owner, office_code=c.office_code, org_code=org), due_date(step, today)
        )
    return plan


def write_assignments(
    session: Session, cases: Sequence[Case], plan: Mapping[int, Assignment], *, keep_reason: bool = False
) -> None:
    """One UPDATE per distinct (step, owner, due) and 1,000 cases, mirrored on the loaded objects
    without making the ORM write them again; a new step starts without the old step's reason."""
    reason: dict[str, None] = {} if keep_reason else {"next_step_reason": None}
    groups: dict[Assignment, list[int]] = defaultdict(list)
    for case_id, assignment in plan.items():
        groups[assignment].append(case_id)
    for assignment, ids in groups.items():
        for chunk in in_chunks(ids):
            session.execute(
                update(Case)
                .where(col(Case.id).in_(chunk))
                .values(next_step=assignment.step, owner=assignment.owner, next_due=assignment.due, **reason)
                .execution_options(synchronize_session=False)
            )
    for case in cases:
        planned = plan.get(case.id or 0)
        if planned is None:
            continue
        set_committed_value(case, "next_step", planned.step)
        set_committed_value(case, "owner", planned.owner)
        set_committed_value(case, "next_due", planned.due)
        if not keep_reason:
            set_committed_value(case, "next_step_reason", None)


def apply_default_steps(session: Session, cases: Sequence[Case], state: State, *, today: date | None = None) -> None:
    """Give every case of ``cases`` (now in ``state``) its default step, owner and due date."""
    if cases:
        write_assignments(session, cases, plan_defaults(session, cases, state, today=today or clock.today()))


def complete_steps(session: Session, cases: Sequence[Case], state: State, *, today: date | None = None) -> None:
    """Keep the steps the caller set (:func:`set_step`), filling a missing owner or due date from
    the step's row; a case left without a known step gets its state's default, so the invariant
    holds whatever the caller forgot."""
    if state not in OPEN:
        return
    table, day = load_next_steps(), today or clock.today()
    bare = [c for c in cases if c.next_step is None or c.owner is None or c.next_due is None]
    known: list[Case] = []
    unknown: list[Case] = []
    for c in bare:
        (known if c.next_step in table.steps and c.id is not None else unknown).append(c)
    apply_default_steps(session, unknown, state, today=day)
    kinds = {table.steps[c.next_step or ""].owner for c in known if c.owner is None}
    orgs = {
        k: _org_owners(session, k, [c.id or 0 for c in known if table.steps[c.next_step or ""].owner is k])
        for k in kinds
    }
    plan = {}
    for c in known:
        step = table.steps[c.next_step or ""]
        owner = c.owner or owner_code(
            step.owner, office_code=c.office_code, org_code=orgs.get(step.owner, {}).get(c.id or 0)
        )
        plan[c.id or 0] = Assignment(step.code, owner, c.next_due or due_date(step, day))
    write_assignments(session, known, plan, keep_reason=True)


def set_step(
    case: Case,
    code: str,
    *,
    today: date | None = None,
    due: date | None = None,
    owner: str | None = None,
    reason: str | None = None,
) -> None:
    """Set an explicit step on a loaded case (the ORM writes it): ``code`` must be in
    config/next_steps.yaml; the due date and the owner default to the step's delay and owner
    kind (an organisation-owned step without ``owner`` falls back to the case's CPI)."""
    step = load_next_steps().steps.get(code)
    if step is None:
        raise KeyError(f"prossimo passo {code!r} non descritto in config/next_steps.yaml")
    case.next_step = code
    case.next_due = due or due_date(step, today or clock.today())
    case.owner = owner_code(step.owner, office_code=case.office_code, org_code=owner)
    case.next_step_reason = reason


def refresh_steps(session: Session, cases: Sequence[Case], *, today: date | None = None) -> int:
    """Re-evaluate the default step of open cases that did not move (a consent given later, a
    course opened): only a case without a step, owner or due date, or whose step is one of its
    state's defaults but no longer the one that holds, changes; explicit steps stay. Returns
    how many changed."""
    table = load_next_steps()
    by_state: dict[State, list[Case]] = defaultdict(list)
    for case in cases:
        by_state[State(case.state)].append(case)
    changed = 0
    for state, group in by_state.items():
        if state not in OPEN:
            continue
        defaults = {row.step for row in table.states[state]}
        plan = plan_defaults(session, group, state, today=today or clock.today(), table=table)
        stale = {
            c.id: plan[c.id]
            for c in group
            if c.id in plan
            and (
                c.next_step is None
                or c.owner is None
                or c.next_due is None
                or (c.next_step in defaults and c.next_step != plan[c.id].step)
            )
        }
        write_assignments(session, [c for c in group if c.id in stale], stale)
        changed += len(stale)
    return changed


# --------------------------------------------------------------------------------------------
# Reading


def missing_step() -> ColumnElement[bool]:
    """SQL: a case without a next step, an owner or a due date (a dead end when it is open)."""
    return or_(col(Case.next_step).is_(None), col(Case.owner).is_(None), col(Case.next_due).is_(None))


def stuck_cases(session: Session, limit: int | None = None) -> list[Case]:
    """Open cases without a next step, an owner or a due date, by code."""
    query = select(Case).where(col(Case.state).in_(sorted(OPEN)), missing_step()).order_by(col(Case.code))
    return list(session.exec(query.limit(limit) if limit else query).all())


def has_step() -> ColumnElement[bool]:
    """SQL: a case whose step someone must do: every open case, and a hire awaiting its check."""
    return or_(col(Case.state).in_(sorted(OPEN)), col(Case.next_step) == FOLLOW_UP_STEP)


def overdue_cases(session: Session, as_of: date, limit: int | None = None) -> list[Case]:
    """Cases whose next step was due before ``as_of`` (open ones and hires awaiting their
    180-day check), oldest first."""
    query = select(Case).where(has_step(), col(Case.next_due) < as_of).order_by(col(Case.next_due), col(Case.code))
    return list(session.exec(query.limit(limit) if limit else query).all())


def missing_parts(case: Case) -> list[str]:
    """What a stuck case lacks, in Italian."""
    parts = [("prossimo passo", case.next_step), ("responsabile", case.owner), ("scadenza", case.next_due)]
    return [name for name, value in parts if value is None]
