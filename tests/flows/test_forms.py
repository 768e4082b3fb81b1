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
