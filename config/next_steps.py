"""Typed loader of ``config/next_steps.yaml``: the default next step of every open case.

Checked on load, so a state without a rule, a step without an Italian label or a condition on an
unknown fact fails loudly naming the file and the entry, instead of leaving cases where nobody
will ever look at them again (docs/ARCHITECTURE.md#data).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.data import CONFIG_DIR, ConfigError, _read_yaml
from models.enums import State
from models.state_machine import OPEN

NEXT_STEPS_FILE: Path = CONFIG_DIR / "next_steps.yaml"

#: The owner code of steps that fall to the coordinators (offices and organisations have their codes).
COORDINATORS = "coordinators"

#: Facts a conditional row may test; tasks/core/next_steps.py gathers each in bulk.
FACTS: frozenset[str] = frozenset({"consent_cpia", "consent_confindustria", "course_open"})


class OwnerKind(StrEnum):
    """Who acts on a step, resolved per case to an owner code."""

    OFFICE = "office"
    PARTNER = "partner"
    COORDINATOR = "coordinator"
    COMPANY = "company"
    CPIA = "cpia"
    OPERATOR = "operator"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Step(_Strict):
    """A next step: its code (stored on the case), Italian label, owner kind and delay."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    label: str = Field(min_length=3)
    owner: OwnerKind
    days: int = Field(ge=0, le=260, description="business days from the day the step is set")


class StateRow(_Strict):
    """One row of a state's rules: the step, when every fact in ``when`` has the given value."""

    when: dict[str, bool] = Field(default_factory=dict)
    step: str


class StepTable(_Strict):
    """Every step by code and, for every open state, its rows in order (the last unconditional)."""

    version: str = Field(min_length=1)
    steps: dict[str, Step]
    states: dict[State, tuple[StateRow, ...]]


def _check(path: Path, table: StepTable) -> None:
    """Cross-entry rules: each open state has rows ending with a catch-all, known steps and facts."""
    missing = sorted(s.value for s in OPEN if s not in table.states)
    if missing:
        raise ConfigError(f"{path}: states: no rule for the open states {missing}")
    for state, rows in table.states.items():
        where = f"{path}: states.{state.value}"
        if state not in OPEN:
            raise ConfigError(f"{where}: {state.value} is not an open state (a closed case has no next step)")
        if not rows or rows[-1].when:
            raise ConfigError(f"{where}: the last row must have no 'when' (the step when nothing else holds)")
        for index, row in enumerate(rows):
            if row.step not in table.steps:
                raise ConfigError(f"{where}[{index}]: unknown step {row.step!r}; known: {sorted(table.steps)}")
            unknown = sorted(set(row.when) - FACTS)
            if unknown:
                raise ConfigError(f"{where}[{index}]: unknown facts {unknown}; known: {sorted(FACTS)}")
    for code, step in table.steps.items():
        if step.code != code:
            raise ConfigError(f"{path}: steps: code {step.code!r} listed twice")
        if re.search(r"[a-z]_[a-z]", step.label) or step.label.casefold() == code:
            raise ConfigError(f"{path}: steps (code={code!r}): the label must be Italian words, not a code")


def _parse(path: Path) -> StepTable:
    data: dict[str, Any] = _read_yaml(path)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ConfigError(f"{path}: 'steps' must be a non-empty list")
    parsed: dict[str, Step] = {}
    for index, entry in enumerate(steps):
        try:
            step = Step.model_validate(entry)
        except ValidationError as exc:
            code = entry.get("code") if isinstance(entry, dict) else None
            raise ConfigError(f"{path}: steps[{index}] (code={code!r}): {exc}") from exc
        if step.code in parsed:
            raise ConfigError(f"{path}: steps[{index}] (code={step.code!r}): duplicate step code")
        parsed[step.code] = step
    try:
        table = StepTable.model_validate({**data, "steps": parsed})
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    _check(path, table)
    return table


@lru_cache(maxsize=1)
def _default() -> StepTable:
    return _parse(NEXT_STEPS_FILE)


def load_next_steps(path: Path | None = None) -> StepTable:
    """The table of ``path`` (default ``config/next_steps.yaml``, read once per process)."""
    return _parse(path) if path is not None else _default()
