"""Unit tests talk to no Prefect server."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_temporary_prefect_server_for_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """A committed transition emits its Prefect events (tasks/runtime/events.py, tasks/runtime/steps.py).
    Without ``PREFECT_API_URL`` Prefect would start a temporary server of its own just to receive
    them: 20-80 s in the first unit test that commits one, and a server running to the end of the
    process. Here Prefect emits no events then, as when its settings say so (the code under test
    handles that case); a test that sets an API URL, or replaces ``emit_now``, is unaffected."""
    import prefect.events.worker

    monkeypatch.setattr(prefect.events.worker, "should_emit_events_to_ephemeral_server", lambda: False)
