"""Progress bars for long batches: one Prefect progress artifact per loop, counts only.

    progress = Progress("matching", len(vacancies), "Posizioni abbinate")
    for vacancy in progress.track(vacancies):
        ...
    progress.finish()

(or ``with Progress(...) as progress:``, which finishes on success). Inside a flow or task run
and from ``INCONTRO_PROGRESS_MIN_ITEMS`` items up (default 200), it creates a keyed artifact
``<stage>-progress`` once, then updates it each time it gains 5 percentage points (smaller
gains: at most once every 2 seconds), and to 100 when done. Anywhere else (unit tests, scripts,
small batches) it only counts. The description is the caller's Italian label with two numbers:
never a name or any other value of the items (docs/ARCHITECTURE.md#privacy).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar, cast
from uuid import UUID

T = TypeVar("T")

STEP_PERCENT = 5.0
MIN_INTERVAL_S = 2.0

_log = logging.getLogger(__name__)


@dataclass
class Throttle:
    """When a new percentage is worth an API call (pure: the clock is injectable)."""

    total: int
    step: float = STEP_PERCENT
    interval: float = MIN_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    published: float = 0.0
    _at: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._at = self.clock()

    def percent(self, done: int) -> float:
        """``done`` of ``total`` as a percentage in [0, 100], one decimal rounded down (100 only
        when every item is done)."""
        if self.total <= 0:
            return 100.0
        return min(100.0, math.floor(1000 * max(done, 0) / self.total) / 10)

    def due(self, done: int) -> float | None:
        """The percentage to publish after ``done`` items (and record it as published), or
        None: nothing new, or less than ``step`` points and ``interval`` seconds since the last."""
        pct = self.percent(done)
        if pct <= self.published:
            return None
        now = self.clock()
        if pct >= 100.0 or pct - self.published >= self.step or now - self._at >= self.interval:
            self.published, self._at = pct, now
            return pct
        return None


def progress_key(stage: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return (re.sub(r"[^a-z0-9]+", "-", stage.lower()).strip("-") or "batch") + "-progress"


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # 12.345, as Italian readers expect


def _in_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


class Progress:
    """The progress of one loop over ``total`` items of a ``stage`` (see the module docstring).

    Args:
        stage: Short stage code (``matching``, ``dedup``, ``retention`` ...): the artifact key.
        total: How many items the loop will go through.
        what: Italian label of the counted items, e.g. ``"Posizioni abbinate"``.
        min_items: Smaller batches publish nothing; default ``settings.progress_min_items``.
        throttle: Injected in tests; default 5 points or 2 seconds between updates.
    """

    def __init__(
        self,
        stage: str,
        total: int,
        what: str = "Elementi elaborati",
        *,
        min_items: int | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.stage = stage
        self.total = max(total, 0)
        self.what = what
        self.done = 0
        self.key = progress_key(stage)
        self.artifact_id: UUID | None = None
        self._throttle = throttle or Throttle(self.total)
        self.active = self.total > 0 and _in_run() and self.total >= _min_items(min_items)
        if self.active:
            self._create()

    @property
    def description(self) -> str:
        return f"{self.what}: {_count(self.done)} di {_count(self.total)}"

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more items done; publish if the throttle says so."""
        self.done += n
        if self.active:
            pct = self._throttle.due(self.done)
            if pct is not None:
                self._update(pct)

    def track(self, items: Iterable[T]) -> Iterator[T]:
        """Yield ``items``, counting each one once the loop body has finished with it."""
        for item in items:
            yield item
            self.advance()

    def finish(self) -> None:
        """The batch is done (items skipped on the way included): the bar goes to 100."""
        self.done = max(self.done, self.total)
        if self.active and self._throttle.published < 100.0:
            self._throttle.published = 100.0
            self._update(100.0)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.finish()  # on an error the bar stays where the batch stopped

    def _create(self) -> None:
        from prefect.artifacts import create_progress_artifact

        try:
            # _sync: these loops are synchronous, even when the flow around them runs an event loop
            created = create_progress_artifact(0.0, key=self.key, description=self.description, _sync=True)  # type: ignore[call-arg]
            self.artifact_id = cast(UUID, created)
        except Exception as exc:  # a progress bar never fails the batch it describes
            self._give_up(exc)

    def _update(self, pct: float) -> None:
        from prefect.artifacts import update_progress_artifact

        if self.artifact_id is None:
            return
        try:
            update_progress_artifact(self.artifact_id, pct, description=self.description, _sync=True)  # type: ignore[call-arg]
        except Exception as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        self.active = False
        _log.warning("progress artifact %s disabled: %s", self.key, type(exc).__name__)


def _min_items(explicit: int | None) -> int:
    if explicit is not None:
        return explicit
    from config.settings import get_settings

    return get_settings().progress_min_items
