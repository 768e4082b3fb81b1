"""Reading a suspended form while Prefect is still saving it (issue 16, defect 1).

Prefect proposes the PAUSED state *before* it saves the run-input schema
(``prefect.flow_runs.suspend_flow_run``): whoever sees PAUSED and reads the form at once can get
``404 Flow run input not found``. The reader waits for the schema, bounded, with a clear message.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from uuid import UUID

import pytest
from prefect import flow, get_client
from prefect.input.run_input import keyset_from_paused_state
from prefect.states import Paused

from tasks.runtime.prefect_api import FormNotReady, form_inputs

ROWS = [{"case_code": "BG-2026-000001"}, {"case_code": "BG-2026-000002"}]
SCHEMA = json.dumps({"properties": {"results": {"default": ROWS}, "description": {"default": "x"}}})


@flow(name="form-race")
def _form_race() -> None:
    """Only a flow to create runs of."""


@pytest.fixture(autouse=True)
def _delete_runs() -> Iterator[list[str]]:
    """Other flow tests answer "the first paused run": leave none of ours behind."""
    yield _CREATED
    with get_client(sync_client=True) as client:
        for run_id in _CREATED:
            client.delete_flow_run(UUID(run_id))
    _CREATED.clear()


_CREATED: list[str] = []


def _paused_run_without_schema() -> tuple[str, dict[str, str]]:
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(_form_race)
        state = Paused(pause_key="form-1")
        keyset = keyset_from_paused_state(state)
        state.state_details.run_input_keyset = keyset
        _CREATED.append(str(run.id))
        client.set_flow_run_state(run.id, state, force=True)
        return str(run.id), keyset


def test_a_form_read_right_after_pausing_waits_for_its_schema() -> None:
    run_id, keyset = _paused_run_without_schema()

    def save_later() -> None:
        time.sleep(1.5)
        with get_client(sync_client=True) as client:
            client.create_flow_run_input(flow_run_id=run_id, key=keyset["schema"], value=SCHEMA)  # type: ignore[arg-type]

    saver = threading.Thread(target=save_later)
    saver.start()
    try:
        assert form_inputs(run_id, timeout=30) == ROWS
    finally:
        saver.join()


def test_a_form_never_saved_gives_a_clear_italian_timeout() -> None:
    run_id, _ = _paused_run_without_schema()
    started = time.monotonic()
    with pytest.raises(FormNotReady, match="non è ancora pronto") as info:
        form_inputs(run_id, timeout=1)
    assert time.monotonic() - started < 15
    assert "incontro forms" in str(info.value)


def test_the_sweep_lists_a_form_still_being_saved_instead_of_failing() -> None:
    """The 5-minute maintenance run reads every paused form: one caught between PAUSED and its
    schema is listed without case codes (they come at the next sweep), and the sweep goes on."""
    from tasks.maintenance import list_pending_forms

    run_id, _ = _paused_run_without_schema()
    forms = {f["run_id"]: f for f in list_pending_forms.fn()}
    assert forms[run_id]["case_codes"] == []


# --- one answer per form (issue 16, defect 6) -------------------------------------------------

ANSWER_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {"results": {"type": "array", "default": ROWS}, "description": {"default": "x"}},
        "required": ["results"],
    }
)


def _paused_form() -> str:
    run_id, keyset = _paused_run_without_schema()
    with get_client(sync_client=True) as client:
        client.create_flow_run_input(flow_run_id=UUID(run_id), key=keyset["schema"], value=ANSWER_SCHEMA)
    return run_id


@pytest.fixture
def _cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line exports the server it found: undone after each test."""
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")


def _answer(run_id: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from cli.main import main

    code = main(["answer", run_id, "--defaults"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.usefixtures("engine", "_cli_env")
def test_a_second_answer_to_the_same_form_is_refused_saying_when_and_by_whom(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_id = _paused_form()
    first_code, first = _answer(run_id, capsys)
    assert first_code == 0, first
    assert "inviato" in first

    second_code, second = _answer(run_id, capsys)
    assert second_code == 2
    assert "già stato compilato" in second
    assert "NON è stata registrata" in second
    assert f"da {__import__('getpass').getuser()}" in second


@pytest.mark.usefixtures("engine")
def test_an_answer_racing_another_one_is_refused_not_dropped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both operators saw the form PAUSED; the other one's answer reached the server first."""
    from tasks.runtime.prefect_api import FormAlreadyAnswered, answer_form

    run_id = _paused_form()
    with get_client(sync_client=True) as client:
        seen_paused = client.read_flow_run(UUID(run_id))
    answer_form(run_id, {"results": ROWS})  # the other operator

    import prefect.client.orchestration as orchestration

    class _StaleRead:
        """The read that both operators did before either answered."""

        def __init__(self, client: object) -> None:
            self._client = client

        def __getattr__(self, name: str) -> object:
            return getattr(self._client, name)

        def read_flow_run(self, _run_id: object) -> object:
            return seen_paused

    real_get_client = orchestration.get_client

    class _Ctx:
        def __enter__(self) -> _StaleRead:
            self._real = real_get_client(sync_client=True)
            return _StaleRead(self._real.__enter__())

        def __exit__(self, *exc: object) -> None:
            self._real.__exit__(*exc)

    monkeypatch.setattr("prefect.get_client", lambda sync_client=False: _Ctx())
    with pytest.raises(FormAlreadyAnswered) as info:
        answer_form(run_id, {"results": ROWS})
    assert info.value.answered_at is not None
