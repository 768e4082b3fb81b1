"""Routing rules after intake: Italian below the threshold goes to a CPIA course (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from models.enums import Cefr, State

SKILLS = ("listening", "reading", "interaction", "production", "writing")

#: The next step of a REFERRED case whose comune names no CPI (unresolved, empty, outside the
#: province): the coordinators (its owner and delay: config/next_steps.yaml) assign one with
#: `incontro assign-office`, then the case is accepted as usual.
ASSIGN_OFFICE = "assign_office"


def overall_level(levels: Mapping[str, Cefr], rule: str = "min") -> Cefr:
    """One level from the per-skill levels: the weakest skill (``min``) or the median."""
    ordered = sorted((levels[s] for s in SKILLS), key=lambda c: c.rank)
    return ordered[0] if rule == "min" else ordered[len(ordered) // 2]


def needs_literacy(levels: Mapping[str, Cefr], threshold: Cefr, rule: str = "min") -> bool:
    """True when the person's Italian is below ``threshold`` under ``rule``."""
    return overall_level(levels, rule).rank < threshold.rank


def route_after_assessment(levels: Mapping[str, Cefr], threshold: Cefr, rule: str = "min") -> State:
    """LITERACY when a course is needed, else PROFILE_READY."""
    return State.LITERACY if needs_literacy(levels, threshold, rule) else State.PROFILE_READY


def course_level(current: Cefr, threshold: Cefr) -> Cefr:
    """The CPIA course to request: the next level up, at most the threshold."""
    nxt = list(Cefr)[min(current.rank + 1, len(Cefr) - 1)]
    return nxt if nxt.rank <= threshold.rank else threshold
