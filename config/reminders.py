"""Typed loader of ``config/reminders.yaml``: when an overdue "ask for the consent" step is
reminded to its CPI and when it goes to the coordination table (issue 18: no dead ends).

Checked on load against ``config/next_steps.yaml``: a step that is not a next step, or a label
that reads like a code, fails loudly naming the file.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.data import CONFIG_DIR, ConfigError, _read_yaml
from config.next_steps import load_next_steps

REMINDERS_FILE: Path = CONFIG_DIR / "reminders.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ConsentReminders(_Strict):
    """The consent steps (code → the consent in Italian) and the two delays in business days."""

    steps: dict[str, str] = Field(min_length=1)
    remind_every_business_days: int = Field(ge=1, le=60)
    agenda_after_business_days: int = Field(ge=1, le=120)


class Reminders(_Strict):
    version: str = Field(min_length=1)
    consent: ConsentReminders


def _parse(path: Path) -> Reminders:
    data: dict[str, Any] = _read_yaml(path)
    try:
        parsed = Reminders.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    known = load_next_steps().steps
    for code, label in parsed.consent.steps.items():
        if code not in known:
            raise ConfigError(f"{path}: consent.steps: {code!r} is not a step of config/next_steps.yaml")
        if re.search(r"[a-z]_[a-z]", label):
            raise ConfigError(f"{path}: consent.steps.{code}: the label must be Italian words, not a code")
    return parsed


@lru_cache(maxsize=1)
def _default() -> Reminders:
    return _parse(REMINDERS_FILE)


def load_reminders(path: Path | None = None) -> Reminders:
    """The reminders of ``path`` (default ``config/reminders.yaml``, read once per process)."""
    return _parse(path) if path is not None else _default()
