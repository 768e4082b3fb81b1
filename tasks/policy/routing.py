"""Routing to active policies: dispatched profiles nobody picked move to POLICY with a programme."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, func, select

from config.data import load_routing
from models.cases import Case, CaseEvent
from models.clock import day_start
from models.enums import OutcomeKind, PolicyKind, State
from models.exchange import Outcome
from tasks.core.transitions import transition
from tasks.policy.facts import case_facts
from tasks.policy.measures import primary_policy
from tasks.runtime.progress import Progress

ACTOR = "flow:outcomes"


def propose_policy(session: Session, case: Case, as_of: date) -> PolicyKind | None:
    """The programme to record when employers did not pick the profile: the first eligible
    one in config/policies.yaml's priority (None: no programme applies, the table decides).
    The operator chooses the actual measure later, in the ``policy`` flow."""
    return primary_policy(case_facts(session, case), as_of)


def route_to_policy(session: Session, *, as_of: date, flow_run_id: str | None = None) -> dict[str, list[str]]:
    """DISPATCHED cases with no interest for N days move to POLICY with a proposed programme
    (``Case.route`` is set later, by the measure that leads to a hire)."""
    days = load_routing().dispatch.no_interest_days
    cutoff = as_of - timedelta(days=days)
    last_move = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at")).group_by(col(CaseEvent.case_id)).subquery()
    )
    rows = session.exec(
        select(Case)
        .join(last_move, last_move.c.case_id == Case.id)
        .where(Case.state == State.DISPATCHED, last_move.c.at < day_start(cutoff + timedelta(days=1)))
    ).all()
    out: dict[str, list[str]] = {}
    progress = Progress("policy-routing", len(rows), "Pratiche senza interesse avviate alle politiche")
    for case in progress.track(rows):
        policy = propose_policy(session, case, as_of)
        assert case.id is not None
        session.add(Outcome(case_id=case.id, kind=OutcomeKind.POLICY, policy=policy))
        label = policy.value if policy else "tavolo"
        transition(
            session,
            case,
            State.POLICY,
            actor=ACTOR,
            reason=f"no-interest>{days}d:{label}",
            flow_run_id=flow_run_id,
        )
        out.setdefault(label, []).append(case.code)
    progress.finish()
    return out
