"""A small client for operators, the demo and tests: run deployments, wait for runs, read and
answer suspended forms. Everything here speaks flow-run ids, deployment names and case codes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any


def run(name: str, params: dict[str, Any], timeout: float = 300) -> Any:
    """Run a deployment and wait for it; return its result summary (counts only)."""
    from prefect.deployments import run_deployment

    flow_run: Any = run_deployment(name, parameters=params, timeout=timeout, poll_interval=1, _sync=True)  # type: ignore[call-arg]
    if flow_run.state is None or not flow_run.state.is_completed():
        raise RuntimeError(f"{name} ended as {flow_run.state.name if flow_run.state else '?'}; see var/logs/serve.log")
    return _short(flow_run.state.result(raise_on_failure=False) if flow_run.state else None)


def _short(result: Any) -> Any:
    if isinstance(result, dict):
        return {k: v for k, v in result.items() if not isinstance(v, dict) or len(v) < 6}
    return result


def start(name: str, params: dict[str, Any]) -> Any:
    from prefect.deployments import run_deployment

    flow_run: Any = run_deployment(name, parameters=params, timeout=0, _sync=True)  # type: ignore[call-arg]
    return flow_run.id


def _read(run_id: Any) -> Any:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def wait_paused(run_id: Any, timeout: float = 180, again: bool = False) -> None:
    """Wait for a form run to be suspended (``again``: after a refused answer)."""
    if again:
        time.sleep(1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _read(run_id).state
        if state is not None and state.is_paused():
            return
        if state is not None and state.is_final():
            raise RuntimeError(f"form run ended as {state.name} before asking")
        time.sleep(0.5)
    raise TimeoutError("form was not asked in time")


def wait_paused_or_done(run_id: Any, timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _read(run_id).state
        if state is not None and state.is_paused():
            return True
        if state is not None and state.is_final():
            return False
        time.sleep(0.5)
    raise TimeoutError("run neither paused nor finished")


def wait_done(run_id: Any, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _read(run_id).state
        if state is not None and state.is_final():
            if not state.is_completed():
                raise RuntimeError(f"run ended as {state.name}; see var/logs/serve.log")
            return
        time.sleep(0.5)
    raise TimeoutError("run did not finish in time")


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


def resume(run_id: Any, answer: dict[str, Any]) -> None:
    from prefect.flow_runs import resume_flow_run

    resume_flow_run(run_id, run_input=answer, _sync=True)  # type: ignore[call-arg]  # also from inside event loops


def _runs(name: str, types: list[Any]) -> list[Any]:
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

    return len(_runs(name, [StateType.COMPLETED]))


def wait_idle(name: str, timeout: float = 120) -> None:
    """Wait until no run of this deployment is scheduled, pending or running."""
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _runs(name, [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]):
            return
        time.sleep(1)
    raise TimeoutError(f"{name} still busy")


def wait_until(check: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise TimeoutError(f"timed out waiting for: {what}")


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


def wait_for_run(name: str, state_types: list[Any], timeout: float = 180) -> Any:
    """The first run of a deployment in one of these state types (e.g. a triggered form)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(name, state_types)
        if runs:
            return runs[0]
        time.sleep(1)
    raise TimeoutError(f"no run of {name} in {state_types}")
