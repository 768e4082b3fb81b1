"""Typed opening hours, closures and appointment rules of the CPI offices (``config/offices.yaml``).

Appointments are only given inside an office's opening blocks, so the blocks are checked on load
(``HH:MM-HH:MM``, in order, not overlapping, each long enough for one appointment): a typo fails
loudly instead of inviting people to a closed office. The slot arithmetic itself is in
``tasks/core/calendar.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, time, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

_BLOCK_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$")
#: Weekday keys as written in offices.yaml, Monday first (``date.weekday()`` order).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _block(value: Any) -> Any:
    """'08:45-12:45' → (08:45, 12:45); anything else is refused with the expected form."""
    if isinstance(value, str):
        match = _BLOCK_RE.match(value.strip())
        if not match:
            raise ValueError(f"opening block {value!r} must be 'HH:MM-HH:MM'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = time(h1, m1), time(h2, m2)
        if start >= end:
            raise ValueError(f"opening block {value!r}: start must be before end")
        return (start, end)
    return value


#: One opening block: start and end time of day (Europe/Rome).
Block = Annotated[tuple[time, time], BeforeValidator(_block)]


def minutes(moment: time) -> int:
    """Minutes since midnight."""
    return moment.hour * 60 + moment.minute


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True)


class OpeningHours(_Strict):
    """Opening blocks per weekday, e.g. ``tue: ["08:45-12:45", "14:00-16:00"]``; a day not
    listed is closed."""

    mon: tuple[Block, ...] = ()
    tue: tuple[Block, ...] = ()
    wed: tuple[Block, ...] = ()
    thu: tuple[Block, ...] = ()
    fri: tuple[Block, ...] = ()
    sat: tuple[Block, ...] = ()
    sun: tuple[Block, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        """Blocks of a day in order and apart: two desks' worth of overlap is a typo, not a rule."""
        for name in WEEKDAYS:
            blocks = getattr(self, name)
            for (_, end), (start, _) in pairwise(blocks):
                if start < end:
                    raise ValueError(f"{name}: opening blocks must be in order and must not overlap")
        if not any(getattr(self, name) for name in WEEKDAYS):
            raise ValueError("an office must be open at least one day a week")
        return self

    def blocks(self, weekday: int) -> tuple[tuple[time, time], ...]:
        """The blocks of ``weekday`` (0 = Monday)."""
        return tuple(getattr(self, WEEKDAYS[weekday]))

    def by_weekday(self) -> dict[int, tuple[tuple[time, time], ...]]:
        """Every weekday's blocks (0 = Monday), empty for closed days."""
        return {day: self.blocks(day) for day in range(7)}


class Closure(_Strict):
    """Days an office is closed besides public holidays (a move, staff training, a bridge day)."""

    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to", description="last closed day; empty = only 'from'")
    reason: str = Field(min_length=3)

    @model_validator(mode="after")
    def _in_order(self) -> Closure:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"closure {self.start}..{self.end}: 'to' is before 'from'")
        if self.end is not None and (self.end - self.start).days > 120:
            raise ValueError(f"closure {self.start}..{self.end}: longer than 120 days, surely a typo")
        return self

    def days(self) -> Iterator[date]:
        """Every closed day, both ends included."""
        day = self.start
        while day <= (self.end or self.start):
            yield day
            day += timedelta(days=1)


def closed_days(closures: tuple[Closure, ...]) -> frozenset[date]:
    """Every day any of ``closures`` covers."""
    return frozenset(day for closure in closures for day in closure.days())


class AppointmentRules(_Strict):
    """Rules every office shares (``appointments:`` at the top of offices.yaml)."""

    max_reschedules: int = Field(
        ge=0, le=5, description="new appointments after missed ones; then the referrer is asked to reach the person"
    )
    closures: tuple[Closure, ...] = ()

    def closed_days(self) -> frozenset[date]:
        """Days every office is closed."""
        return closed_days(self.closures)


def _parse_rules(path: Path) -> AppointmentRules:
    # imported here: config.data imports this module for the Office fields
    from config.data import ConfigError, _read_yaml

    data = _read_yaml(path).get("appointments")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: 'appointments' must be a mapping (max_reschedules, closures)")
    try:
        return AppointmentRules.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: appointments: {exc}") from exc


@lru_cache(maxsize=1)
def _default_rules() -> AppointmentRules:
    from config.data import OFFICES_FILE

    return _parse_rules(OFFICES_FILE)


def load_appointment_rules(path: Path | None = None) -> AppointmentRules:
    """The shared appointment rules; the default file is read once per process."""
    return _default_rules() if path is None else _parse_rules(Path(path))
