"""The literacy rule that runs after intake and after each course (tasks/core/routing.py)."""

from __future__ import annotations

import pytest

from models.enums import Cefr, State
from tasks.core.routing import SKILLS, course_level, needs_literacy, overall_level, route_after_assessment

A1, A2, B1, B2 = Cefr.A1, Cefr.A2, Cefr.B1, Cefr.B2


def _levels(*values: Cefr) -> dict[str, Cefr]:
    return dict(zip(SKILLS, values, strict=True))


@pytest.mark.parametrize(
    ("levels", "rule", "expected"),
    [
        (_levels(B1, B1, B1, B1, B1), "min", B1),
        (_levels(B1, B1, B1, B1, A1), "min", A1),  # the weakest skill decides
        (_levels(B2, B1, A2, A1, A1), "median", A2),
        (_levels(A1, A1, A1, B2, B2), "median", A1),
    ],
)
def test_overall_level(levels: dict[str, Cefr], rule: str, expected: Cefr) -> None:
    assert overall_level(levels, rule) is expected


@pytest.mark.parametrize(
    ("levels", "threshold", "state"),
    [
        (_levels(A2, A2, A2, A2, A2), A2, State.PROFILE_READY),  # at the threshold: no course
        (_levels(B1, B1, B1, B1, A1), A2, State.LITERACY),  # one skill below: course
        (_levels(A1, A1, A1, A1, A1), A1, State.PROFILE_READY),
        (_levels(B1, B1, B1, B1, A2), B1, State.LITERACY),
    ],
)
def test_route_after_assessment(levels: dict[str, Cefr], threshold: Cefr, state: State) -> None:
    assert route_after_assessment(levels, threshold) is state
    assert needs_literacy(levels, threshold) is (state is State.LITERACY)


def test_a_missing_skill_is_an_error_not_a_pass() -> None:
    with pytest.raises(KeyError):
        route_after_assessment({"listening": B2}, A2)


@pytest.mark.parametrize(
    ("current", "threshold", "course"),
    [(A1, A2, A2), (A1, B1, A2), (A2, B1, B1), (B1, A2, A2), (Cefr.C2, Cefr.C2, Cefr.C2)],
)
def test_course_level_is_the_next_step_up_to_the_threshold(current: Cefr, threshold: Cefr, course: Cefr) -> None:
    assert course_level(current, threshold) is course
