"""Every case state change goes through :func:`transition_many` (guards, optimistic check, audit rows)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from models.cases import Case, CaseEvent
from models.clock import today as local_today
from models.clock import utcnow
from models.enums import ConsentPurpose, State
from models.state_machine import ConcurrentTransition, TransitionFacts, check_transition
from tasks.core.consent import consenting_persons
from tasks.core.next_steps import apply_default_steps, complete_steps
from tasks.runtime.db import in_chunks
from tasks.runtime.events import case_event, queue_event


def transition(
    session: Session,
    case: Case,
    target: State,
    *,
    actor: str,
    reason: str | None = None,
    flow_run_id: str | None = None,
    keep_step: bool = False,
) -> None:
    """Move one ``case`` to ``target`` inside the caller's transaction (see :func:`transition_many`)."""
    transition_many(session, [(case, reason)], target, actor=actor, flow_run_id=flow_run_id, keep_step=keep_step)


def transition_many(
    session: Session,
    moves: Sequence[tuple[Case, str | None]],
    target: State,
    *,
    actor: str,
    flow_run_id: str | None = None,
    keep_step: bool = False,
) -> int:
    """Move every ``(case, reason)`` to ``target`` inside the caller's transaction.

    Guards are checked for every case before anything is written (one refusal refuses the
    batch). The UPDATE only matches cases still in the state we read, so of two concurrent
    moves from the same state exactly one writes its ``case_event`` rows; the loser raises
    :class:`ConcurrentTransition` and its transaction must roll back. Bulk paths pay one UPDATE
    per 1,000 cases and one multi-row INSERT, not two statements per case; the Prefect events
    are emitted after the caller commits.

    Every moved case gets the default next step, owner and due date of ``target``
    (config/next_steps.yaml; none once closed), a few UPDATEs for the whole batch; with
    ``keep_step`` the caller has set each case's step itself (``next_steps.set_step``), and only
    a case left without one gets the default.
    """
    if not moves:
        return 0
    consenting: set[str] = set()
    if target is State.DISPATCHED:
        consenting = consenting_persons(
            session, (c.person_key for c, _ in moves), ConsentPurpose.PROFILE_TO_CONFINDUSTRIA
        )
    by_state: dict[State, list[Case]] = defaultdict(list)
    for case, reason in moves:
        current = State(case.state)
        facts = TransitionFacts(
            has_office=case.office_code is not None,
            has_dispatch_consent=case.person_key in consenting,
            has_duplicate_target=case.merged_into_id is not None,
            reason=reason,
        )
        check_transition(current, target, facts)
        by_state[current].append(case)
    now = utcnow()
    for current, cases in by_state.items():
        for chunk in in_chunks(cases):
            result = session.execute(
                update(Case)
                .where(col(Case.id).in_([c.id for c in chunk]), col(Case.state) == current)
                .values(state=target, version=Case.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != len(chunk):  # type: ignore[attr-defined]
                lost = len(chunk) - result.rowcount  # type: ignore[attr-defined]
                codes = ", ".join(c.code for c in chunk[:3])
                raise ConcurrentTransition(f"{lost} pratiche (tra {codes}…) cambiate da un altro processo")
    session.execute(
        insert(CaseEvent),
        [
            {
                "case_id": case.id,
                "from_state": State(case.state),
                "to_state": target,
                "actor": actor,
                "reason": reason,
                "at": now,
                "flow_run_id": flow_run_id,
            }
            for case, reason in moves
        ],
    )
    for case, _ in moves:
        current = State(case.state)
        # Mirror the UPDATE on the loaded object without making the ORM write it a second time.
        set_committed_value(case, "state", target)
        set_committed_value(case, "version", case.version + 1)
        set_committed_value(case, "updated_at", now)
        queue_event(session, case_event(case.code, case.office_code, current.value, target.value))
    moved = [case for case, _ in moves]
    if keep_step:
        complete_steps(session, moved, target, today=local_today())
    else:
        apply_default_steps(session, moved, target, today=local_today())
    return len(moves)


def record_creations(
    session: Session,
    cases: Sequence[tuple[int, str]],
    state: State,
    *,
    actor: str,
    office_code: str | None = None,
    flow_run_id: str | None = None,
    steps_written: bool = False,
) -> None:
    """The first history row (no ``from`` state) of each new ``(case id, code)``, one INSERT, and
    the state's default next step for each new case that has none (a few UPDATEs) — unless the
    caller wrote the steps with the cases' INSERT (``steps_written``: the bulk import)."""
    if not cases:
        return
    now = utcnow()
    session.execute(
        insert(CaseEvent),
        [
            {
                "case_id": case_id,
                "from_state": None,
                "to_state": state,
                "actor": actor,
                "reason": "referral",
                "at": now,
                "flow_run_id": flow_run_id,
            }
            for case_id, _ in cases
        ],
    )
    for _, code in cases:
        queue_event(session, case_event(code, office_code, None, state.value))
    if steps_written:
        return
    for chunk in in_chunks([case_id for case_id, _ in cases]):
        created = list(session.exec(select(Case).where(col(Case.id).in_(chunk))).all())
        complete_steps(session, created, state, today=local_today())
