"""Prefect's temporary servers end with the test process that started them, however it ends.

``prefect_test_harness`` (tests/flows) and Prefect's "ephemeral" server (started by any client
that has no ``PREFECT_API_URL``) run uvicorn in a child process that Prefect stops when the harness
exits or at the interpreter's exit (``atexit``). Neither happens when the process does not end on
its own: pytest-xdist kills (SIGKILL) a worker that has not come down 10 s after its session
(execnet's ``Group.terminate``), a crashed or interrupted worker is simply gone, and the harness
skips its stop when draining its log and event workers fails. The uvicorn child then keeps
running, re-parented to init, holding its port and its SQLite database.

Two guards:

- ``stop_prefect_servers()``: stop every server Prefect still holds in this process, at the harness
  fixture's teardown and when pytest unconfigures (not left to ``atexit``);
- ``start_watchdog()``: a small process that, every second, notes the Prefect servers among the
  test process's descendants (a server started by a CLI the test runs included), and that holds
  the read end of a pipe from the test process: when the pipe closes (the test process has ended,
  in any way, SIGKILL included) it stops the servers it noted that still run (SIGTERM, then
  SIGKILL after 5 s). A pid since reused by another process is left alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import IO, Any

# What a Prefect server's command line contains: "--factory prefect.server.api.server:create_app",
# or "--factory deploy.prefect_server:create_app" for the harness of tests/flows.
SERVER_MARK = "server:create_app"
PREFECT_FACTORY = "prefect.server.api.server:create_app"
_SERVER_MODULE = "prefect.server.api.server"

_WATCHDOG = r"""
import os, select, signal, sys, time

parent, mark = int(sys.argv[1]), os.environ["SERVER_MARK"].encode()  # not in our own command line

def stat(pid):
    "(parent pid, start time) of a running process, None when it is gone."
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == b"Z" else (int(fields[1]), fields[19])

def is_server(pid, start):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return mark in f.read() and stat(pid) is not None and stat(pid)[1] == start
    except OSError:
        return False

def note(seen):
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (s := stat(int(name))) is not None:
            procs[int(name)] = s
    for pid, (ppid, start) in procs.items():
        hops = 0
        while ppid not in (0, 1, parent) and hops < 64:
            ppid, hops = procs.get(ppid, (0,))[0], hops + 1
        if ppid == parent and (pid, start) not in seen and is_server(pid, start):
            seen.add((pid, start))
            print("watching", pid, flush=True)

seen = set()
while True:
    ready, _, _ = select.select([0], [], [], 1.0)
    if ready and not os.read(0, 4096):
        break  # the test process closed the pipe or is gone
    note(seen)

for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
    seen = {(pid, start) for pid, start in seen if is_server(pid, start)}
    for pid, _ in seen:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    while seen and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = {(pid, start) for pid, start in seen if is_server(pid, start)}
"""

_watchdog: subprocess.Popen[bytes] | None = None


def start_watchdog(report: int | IO[Any] = subprocess.DEVNULL) -> None:
    """Start this process's watchdog (once; Linux's /proc only: elsewhere there is none).
    ``report`` receives a line "watching <pid>" for each server it notes."""
    global _watchdog
    if (_watchdog is not None and _watchdog.poll() is None) or not os.path.isdir("/proc/self"):
        return
    _watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid())],
        env={**os.environ, "SERVER_MARK": SERVER_MARK},
        stdin=subprocess.PIPE,
        stdout=report,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal stops the tests, not their watchdog
    )


def stop_prefect_servers() -> None:
    """Stop every temporary server Prefect holds in this process (each: SIGTERM, ≤ 5 s, SIGKILL)."""
    # Not imported (or its import failed half-way): this process started no server.
    servers = getattr(sys.modules.get(_SERVER_MODULE), "SubprocessASGIServer", None)
    if servers is None:
        return
    for server in list(servers._instances.values()):
        server.stop()


def close() -> None:
    """End of the test process: stop the servers, then the watchdog (after it stops any left)."""
    global _watchdog
    stop_prefect_servers()
    if _watchdog is None:
        return
    assert _watchdog.stdin is not None
    _watchdog.stdin.close()
    try:
        _watchdog.wait(timeout=15)
    except subprocess.TimeoutExpired:
        _watchdog.kill()
        _watchdog.wait()
    _watchdog = None
