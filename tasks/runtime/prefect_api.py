"""Read-side Prefect API queries shared by the maintenance sweep, the CLI, the demo and tests:
flow runs, suspended forms and their inputs. Prefect is imported lazily (flow-run start-up)."""

from __future__ import annotations

import json
from typing import Any


def read_flow_run(run_id: Any) -> Any:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def form_inputs(run_id: Any, field: str | None = None) -> list[dict[str, Any]]:
    """The rows the suspended form is asking about (its pre-filled list: codes only).

    ``field`` names the form's list field; by default the first list-valued one.
    """
    from prefect import get_client

    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(run_id)
        keyset: Any = flow_run.state.state_details.run_input_keyset  # type: ignore[union-attr]
        schema = client.read_flow_run_input(flow_run_id=run_id, key=keyset["schema"])
    props = json.loads(schema)["properties"]
    name = field or next(k for k, v in props.items() if isinstance(v.get("default"), list))
    return list(props[name]["default"])


def deployment_runs(name: str, types: list[Any]) -> list[Any]:
    """Flow runs of one deployment (``flow/deployment``) in any of these state types."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )

    with get_client(sync_client=True) as client:
        return list(
            client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name.split("/")[1]])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=types))),
            )
        )


def completed_runs(name: str) -> int:
    from prefect.client.schemas.objects import StateType

    return len(deployment_runs(name, [StateType.COMPLETED]))


def paused_runs() -> list[Any]:
    """Every flow run waiting for an operator's form."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        return list(
            client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                )
            )
        )
