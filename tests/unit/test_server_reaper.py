"""A temporary Prefect server does not outlive the test process that started it, even when that
process is killed the way pytest-xdist kills a worker slow to come down (SIGKILL: no teardown, no
atexit); the test process's other children are left alone (tests/server_reaper.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.stack import free_port
from tests.server_reaper import PREFECT_FACTORY, SERVER_MARK

ROOT = Path(__file__).resolve().parents[2]

# A test process with its watchdog: it starts a Prefect server with the command line Prefect's
# SubprocessASGIServer uses (the harness's and the ephemeral server's) and a process that is no
# server, says both pids (and the watchdog says when it watches the server), then waits to be killed.
_TEST_PROCESS = """
import subprocess, sys, time
from tests import server_reaper

server_reaper.start_watchdog(report=sys.stdout)
server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", sys.argv[1], "--host", "127.0.0.1",
                           "--port", sys.argv[2], "--log-level", "error", "--lifespan", "on"])
other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(server.pid, other.pid, flush=True)
time.sleep(600)
"""


def _running(pid: int, mark: str = "") -> bool:
    """The process runs (a zombie does not) and its command line contains ``mark``."""
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state != b"Z" and mark.encode() in cmdline


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="the watchdog reads /proc (Linux)")
def test_a_killed_test_process_leaves_no_prefect_server_and_spares_its_other_children(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    tester = subprocess.Popen(
        [sys.executable, "-c", _TEST_PROCESS, PREFECT_FACTORY, str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert tester.stdout is not None
    server = other = 0
    try:
        line = tester.stdout.readline()
        assert line, f"the test process ended early ({tester.wait()})"
        server, other = (int(p) for p in line.split())
        assert tester.stdout.readline().split() == ["watching", str(server)]
        assert _running(server, SERVER_MARK) and _running(other)

        tester.send_signal(signal.SIGKILL)
        tester.wait()
        deadline = time.monotonic() + 30
        while _running(server, SERVER_MARK) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(server, SERVER_MARK), "the server outlived the killed test process"
        assert _running(other), "a process that is no Prefect server was stopped"
    finally:
        tester.kill()
        tester.wait()
        for pid in (server, other):
            if pid and _running(pid):
                os.kill(pid, signal.SIGKILL)
