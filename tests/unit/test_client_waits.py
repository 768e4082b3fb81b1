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


class _Server:
    """A Prefect client whose server answers the first ``busy`` creations 503 (SQLite locked),
    then creates the run: it records each creation's idempotency key."""

    def __init__(self, busy: int, status: int = 503) -> None:
        self.busy, self.status = busy, status
        self.keys: list[str] = []

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read_deployment_by_name(self, name: str) -> SimpleNamespace:
        return SimpleNamespace(id=f"dep:{name}")

    def create_flow_run_from_deployment(self, deployment_id: str, **kwargs: Any) -> SimpleNamespace:
        import httpx
        from prefect.exceptions import PrefectHTTPStatusError

        self.keys.append(kwargs["idempotency_key"])
        if len(self.keys) <= self.busy:
            request = httpx.Request("POST", "http://server/api/deployments/x/create_flow_run")
            response = httpx.Response(self.status, request=request)
            raise PrefectHTTPStatusError("refused", request=request, response=response)
        return SimpleNamespace(id=f"run-of-{deployment_id}")


def test_a_run_refused_as_busy_is_created_again_at_once_with_the_same_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect's own client would wait 2 s, then 4 s, after a 503 ("database is locked")."""
    import prefect

    server = _Server(busy=2)
    monkeypatch.setattr(prefect, "get_client", lambda sync_client: server)
    monkeypatch.setattr(client, "CREATE_RETRY_SECONDS", 0.0)
    assert client.start("intake/intake", {}) == "run-of-dep:intake/intake"
    assert len(server.keys) == 3 and len(set(server.keys)) == 1  # one run, whatever the attempts


def test_a_creation_whose_answer_timed_out_is_asked_again_with_the_same_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """An overloaded server may have created the run without answering in time: asked again with
    the same idempotency key (one run)."""
    import httpx
    import prefect

    class _Slow(_Server):
        def create_flow_run_from_deployment(self, deployment_id: str, **kwargs: Any) -> SimpleNamespace:
            if not self.keys:
                self.keys.append(kwargs["idempotency_key"])
                raise httpx.ReadTimeout("no answer in time")
            return super().create_flow_run_from_deployment(deployment_id, **kwargs)

    server = _Slow(busy=0)
    monkeypatch.setattr(prefect, "get_client", lambda sync_client: server)
    monkeypatch.setattr(client, "CREATE_RETRY_SECONDS", 0.0)
    assert client.start("intake/intake", {}) == "run-of-dep:intake/intake"
    assert len(server.keys) == 2 and len(set(server.keys)) == 1


def test_a_refused_run_is_not_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parameters the server refuses (422) or a server busy for every attempt: the error, once."""
    import prefect
    from prefect.exceptions import PrefectHTTPStatusError

    monkeypatch.setattr(client, "CREATE_RETRY_SECONDS", 0.0)
    refused = _Server(busy=1, status=422)
    monkeypatch.setattr(prefect, "get_client", lambda sync_client: refused)
    with pytest.raises(PrefectHTTPStatusError):
        client.start("intake/intake", {})
    assert len(refused.keys) == 1
    busy = _Server(busy=100)
    monkeypatch.setattr(prefect, "get_client", lambda sync_client: busy)
    with pytest.raises(PrefectHTTPStatusError):
        client.start("intake/intake", {})
    assert len(busy.keys) == client.CREATE_ATTEMPTS


def test_an_answer_refused_as_busy_is_sent_again_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server rolled the whole resume back (answer included): the form still waits for it."""
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError

    sent: list[dict[str, Any]] = []

    def answer_form(run_id: Any, answer: dict[str, Any]) -> None:
        sent.append(answer)
        if len(sent) == 1:
            request = httpx.Request("POST", "http://server/api/flow_runs/x/resume")
            raise PrefectHTTPStatusError("busy", request=request, response=httpx.Response(503, request=request))

    monkeypatch.setattr(prefect_api, "answer_form", answer_form)
    monkeypatch.setattr(client, "read_flow_run", _Form(lost=0).read_flow_run)  # the form waits
    monkeypatch.setattr(client, "CREATE_RETRY_SECONDS", 0.0)
    client.resume("run-1", {"results": []})
    assert sent == [{"results": []}, {"results": []}]


class _Form:
    """A suspended form run on an overloaded server: each answer's reply times out; the first
    ``lost`` answers never reached the server, the next one is taken (the run moves on, or asks
    ``again``)."""

    def __init__(self, lost: int, again: bool = False) -> None:
        self.lost, self.again, self.sent, self.state_id = lost, again, 0, "question-1"

    def read_flow_run(self, run_id: Any) -> SimpleNamespace:
        paused = self.state_id != "running"
        return SimpleNamespace(state=SimpleNamespace(id=self.state_id, is_paused=lambda: paused))

    def answer_form(self, run_id: Any, answer: dict[str, Any]) -> None:
        import httpx

        from tasks.runtime.prefect_api import FormAlreadyAnswered

        if self.state_id != "question-1":
            raise FormAlreadyAnswered(run_id, None)
        self.sent += 1
        if self.sent > self.lost:
            self.state_id = "question-2" if self.again else "running"
        raise httpx.ReadTimeout("no answer in time")


@pytest.mark.parametrize(("lost", "again"), [(0, False), (0, True), (1, False), (2, True)])
def test_an_answer_whose_reply_timed_out_is_sent_again_only_while_the_question_waits(
    monkeypatch: pytest.MonkeyPatch, lost: int, again: bool
) -> None:
    """Taken at the first try (the reply lost): done, not sent again – even when the run asks
    anew (a refused answer), which is a new question; lost on the way: sent again until taken."""
    form = _Form(lost, again)
    monkeypatch.setattr(client, "read_flow_run", form.read_flow_run)
    monkeypatch.setattr(prefect_api, "answer_form", form.answer_form)
    monkeypatch.setattr(client, "CREATE_RETRY_SECONDS", 0.0)
    client.resume("run-1", {"results": []})
    assert form.sent == lost + 1


def test_an_answer_that_never_gets_a_reply_fails_after_the_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    form = _Form(lost=100)
    monkeypatch.setattr(client, "read_flow_run", form.read_flow_run)
    monkeypatch.setattr(prefect_api, "answer_form", form.answer_form)
    monkeypatch.setattr(client, "CREATE_RETRY_SECONDS", 0.0)
    with pytest.raises(httpx.ReadTimeout):
        client.resume("run-1", {"results": []})
    assert form.sent == client.CREATE_ATTEMPTS


def test_a_second_answer_is_refused_as_already_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.runtime.prefect_api import FormAlreadyAnswered

    form = _Form(lost=0)
    form.state_id = "running"  # somebody answered before
    monkeypatch.setattr(client, "read_flow_run", form.read_flow_run)
    monkeypatch.setattr(prefect_api, "answer_form", form.answer_form)
    with pytest.raises(FormAlreadyAnswered):
        client.resume("run-1", {"results": []})
