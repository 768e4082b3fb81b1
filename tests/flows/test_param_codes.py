"""Out of process, the Prefect server refuses a code field holding a tax code, a name or a padded
code when a deployment run is created (issue 16, defect 7), and stores nothing.

The deployments are the real ones of deploy/serve.py (same parameter schema as ``serve`` and
``prefect deploy``), registered in the test server without schedules or triggers so that they
start nothing; runs are created over the API as ``run_deployment`` and the CLI do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment
from prefect.exceptions import ParameterTypeError, PrefectHTTPStatusError

from deploy.serve import build
from deploy.specs import DEPLOYMENTS

#: deployment -> (parameters that pass, the field under test, values the server must refuse)
CASES: dict[str, tuple[dict[str, Any], str, list[Any]]] = {
    "referral": (
        {"file_path": "var/inbox/segnalazioni.csv", "referrer_code": "CARITAS-BG"},
        "referrer_code",
        ["RSSMRA80A01H501U", "ROSSI-MARIO", "CARITAS-BG\n", "CARITAS-BG ", "CONFINDUSTRIA-BG"],
    ),
    "intake": ({"office": "CPI-BG"}, "office", ["CPI-BG\n", " CPI-BG", "RSSMRA80A01H501U"]),
    "vacancies": (
        {"file_path": "var/inbox/posizioni.xlsx", "sender_code": "CONFINDUSTRIA-BG"},
        "sender_code",
        ["ROSSI-MARIO", "CONFINDUSTRIA-BG\n", "CARITAS-BG"],
    ),
    "consent-withdrawal": (
        {"case_code": "BG-2026-000123", "purpose": "contact_to_company", "recipient_code": "COMP-GOMMA-ISOLA"},
        "recipient_code",
        ["RSSMRA80A01H501U", "COMP-GOMMA-ISOLA\n", "mario.rossi@x.it"],
    ),
    "dispatch": (
        {"batch_code": "DSP-20261204-1"},
        "batch_code",
        ["DSP-20261204-1\n", "RSSMRA80A01H501U", "ROSSI-MARIO"],
    ),
    "erasure": ({"case_code": "BG-2026-000123"}, "case_code", ["BG-2026-000123\n", "RSSMRA80A01H501U"]),
}


@pytest.fixture(params=sorted(CASES))
def deployment(request: pytest.FixtureRequest) -> Iterator[tuple[str, UUID]]:
    """The real deployment, registered under a test name, deleted with its runs afterwards."""
    spec = next(d for d in DEPLOYMENTS if d.name == request.param)
    runner = build(spec)
    runner.name, runner.schedules, runner.triggers = f"{spec.name}-param-check", [], []
    deployment_id = runner.apply()
    assert isinstance(deployment_id, UUID)  # sync call: apply() ran, it is no coroutine
    yield spec.name, deployment_id
    with get_client(sync_client=True) as client:
        for run in _runs(deployment_id):
            client.delete_flow_run(run.id)
        client.delete_deployment(deployment_id)


def _runs(deployment_id: UUID) -> list[Any]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))


def test_the_server_refuses_a_bad_code_and_stores_no_run(deployment: tuple[str, UUID]) -> None:
    name, deployment_id = deployment
    good, field, bad_values = CASES[name]
    with get_client(sync_client=True) as client:
        assert client.read_deployment(deployment_id).enforce_parameter_schema is True
        for bad in bad_values:
            with pytest.raises(PrefectHTTPStatusError) as refused:
                client.create_flow_run_from_deployment(deployment_id, parameters={**good, field: bad})
            assert refused.value.response.status_code == 409, refused.value
            assert field in refused.value.response.json()["detail"]
    assert _runs(deployment_id) == []  # nothing reached Prefect's database

    flow_name = build(next(d for d in DEPLOYMENTS if d.name == name)).flow_name
    run = run_deployment(f"{flow_name}/{name}-param-check", parameters=good, timeout=0)
    assert isinstance(run, FlowRun)
    assert run.state is not None and run.state.type is StateType.SCHEDULED
    assert [r.parameters for r in _runs(deployment_id)] == [good]


@pytest.mark.parametrize("referrer_code", ["RSSMRA80A01H501U", "ROSSI-MARIO", "CARITAS-BG\n", " CARITAS-BG"])
def test_a_direct_call_refuses_the_same_values_before_any_run(referrer_code: str) -> None:
    """In process (the demo, a script): the same refusal, in Italian, and no run stored."""
    from flows.referral import referral

    with get_client(sync_client=True) as client:
        before = len(client.read_flow_runs(limit=200))
    with pytest.raises(ParameterTypeError) as refused:
        referral("var/inbox/segnalazioni.csv", referrer_code)
    assert "referrer_code" in str(refused.value) and "codice non previsto" in str(refused.value)
    assert referrer_code.strip() not in str(refused.value).replace("CARITAS-BG", "")
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=200)
    assert len(runs) == before and not any(referrer_code in str(r.parameters) for r in runs)
