"""Transitions against a real database: audit row, optimistic check, events after commit."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import get_settings
from models.cases import Case, CaseEvent
from models.enums import State
from models.state_machine import ConcurrentTransition, TransitionRefused
from tasks.core.transitions import transition, transition_many
from tasks.runtime import events
from tests.factories import SHAREABLE, make_case, race_two_transitions, seed_partners


def test_transition_writes_one_event_row_and_moves_the_case(session: Session) -> None:
    seed_partners(session)
    case = make_case(session)
    transition(session, case, State.ACCEPTED, actor="test", reason="office:CPI-BG")
    session.commit()
    rows = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert [(r.from_state, r.to_state, r.actor) for r in rows] == [(State.REFERRED, State.ACCEPTED, "test")]
    assert session.get(Case, case.id).state is State.ACCEPTED  # type: ignore[union-attr]
    assert case.version == 1


def test_dispatch_without_consent_is_refused_and_changes_nothing(session: Session) -> None:
    seed_partners(session)
    case = make_case(session, state=State.PROFILE_READY)
    with pytest.raises(TransitionRefused, match="consenso"):
        transition(session, case, State.DISPATCHED, actor="test")
    session.rollback()
    assert session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all() == []


def test_dispatch_with_consent_passes(session: Session) -> None:
    seed_partners(session)
    case = make_case(
        session,
        state=State.PROFILE_READY,
        consents=SHAREABLE,
    )
    transition(session, case, State.DISPATCHED, actor="test")
    session.commit()
    assert case.state is State.DISPATCHED


def test_two_concurrent_transitions_from_the_same_state_write_exactly_one_event(engine: Engine) -> None:
    outcomes, event_targets, final_state = race_two_transitions(engine)
    assert sorted(outcomes) == ["lost", "won"]
    assert event_targets == [final_state]  # one event, and it is the state the case is in


def test_events_are_emitted_only_after_commit(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_partners(session)
    emitted: list[events.EventSpec] = []
    monkeypatch.setattr(events, "emit_now", emitted.append)
    case = make_case(session)
    transition(session, case, State.ACCEPTED, actor="test", reason="x")
    assert emitted == []
    session.commit()
    assert [(e.name, e.resource_id, e.labels) for e in emitted] == [
        ("incontro.case.accepted", f"incontro.case.{case.code}", {"incontro.office": "CPI-BG"})
    ]
    case2 = make_case(session)
    transition(session, case2, State.ACCEPTED, actor="test", reason="x")
    session.rollback()
    session.commit()
    assert len(emitted) == 1


def _spec(n: int) -> events.EventSpec:
    return events.EventSpec(name="incontro.test", resource_id=f"incontro.test.{n}")


def test_savepoints_neither_announce_nor_drop_the_events_of_the_transaction(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A released SAVEPOINT is not the commit (SQLAlchemy fires after_commit for it): its events
    wait; a rolled-back SAVEPOINT (a rejected import row) drops its own events only."""
    seed_partners(session)
    emitted: list[events.EventSpec] = []
    monkeypatch.setattr(events, "emit_now", emitted.append)
    make_case(session)  # a transaction is open from here on
    events.queue_event(session, _spec(1))
    with session.begin_nested():
        events.queue_event(session, _spec(2))
    assert emitted == []  # released, not committed
    try:
        with session.begin_nested():
            events.queue_event(session, _spec(3))
            with session.begin_nested():
                events.queue_event(session, _spec(4))
            raise ValueError("row rejected")
    except ValueError:
        pass
    with session.begin_nested():
        events.queue_event(session, _spec(5))
    session.commit()
    assert [e.resource_id for e in emitted] == ["incontro.test.1", "incontro.test.2", "incontro.test.5"]

    emitted.clear()
    make_case(session)
    with session.begin_nested():
        events.queue_event(session, _spec(6))
    session.rollback()  # the whole transaction: nothing was, nothing is announced
    session.commit()
    assert emitted == []


def test_a_bulk_move_in_batches_is_announced_once_at_commit(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dispatch writes each batch's email inside a SAVEPOINT: the whole commit still fans in."""
    from datetime import date

    from tasks.dispatch import dispatch_profiles

    seed_partners(session)
    for _ in range(7):
        make_case(session, state=State.PROFILE_READY, profile={}, consents=SHAREABLE)
    emitted: list[events.EventSpec] = []
    monkeypatch.setattr(events, "emit_now", emitted.append)
    monkeypatch.setenv("INCONTRO_EVENT_FANOUT_LIMIT", "3")
    get_settings.cache_clear()
    dispatch_profiles(session, today=date(2026, 11, 30), max_profiles=2)
    assert emitted == []
    session.commit()
    (summary,) = emitted
    assert summary.name == "incontro.case.dispatched" and summary.payload["count"] == 7


def test_bulk_commits_fan_in_to_one_event_per_state_and_office() -> None:
    specs = [
        events.case_event(f"BG-2026-{n:06d}", "CPI-BG" if n % 2 else "CPI-ALB", "referred", "accepted")
        for n in range(10)
    ]
    other = events.EventSpec(name="incontro.referral.accepted", resource_id="incontro.import.1")
    assert events.fan_in([*specs, other], limit=10) == [*specs, other]  # small commits: one event per case
    out = events.fan_in([*specs, other], limit=5, sample=3)
    assert out[0] is other
    summaries = out[1:]
    assert [(s.name, s.labels["incontro.office"], s.payload["count"]) for s in summaries] == [
        ("incontro.case.accepted", "CPI-ALB", 5),
        ("incontro.case.accepted", "CPI-BG", 5),
    ]
    assert summaries[0].payload["case_codes"] == ["BG-2026-000000", "BG-2026-000002", "BG-2026-000004"][:3]
    assert summaries[0].payload["truncated"] is True
    assert all(s.resource_id.startswith("incontro.cases.") for s in summaries)


def test_transition_many_moves_a_batch_with_one_history_row_each(session: Session) -> None:
    seed_partners(session)
    cases = [make_case(session) for _ in range(5)]
    moved = transition_many(session, [(c, f"office:{c.office_code}") for c in cases], State.ACCEPTED, actor="bulk")
    session.commit()
    assert moved == 5
    rows = session.exec(select(CaseEvent).where(CaseEvent.actor == "bulk").order_by(CaseEvent.id)).all()  # type: ignore[arg-type]
    assert [(r.case_id, r.from_state, r.to_state, r.reason) for r in rows] == [
        (c.id, State.REFERRED, State.ACCEPTED, f"office:{c.office_code}") for c in cases
    ]
    session.expire_all()
    assert {(c.state, c.version) for c in session.exec(select(Case)).all()} == {(State.ACCEPTED, 1)}


def test_transition_many_refuses_the_whole_batch_when_one_guard_fails(session: Session) -> None:
    seed_partners(session)
    ok = make_case(
        session,
        state=State.PROFILE_READY,
        consents=SHAREABLE,
    )
    no_consent = make_case(session, state=State.PROFILE_READY)
    with pytest.raises(TransitionRefused, match="consenso"):
        transition_many(session, [(ok, None), (no_consent, None)], State.DISPATCHED, actor="bulk")
    session.rollback()
    assert session.exec(select(CaseEvent).where(CaseEvent.actor == "bulk")).all() == []
    assert {c.state for c in session.exec(select(Case)).all()} == {State.PROFILE_READY}


def test_transition_many_loses_as_a_whole_when_another_writer_moved_one_case(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        cases = [make_case(s) for _ in range(3)]
    with Session(engine) as other:  # another process accepts the second case first
        raced = other.get(Case, cases[1].id)
        assert raced is not None
        transition(other, raced, State.REJECTED, actor="other", reason="no_consent")
        other.commit()
    with Session(engine, expire_on_commit=False) as s:
        stale = [s.merge(c, load=False) for c in cases]  # still REFERRED as far as this writer knows
        with pytest.raises(ConcurrentTransition, match="1 pratiche"):
            transition_many(s, [(c, "office") for c in stale], State.ACCEPTED, actor="bulk")
        s.rollback()
    with Session(engine) as s:
        assert s.exec(select(CaseEvent).where(CaseEvent.actor == "bulk")).all() == []
        assert sorted(c.state.value for c in s.exec(select(Case)).all()) == ["referred", "referred", "rejected"]
