"""Direct Python calls of a stage refuse bad parameters before Prefect stores a run (docs/ARCHITECTURE.md#privacy).

Deployment runs are checked by the server; these are the calls from the demo, the CLI or a
script, which Prefect's engine would otherwise record first and validate afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
from prefect import flow, get_client
from prefect.exceptions import ParameterTypeError

from deploy.serve import load_flow
from deploy.specs import DEPLOYMENTS
from flows._stage import StageFlow, check_parameters
from flows.dispatch import dispatch
from flows.privacy import erasure


def _stored_parameters() -> list[dict[str, Any]]:
    with get_client(sync_client=True) as client:
        return [run.parameters for run in client.read_flow_runs(limit=200)]


def test_every_deployed_flow_checks_its_parameters() -> None:
    plain = [d.entrypoint for d in DEPLOYMENTS if not isinstance(load_flow(d.entrypoint), StageFlow)]
    assert plain == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: dispatch(case_codes=["Andrii Melnyk"]), "case_codes.0"),
        (lambda: dispatch(batch_code="Melnyk Andrii"), "batch_code"),
        (lambda: erasure(case_code="MLNNDR85C12Z138K"), "case_code"),
    ],
)
def test_personal_data_in_a_code_field_is_refused_before_any_run(call: Any, field: str) -> None:
    before = _stored_parameters()
    with pytest.raises(ParameterTypeError) as refused:
        call()
    message = str(refused.value)
    assert field in message and "pattern" in message
    assert "Andrii" not in message and "Melnyk" not in message and "MLNNDR" not in message
    after = _stored_parameters()
    assert len(after) == len(before)  # no run was created at all
    assert not any("Melnyk" in str(p) or "MLNNDR" in str(p) for p in after)


def test_a_plain_prefect_flow_would_have_stored_the_name() -> None:
    """Why the check exists: Prefect's engine records the run, then fails it on validation."""

    @flow(name="plain-for-comparison")
    def plain(case_codes: list[str] | None = None, limit: int = 1) -> int:
        return limit

    with pytest.raises(ParameterTypeError):
        plain(case_codes=["Plain Person"], limit="not a number")  # type: ignore[arg-type]
    assert any("Plain Person" in str(p) for p in _stored_parameters())


def test_check_parameters_accepts_what_the_engine_accepts() -> None:
    def fn(case_codes: list[str] | None = None, limit: int = 1) -> None: ...

    check_parameters(fn, (), {"case_codes": ["BG-2026-000001"], "limit": "3"})  # coerced, like Prefect
    with pytest.raises(ParameterTypeError, match="limit"):
        check_parameters(fn, (), {"limit": "tre"})
    with pytest.raises(TypeError):  # an unknown parameter is a bind error, as in Prefect
        check_parameters(fn, (), {"office": "CPI-BG"})
