"""Read-side Prefect API queries shared by the maintenance sweep, the CLI, the demo and tests:
flow runs, suspended forms and their inputs. Prefect is imported lazily (flow-run start-up)."""

from __future__ import annotations

import json
import time
from typing import Any


def read_flow_run(run_id: Any) -> Any:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


#: How long a reader waits for a paused form's schema (Prefect saves it after the PAUSED state).
FORM_SCHEMA_TIMEOUT = 30.0


class FormNotReady(TimeoutError):
    """A suspended run's form has no schema yet: Prefect proposes PAUSED first and saves the
    run-input schema afterwards, so a reader that sees PAUSED at once can be too early."""


class FormNotWaiting(FormNotReady):
    """The run is not paused: its form was answered already (or it never asked one)."""


def form_inputs(run_id: Any, field: str | None = None, *, timeout: float = FORM_SCHEMA_TIMEOUT) -> list[dict[str, Any]]:
    """The rows the suspended form is asking about (its pre-filled list: codes only).

    ``field`` names the form's list field; by default the first list-valued one. Waits (at most
    ``timeout`` seconds) for Prefect to save the form's schema, then raises :class:`FormNotReady`.
    """
    props = form_schema(run_id, timeout)["properties"]
    name = field or next(k for k, v in props.items() if isinstance(v.get("default"), list))
    return list(props[name]["default"])


def form_schema(run_id: Any, timeout: float = FORM_SCHEMA_TIMEOUT) -> dict[str, Any]:
    """The JSON schema of the form a suspended run is waiting on (the CLI, the desk and
    ``answer_form`` read it); waits at most ``timeout`` s for Prefect to save it, as form_inputs."""
    import httpx
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(run_id)
            if flow_run.state is not None and not flow_run.state.is_paused():
                raise FormNotWaiting(f"L'esecuzione {run_id} non ha un modulo in attesa di risposta.")
            keyset = flow_run.state.state_details.run_input_keyset if flow_run.state else None
            if keyset:
                try:
                    return dict(json.loads(str(client.read_flow_run_input(flow_run_id=run_id, key=keyset["schema"]))))
                except httpx.HTTPStatusError as exc:
                    if exc.response.status_code != 404:
                        raise
            if time.monotonic() >= deadline:
                raise FormNotReady(
                    f"Il modulo dell'esecuzione {run_id} non è ancora pronto dopo {timeout:.0f} s "
                    "(Prefect non ne ha salvato lo schema): riprovare tra un minuto con `incontro forms`."
                )
            time.sleep(0.25)


class FormAlreadyAnswered(RuntimeError):
    """The form is no longer waiting: another answer (or a concurrent one) got there first."""

    def __init__(self, run_id: Any, answered_at: Any | None) -> None:
        self.run_id = run_id
        self.answered_at = answered_at
        super().__init__(f"form of run {run_id} already answered")


class FormRefused(ValueError):
    """The server refused the answer (it does not match the form's schema)."""


def answer_form(run_id: Any, answer: dict[str, Any]) -> None:
    """Resume a suspended form with ``answer``, exactly once.

    ``prefect.flow_runs.resume_flow_run`` ignores the server's ABORT ("not paused"), so of two
    answers racing for one form both looked accepted and one was lost. Here anything but an
    accepted resume raises: :class:`FormAlreadyAnswered` (with when, if the server kept it) or
    :class:`FormRefused` (with the server's reason).
    """
    from uuid import UUID

    from prefect import get_client
    from prefect.client.schemas.responses import SetStateStatus

    flow_run_id = UUID(str(run_id))
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
        if flow_run.state is not None and flow_run.state.is_paused():
            response = client.resume_flow_run(flow_run_id, run_input=_in_words(client, flow_run, answer))
            if response.status == SetStateStatus.ACCEPT:
                return
            if response.status != SetStateStatus.ABORT:
                raise FormRefused(str(getattr(response.details, "reason", None) or response.status.value))
        raise FormAlreadyAnswered(run_id, _last_answer_time(client, flow_run_id))


def _in_words(client: Any, flow_run: Any, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with every choice given by its code put in the words the form lists: the server
    accepts only those (models/form_choices.py: answer_in_words), scripts and the demo answer by code."""
    import httpx

    from models.form_choices import answer_in_words

    keyset = flow_run.state.state_details.run_input_keyset
    if not keyset:
        return answer
    try:
        schema = json.loads(str(client.read_flow_run_input(flow_run_id=flow_run.id, key=keyset["schema"])))
    except (httpx.HTTPStatusError, ValueError):
        return answer  # no schema to read: the server judges the answer as given
    return dict(answer_in_words(schema, answer))


def _last_answer_time(client: Any, flow_run_id: Any) -> Any | None:
    """When the newest stored answer of the run was saved (its ``-response`` input)."""
    answers = [
        i
        for i in client.filter_flow_run_input(flow_run_id, key_prefix="", limit=200, exclude_keys=set())
        if i.key.endswith("-response")
    ]
    return max((i.created for i in answers if i.created), default=None)


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
