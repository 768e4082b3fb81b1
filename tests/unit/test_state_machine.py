"""The state machine: every allowed move, a table of forbidden ones, and the guards."""

from __future__ import annotations

import pytest

from models.enums import State
from models.state_machine import (
    OPEN,
    TERMINAL,
    TransitionFacts,
    TransitionRefused,
    check_transition,
    next_states,
)

S = State
OK = TransitionFacts(has_office=True, has_dispatch_consent=True, has_duplicate_target=True, reason="r")

ALLOWED = (
    [
        (S.REFERRED, S.DUPLICATE),
        (S.REFERRED, S.ACCEPTED),
        (S.REFERRED, S.REJECTED),
        (S.ACCEPTED, S.INTAKE_SCHEDULED),
        (S.INTAKE_SCHEDULED, S.INTAKE_DONE),
        (S.INTAKE_SCHEDULED, S.NO_SHOW),
        (S.NO_SHOW, S.INTAKE_SCHEDULED),
        (S.INTAKE_DONE, S.LITERACY),
        (S.INTAKE_DONE, S.PROFILE_READY),
        (S.LITERACY, S.PROFILE_READY),
        (S.LITERACY, S.LITERACY),
        (S.PROFILE_READY, S.DISPATCHED),
        (S.DISPATCHED, S.INTEREST),
        (S.DISPATCHED, S.POLICY),
        (S.INTEREST, S.INTERVIEW),
        (S.INTEREST, S.NOT_SELECTED),
        (S.INTERVIEW, S.HIRED),
        (S.INTERVIEW, S.NOT_SELECTED),
        (S.NOT_SELECTED, S.DISPATCHED),
        (S.NOT_SELECTED, S.POLICY),
        (S.POLICY, S.HIRED),
        (S.POLICY, S.DISPATCHED),
    ]
    + [(s, S.WITHDRAWN) for s in sorted(OPEN)]
    + [(s, S.CLOSED) for s in sorted(OPEN)]
    + [(s, S.ERASED) for s in State if s is not S.ERASED]
)

FORBIDDEN = [
    (S.REFERRED, S.INTAKE_SCHEDULED),
    (S.REFERRED, S.DISPATCHED),
    (S.REFERRED, S.HIRED),
    (S.ACCEPTED, S.INTAKE_DONE),
    (S.ACCEPTED, S.DISPATCHED),
    (S.INTAKE_SCHEDULED, S.PROFILE_READY),
    (S.INTAKE_DONE, S.DISPATCHED),
    (S.LITERACY, S.DISPATCHED),
    (S.PROFILE_READY, S.INTEREST),
    (S.PROFILE_READY, S.HIRED),
    (S.DISPATCHED, S.HIRED),
    (S.DISPATCHED, S.INTERVIEW),
    (S.INTEREST, S.HIRED),
    (S.HIRED, S.DISPATCHED),
    (S.HIRED, S.CLOSED),
    (S.DUPLICATE, S.ACCEPTED),
    (S.REJECTED, S.ACCEPTED),
    (S.CLOSED, S.REFERRED),
    (S.WITHDRAWN, S.ACCEPTED),
    (S.ERASED, S.REFERRED),
    (S.ERASED, S.ERASED),
    (S.NO_SHOW, S.INTAKE_DONE),
    (S.POLICY, S.INTEREST),
]


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_moves_pass(current: State, target: State) -> None:
    assert target in next_states(current)
    check_transition(current, target, OK)


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_moves_are_refused(current: State, target: State) -> None:
    assert target not in next_states(current)
    with pytest.raises(TransitionRefused, match="non consentita"):
        check_transition(current, target, OK)


def test_allowed_table_is_complete() -> None:
    """Every move the machine allows is listed above (nothing allowed by accident)."""
    machine = {(s, t) for s in State for t in next_states(s)}
    assert machine == set(ALLOWED)


def test_terminal_states_only_allow_erasure() -> None:
    for state in TERMINAL - {S.ERASED}:
        assert next_states(state) == {S.ERASED}
    assert next_states(S.ERASED) == frozenset()


@pytest.mark.parametrize(
    ("current", "target", "facts", "message"),
    [
        (S.REFERRED, S.ACCEPTED, TransitionFacts(), "CPI"),
        (S.PROFILE_READY, S.DISPATCHED, TransitionFacts(), "consenso"),
        (S.REFERRED, S.REJECTED, TransitionFacts(), "motivo"),
        (S.INTERVIEW, S.CLOSED, TransitionFacts(), "motivo"),
        (S.REFERRED, S.DUPLICATE, TransitionFacts(reason="dup"), "destinazione"),
    ],
)
def test_guards(current: State, target: State, facts: TransitionFacts, message: str) -> None:
    with pytest.raises(TransitionRefused, match=message):
        check_transition(current, target, facts)
