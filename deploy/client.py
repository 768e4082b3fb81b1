"""A small client for operators, the demo and tests: run deployments, wait for runs, read and
answer suspended forms. Everything here speaks flow-run ids, deployment names and case codes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from tasks.runtime.prefect_api import deployment_runs, read_flow_run

#: Seconds between two looks at a run or at the database while waiting: a caller waiting on
#: many runs one after the other (the demo: about 60) loses half of it on each, and each look
#: costs the server 5–15 ms of CPU, taken from the flow runs it serves on a 2-core machine.
POLL_SECONDS = 0.5

#: A run's creation or a form's answer the server refused as busy (HTTP 503, its SQLite locked):
#: attempts, and the pause before the n-th new attempt (n × this), instead of Prefect's client's
#: 2 s, 4 s, 8 s (:func:`_again_if_busy`).
CREATE_ATTEMPTS = 12
CREATE_RETRY_SECONDS = 0.05
BUSY = 503


def run(name: str, params: dict[str, Any], timeout: float = 300) -> Any:
    """Run a deployment and wait for it; return its result summary (counts only)."""
    state = wait_done(start(name, params), timeout, what=name)
    return _short(state.result(raise_on_failure=False))


def _short(result: Any) -> Any:
    if isinstance(result, dict):
        return {k: v for k, v in result.items() if not isinstance(v, dict) or len(v) < 6}
    return result


def start(name: str, params: dict[str, Any]) -> Any:
    """Create a run of a deployment (``flow/deployment``) and return its id at once.

    Asked again at once when the server was busy (:func:`_again_if_busy`), with the same
    idempotency key: never two runs.
    """
    from prefect import get_client

    key = str(uuid4())
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        flow_run = _again_if_busy(
            lambda: client.create_flow_run_from_deployment(deployment.id, parameters=params, idempotency_key=key),
            idempotent=True,
        )
    return flow_run.id


def _again_if_busy(request: Callable[[], Any], *, idempotent: bool = False) -> Any:
    """``request()``, asked again after a short pause while the server answers 503.

    The server answers 503 when its SQLite was busy (a transaction that read first cannot take
    the write lock another connection holds, and fails at once, rolled back): Prefect's client
    would ask again after 2 s, then 4 s, 8 s; here after 50 ms, 100 ms, … An ``idempotent``
    request (a run created with its idempotency key) is also asked again when the answer did not
    arrive in time (an overloaded server may have done it: the key makes it one run). Any other
    error at once.
    """
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}):
                return request()
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code != BUSY or attempt == CREATE_ATTEMPTS:
                raise
            time.sleep(CREATE_RETRY_SECONDS * attempt)
        except httpx.TimeoutException:
            if not idempotent or attempt == CREATE_ATTEMPTS:
                raise
            time.sleep(CREATE_RETRY_SECONDS * attempt)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


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


def wait_done(run_id: Any, timeout: float = 300, what: str = "run") -> Any:
    """The run's final state once it has completed; an error naming ``what`` if it ended otherwise
    or did not end within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_flow_run(run_id).state
        if state is not None and state.is_final():
            if not state.is_completed():
                raise RuntimeError(f"{what} ended as {state.name}; see var/logs/serve.log")
            return state
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{what} did not finish in {timeout:.0f} s")


def resume(run_id: Any, answer: dict[str, Any]) -> None:
    """Answer a suspended form once (a second or late answer raises instead of being lost).

    A busy server is asked again at once (:func:`_again_if_busy`): its refusal rolled back the
    whole resume, answer included, so the form is still waiting for it. An answer whose reply did
    not arrive in time (an overloaded server) may have been taken: the run is read again, and
    the answer is sent again only while the same question is still waiting; "already answered"
    after that is this answer, taken before its reply was lost."""
    import httpx

    from tasks.runtime.prefect_api import FormAlreadyAnswered, answer_form

    asked = _question(run_id)
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            _again_if_busy(lambda: answer_form(run_id, answer))
            return
        except httpx.TimeoutException:
            if attempt == CREATE_ATTEMPTS:
                raise
        except FormAlreadyAnswered:
            if attempt == 1:
                raise
            return
        time.sleep(CREATE_RETRY_SECONDS * attempt)
        if _question(run_id) != asked:
            return  # the run moved on: the server took the answer


def _question(run_id: Any) -> Any:
    """The id of the paused state a form run is waiting in (None when it is not waiting)."""
    state = read_flow_run(run_id).state
    return state.id if state is not None and state.is_paused() else None


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
