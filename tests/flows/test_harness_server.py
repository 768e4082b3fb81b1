"""The harness's Prefect server is garbage collected off its event loop, as the live stack's is
(deploy/prefect_server.py; tests/unit/test_prefect_server_gc.py shows the stall it avoids)."""

from __future__ import annotations

from pathlib import Path


def test_the_harness_server_is_built_by_the_collecting_factory() -> None:
    from prefect.server.api.server import SubprocessASGIServer

    running = [s.server_process for s in SubprocessASGIServer._instances.values() if s.server_process is not None]
    assert running, "no harness server running"
    for process in running:
        command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"deploy.prefect_server:create_app" in command
        assert b"prefect.server.api.server:create_app" not in command
