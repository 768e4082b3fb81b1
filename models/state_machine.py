"""The case state machine: the one place that says which moves are allowed (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import State

S = State

TERMINAL: frozenset[State] = frozenset({S.DUPLICATE, S.REJECTED, S.HIRED, S.WITHDRAWN, S.CLOSED, S.ERASED})
OPEN: frozenset[State] = frozenset(set(State) - TERMINAL)

_FLOW: dict[State, frozenset[State]] = {
    S.REFERRED: frozenset({S.DUPLICATE, S.ACCEPTED, S.REJECTED}),
    S.ACCEPTED: frozenset({S.INTAKE_SCHEDULED}),
    S.INTAKE_SCHEDULED: frozenset({S.INTAKE_DONE, S.NO_SHOW}),
    S.NO_SHOW: frozenset({S.INTAKE_SCHEDULED}),
    S.INTAKE_DONE: frozenset({S.LITERACY, S.PROFILE_READY}),
    S.LITERACY: frozenset({S.PROFILE_READY, S.LITERACY}),
    S.PROFILE_READY: frozenset({S.DISPATCHED}),
    S.DISPATCHED: frozenset({S.INTEREST, S.POLICY}),
    S.INTEREST: frozenset({S.INTERVIEW, S.NOT_SELECTED}),
    S.INTERVIEW: frozenset({S.HIRED, S.NOT_SELECTED}),
    S.NOT_SELECTED: frozenset({S.DISPATCHED, S.POLICY}),
    S.POLICY: frozenset({S.HIRED, S.DISPATCHED}),
}

#: Moves that must carry a typed reason.
REASON_REQUIRED: frozenset[State] = frozenset({S.REJECTED, S.CLOSED, S.WITHDRAWN, S.ERASED, S.DUPLICATE})


def next_states(state: State) -> frozenset[State]:
    """Every state a case in ``state`` may move to."""
    if state is S.ERASED:
        return frozenset()
    allowed = set(_FLOW.get(state, frozenset()))
    if state in OPEN:
        allowed |= {S.WITHDRAWN, S.CLOSED}
    allowed.add(S.ERASED)
    return frozenset(allowed)


@dataclass(frozen=True)
class TransitionFacts:
    """What the guards need to know about a case; gathered by the caller from the database."""

    has_office: bool = False
    has_dispatch_consent: bool = False
    has_duplicate_target: bool = False
    reason: str | None = None


class TransitionRefused(ValueError):
    """A move the state machine or a guard does not allow; the message says which and why."""


def check_transition(current: State, target: State, facts: TransitionFacts) -> None:
    """Raise :class:`TransitionRefused` unless ``current → target`` is allowed with these facts."""
    if target not in next_states(current):
        raise TransitionRefused(f"transizione non consentita: {current.value} → {target.value}")
    if target in REASON_REQUIRED and not facts.reason:
        raise TransitionRefused(f"la transizione verso {target.value} richiede un motivo")
    if target is S.ACCEPTED and not facts.has_office:
        raise TransitionRefused("accettazione senza CPI assegnato")
    if target is S.DISPATCHED and not facts.has_dispatch_consent:
        raise TransitionRefused("invio a Confindustria senza consenso valido")
    if target is S.DUPLICATE and not facts.has_duplicate_target:
        raise TransitionRefused("duplicato senza pratica di destinazione")


class ConcurrentTransition(RuntimeError):
    """Another writer moved the case first; this move lost and changed nothing."""
