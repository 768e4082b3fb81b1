"""A small client for operators, the demo and tests: run deployments, wait for runs, read and
answer suspended forms. Everything here speaks flow-run ids, deployment names and case codes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tasks.runtime.prefect_api import deployment_runs, read_flow_run

#: Seconds between two looks at a run or at the database while waiting: a caller waiting on
#: many runs one after the other (the demo: about 60) loses half of it on each, and each look
#: costs the server 5–15 ms of CPU, taken from the flow runs it serves on a 2-core machine.
POLL_SECONDS = 0.5


def run(name: str, params: dict[str, Any], timeout: float = 300) -> Any:
    """Run a deployment and wait for it; return its result summary (counts only)."""
    from prefect.deployments import run_deployment

    flow_run: Any = run_deployment(name, parameters=params, timeout=timeout, poll_interval=POLL_SECONDS, _sync=True)  # type: ignore[call-arg]
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


def wait_paused(run_id: Any, timeout: float = 180) -> None:
    """Wait until a form run asks its form (the first time, or anew after a refused answer).

    Asked means suspended *and* its form saved: Prefect proposes the PAUSED state before it saves
    the form's schema, and an answer sent in between is refused. No pause to sit out after an
    answer: :func:`resume` returns once the server has moved the run out of its PAUSED state,
    so a PAUSED state read afterwards is the new question.
    """
    if not wait_paused_or_done(run_id, timeout):
        raise RuntimeError(f"form run ended as {read_flow_run(run_id).state.name} before asking")


def wait_paused_or_done(run_id: Any, timeout: float = 180) -> bool:
    """True once the run asks its form (suspended, form saved), False if it ended without asking."""
    from tasks.runtime.prefect_api import form_schema

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_flow_run(run_id).state
        if state is not None and state.is_paused():
            form_schema(run_id, timeout=max(deadline - time.monotonic(), 1.0))
            return True
        if state is not None and state.is_final():
            return False
        time.sleep(POLL_SECONDS)
    raise TimeoutError("run neither paused nor finished")


def wait_done(run_id: Any, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_flow_run(run_id).state
        if state is not None and state.is_final():
            if not state.is_completed():
                raise RuntimeError(f"run ended as {state.name}; see var/logs/serve.log")
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError("run did not finish in time")


def resume(run_id: Any, answer: dict[str, Any]) -> None:
    """Answer a suspended form once (a second or late answer raises instead of being lost)."""
    from tasks.runtime.prefect_api import answer_form

    answer_form(run_id, answer)


def wait_idle(name: str, timeout: float = 120) -> None:
    """Wait until no run of this deployment is scheduled, pending or running."""
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not deployment_runs(name, [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]):
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{name} still busy")


def wait_until(check: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"timed out waiting for: {what}")


def wait_for_run(name: str, state_types: list[Any], timeout: float = 180) -> Any:
    """The first run of a deployment in one of these state types (e.g. a triggered form)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = deployment_runs(name, state_types)
        if runs:
            return runs[0]
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"no run of {name} in {state_types}")
