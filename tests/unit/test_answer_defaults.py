"""`incontro answer --defaults` sends each form's own pre-filled field (issue 22, defect 7): it
used to send ``results`` to every form, which the dedup, policy and tavolo forms refuse."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cli.main import form_defaults
from models.forms import DedupForm, IntakeForm, PolicyDecisionForm, TavoloDecisionForm


def _saved_schema(form: type[Any], **initial: Any) -> dict[str, Any]:
    """The schema Prefect saves for a suspended run (tasks/runtime/steps.py: ask_operator)."""
    run_input = form.with_initial_data(description="Modulo di prova", **initial)
    return json.loads(json.dumps(run_input.model_json_schema()))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("form", "field", "row"),
    [
        (
            DedupForm,
            "decisions",
            {"review_id": 7, "case_code": "BG-2026-000412", "candidate_code": "BG-2026-000087", "score": 88.5},
        ),
        (PolicyDecisionForm, "decisions", {"case_code": "BG-2026-000233"}),
        (TavoloDecisionForm, "decisions", {"case_code": "BG-2026-000519", "decision": "defer", "measure": ""}),
        (IntakeForm, "results", {"case_code": "BG-2026-000101"}),
    ],
)
def test_defaults_answer_under_the_forms_own_field(form: type[Any], field: str, row: dict[str, Any]) -> None:
    answer = form_defaults(_saved_schema(form, **{field: [row]}))
    assert list(answer) == [field]
    assert answer[field][0]["case_code"] == row["case_code"]
    form.model_validate(answer)  # what the server and the flow will accept
