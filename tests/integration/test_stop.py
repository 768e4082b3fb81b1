"""Stopping the local installation (issue 16, defects 2 and 8).

``make serve`` stopped its Prefect server and the serve process at the same moment: the serve
process then retried the dead server until it was killed 15 s later (on a busy machine the
whole stop took more than 90 s). Now the serve process stops first, on its own, and nothing is
left running. The command line, started with no Prefect variable at all, finds this server.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from deploy.stack import descendants, local_stack, still_running
from tests.cli import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_cli_finds_the_running_server_and_the_stack_stops_cleanly(tmp_path: Path) -> None:
    var = tmp_path / "var"
    with local_stack(var) as stack:
        forms = run_cli(
            "forms",
            prefect_home=str(tmp_path / "operator-home"),
            INCONTRO_PREFECT_API_URL=stack.api_url,
            INCONTRO_VAR_DIR=str(var),
        )
        assert forms.returncode == 0, forms.stdout + forms.stderr
        assert "moduli in attesa" in forms.stdout
        assert "Starting temporary server" not in forms.stdout + forms.stderr

        children = list(stack.processes)
        everything = {p.pid for p in children} | {pid for p in children for pid in descendants(p.pid)}
    # Each stopped by itself on SIGTERM: none needed the SIGKILL after the grace period.
    assert stack.forced == []
    assert all(p.returncode not in (-signal.SIGKILL, None) for p in children), [p.returncode for p in children]
    assert still_running(everything, within=0) == set()
