"""Prefect events for case transitions and batch milestones (case codes only, never PII).

Events are queued on the SQLAlchemy session and emitted only after it commits, so a rolled-back
transition is never announced.
"""

from __future__ import annotations

import logging
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

_log = logging.getLogger(__name__)
_PENDING = "incontro_pending_events"
#: SAVEPOINT -> how many events were pending when it began (weak: a closed savepoint goes away).
_SAVEPOINT_MARKS: weakref.WeakKeyDictionary[SessionTransaction, int] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class EventSpec:
    """One event to emit: name, resource id, extra resource labels and payload (all PII-free)."""

    name: str
    resource_id: str
    labels: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)


def case_event(code: str, office: str | None, from_state: str | None, to_state: str) -> EventSpec:
    """``incontro.case.<state>`` about ``incontro.case.<code>`` (docs/ARCHITECTURE.md#chaining)."""
    return EventSpec(
        name=f"incontro.case.{to_state}",
        resource_id=f"incontro.case.{code}",
        labels={"incontro.office": office or "none"},
        payload={"from": from_state, "to": to_state},
    )


def queue_event(session: Session, spec: EventSpec) -> None:
    """Emit ``spec`` after ``session`` commits (dropped on rollback)."""
    session.info.setdefault(_PENDING, []).append(spec)


def discard_pending(session: Session) -> int:
    """Forget the events queued on ``session`` (a command run while no Prefect server answers:
    the database stays the truth and the maintenance sweep catches up); returns how many."""
    return len(session.info.pop(_PENDING, []))


def emit_now(spec: EventSpec) -> None:
    """Emit one event through Prefect's client; a missing API only logs (the DB stays the truth)."""
    from prefect.events import emit_event

    try:
        emit_event(
            event=spec.name,
            resource={"prefect.resource.id": spec.resource_id, **spec.labels},
            payload=spec.payload,
        )
    except Exception:
        _log.warning("could not emit %s", spec.name, exc_info=True)


def fan_in(specs: list[EventSpec], limit: int, *, sample: int = 50) -> list[EventSpec]:
    """Per-case events as they are, or — when one commit moves more than ``limit`` cases (bulk
    paths: a 100k-row import) — one summary event per (event, office) with the count and a
    sample of case codes, so the Prefect server is not flooded (docs/ARCHITECTURE.md#chaining: it
    absorbs ~20 task runs/s; every event is stored and evaluated against every trigger)."""
    cases = [s for s in specs if s.resource_id.startswith("incontro.case.")]
    if len(cases) <= limit:
        return specs
    groups: dict[tuple[str, str], list[EventSpec]] = {}
    for spec in cases:
        groups.setdefault((spec.name, spec.labels.get("incontro.office", "none")), []).append(spec)
    batch = uuid.uuid4().hex[:12]
    summaries = [
        EventSpec(
            name=name,
            resource_id=f"incontro.cases.{batch}-{n}",
            labels={"incontro.office": office, "incontro.batch": batch},
            payload={
                "count": len(group),
                "from": sorted({str(g.payload.get("from")) for g in group}),
                "case_codes": [g.resource_id.removeprefix("incontro.case.") for g in group[:sample]],
                "truncated": len(group) > sample,
            },
        )
        for n, ((name, office), group) in enumerate(sorted(groups.items()))
    ]
    return [s for s in specs if not s.resource_id.startswith("incontro.case.")] + summaries


@sa_event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """Remember how many events were queued when a SAVEPOINT began (to drop only its own)."""
    if transaction.nested:
        _SAVEPOINT_MARKS[transaction] = len(session.info.get(_PENDING, []))


@sa_event.listens_for(Session, "after_commit")
def _emit_after_commit(session: Session) -> None:
    # SQLAlchemy calls this when a SAVEPOINT is released too: its events wait for the real
    # commit, which could still roll back (and bulk fan-in needs the whole commit's moves).
    if session.in_nested_transaction():
        return
    specs = session.info.pop(_PENDING, [])
    if not specs:
        return
    from config.settings import get_settings

    for spec in fan_in(specs, get_settings().event_fanout_limit):
        emit_now(spec)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back SAVEPOINT drops the events queued inside it (a rejected import row), not
    those of the rows before it; a rolled-back transaction drops them all."""
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if previous_transaction.nested:
        mark = _SAVEPOINT_MARKS.get(previous_transaction)
        if mark is not None:
            del pending[mark:]
    elif previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
