"""deploy/client.py's waits, on a scripted sequence of flow-run states: a form counts as asked
only once its schema is saved (Prefect proposes PAUSED first and saves the schema after, and an
answer sent in between is refused: issue 16), and a run that ends instead is reported."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

import deploy.client as client
import tasks.runtime.prefect_api as prefect_api


def _state(kind: str) -> SimpleNamespace:
    return SimpleNamespace(
        name=kind.title(),
        is_paused=lambda: kind == "paused",
        is_final=lambda: kind in {"completed", "failed"},
        is_completed=lambda: kind == "completed",
    )


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """``states``: what each successive read of the run returns (the last one repeats);
    ``calls``: what the client asked, in order."""
    seen: dict[str, Any] = {"states": [], "calls": []}

    def read_flow_run(run_id: Any) -> SimpleNamespace:
        seen["calls"].append(("read", run_id))
        states = seen["states"]
        return SimpleNamespace(state=_state(states.pop(0) if len(states) > 1 else states[0]))

    def form_schema(run_id: Any, timeout: float = 30.0) -> dict[str, Any]:
        seen["calls"].append(("schema", run_id))
        return {"properties": {}}

    monkeypatch.setattr(client, "read_flow_run", read_flow_run)
    monkeypatch.setattr(prefect_api, "form_schema", form_schema)
    monkeypatch.setattr(client, "POLL_SECONDS", 0.0)
    yield seen


def test_a_paused_form_is_asked_once_its_schema_is_saved(script: dict[str, Any]) -> None:
    script["states"] = ["scheduled", "running", "paused"]
    client.wait_paused("run-1")
    assert script["calls"][-1] == ("schema", "run-1")  # waited for the schema before answering
    assert [c for c in script["calls"] if c[0] == "read"] == [("read", "run-1")] * 3


def test_asked_again_needs_no_pause_after_the_refused_answer(script: dict[str, Any]) -> None:
    """resume() returns once the server has moved the run out of PAUSED: the next PAUSED read
    is the new question, waited for at once (its schema included)."""
    script["states"] = ["scheduled", "paused"]
    client.wait_paused("run-1")
    assert script["calls"] == [("read", "run-1"), ("read", "run-1"), ("schema", "run-1")]


def test_a_form_run_that_ends_without_asking_is_reported(script: dict[str, Any]) -> None:
    script["states"] = ["running", "completed"]
    with pytest.raises(RuntimeError, match="ended as Completed before asking"):
        client.wait_paused("run-1")
    script["states"] = ["running", "completed"]
    assert client.wait_paused_or_done("run-2") is False
    assert ("schema", "run-2") not in script["calls"]


def test_wait_done_refuses_a_failed_run(script: dict[str, Any]) -> None:
    script["states"] = ["running", "failed"]
    with pytest.raises(RuntimeError, match="run ended as Failed"):
        client.wait_done("run-1")
