"""Start and stop the local pieces: Prefect server, the served deployments, the SMTP sink.

Used by ``make demo``, ``make serve`` and the integration tests; everything binds to 127.0.0.1
and keeps its state under ``var/``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from config.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free to the server
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Stack:
    """Environment and child processes of one local Incontro installation."""

    var_dir: Path
    api_port: int
    smtp_port: int
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    forced: list[str] = field(default_factory=list)
    _server: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _serve: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start_server(self, timeout: float = 90) -> None:
        """``prefect server start`` on 127.0.0.1, its database under var/prefect."""
        self.launch_server()
        self.wait_server(timeout)

    def launch_server(self) -> None:
        """Start the server process and return at once (:meth:`wait_server` waits for it)."""
        log = open(self.var_dir / "logs" / "prefect-server.log", "ab")
        self.processes.append(
            subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
                [
                    sys.executable,
                    "-m",
                    "deploy.prefect_server",  # prefect server start, garbage collected off the event loop
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.api_port),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        )
        self._server = self.processes[-1]

    def wait_server(self, timeout: float = 90) -> None:
        """Until the server answers ``/api/health``."""
        server = self._server
        if server is None:
            raise RuntimeError("launch_server() first")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise RuntimeError(f"Prefect server exited; see {self.var_dir / 'logs' / 'prefect-server.log'}")
            time.sleep(0.2)
        raise TimeoutError("Prefect server did not answer /api/health in time")

    def start_serve(self, timeout: float = 120) -> None:
        """Every deployment served from one process (deploy/serve.py)."""
        self.launch_serve()
        self.wait_serve(timeout)

    def launch_serve(self) -> None:
        """Start the serve process and return at once. It may start before the server answers:
        it imports the stages and builds the deployments first, then waits for the API."""
        log = open(self.var_dir / "logs" / "serve.log", "ab")
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "deploy.serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                start_new_session=True,
            )
        )
        self._serve = self.processes[-1]

    def wait_serve(self, timeout: float = 120) -> None:
        """Until the server lists every deployment of deploy/specs.py."""
        from deploy.specs import DEPLOYMENTS

        serve = self._serve
        if serve is None:
            raise RuntimeError("launch_serve() first")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = httpx.post(f"{self.api_url}/deployments/filter", json={"limit": 200}, timeout=5)
                if r.status_code == 200 and len(r.json()) >= len(DEPLOYMENTS):
                    return
            except httpx.HTTPError:
                pass
            if serve.poll() is not None:
                raise RuntimeError(f"serve process exited; see {self.var_dir / 'logs' / 'serve.log'}")
            time.sleep(0.2)
        raise TimeoutError("deployments were not registered in time")

    def stop(self, grace: float = 8.0) -> list[str]:
        """Stop children newest first and return what had to be killed (for the operator).

        Newest first: the serve process and workers stop while the server they report to is still
        up (stopped together, they retried the dead server until killed). Each gets SIGTERM and
        ``grace`` seconds, then SIGKILL. Flow runs started by them live in process groups of
        their own: any still alive at the end is killed too, and resumes at the next run
        (every stage is resumable, docs/ARCHITECTURE.md#chaining).
        """
        forced: list[str] = []
        flow_runs = {pid for proc in self.processes for pid in descendants(proc.pid)}
        for proc in reversed(self.processes):
            name = " ".join(str(a) for a in proc.args[1:4]) if isinstance(proc.args, list) else str(proc.args)
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
                forced.append(f"{name} (pid {proc.pid}) non si è fermato in {grace:.0f} s")
        # The serve process's helpers (its fork server, multiprocessing's resource tracker) end
        # by themselves once it has; what still runs after that is a flow run.
        for pid in sorted(still_running(flow_runs, within=3.0)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            forced.append(f"esecuzione in corso (pid {pid}) interrotta: riprenderà al prossimo avvio")
        self.processes.clear()
        self.forced = forced
        return forced


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def still_running(pids: set[int], within: float) -> set[int]:
    """Those of ``pids`` still running (not gone, not a zombie) after up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        running = set()
        for pid in pids:
            try:
                text = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if text[text.rindex(")") + 2 :].split()[0] != "Z":
                running.add(pid)
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.1)


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc; empty elsewhere), whatever its process group."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def stack_env(
    var_dir: Path, api_port: int, smtp_port: int, extra: dict[str, str] | None = None, *, smtp_host: str = "127.0.0.1"
) -> dict[str, str]:
    """Environment shared by the server, the serve process and this process."""
    from config.settings import get_settings

    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": str(var_dir / "prefect"),
            "PREFECT_API_URL": f"http://127.0.0.1:{api_port}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            # Prefect writes a flow run's task runs from their events, by default one transaction
            # per event (about three per task): in batches instead, each second. Every write holds
            # SQLite's lock, and a request that read first and then meets a held lock fails at
            # once ("database is locked", HTTP 503), asked again by Prefect's client 2 s later:
            # the trigger's creation of the next stage's run is such a request. Fewer writes,
            # fewer of them; not none (the runner's polls write too): bench_trigger counts them.
            "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
            "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_UI_API_URL": f"http://127.0.0.1:{api_port}/api",
            "INCONTRO_VAR_DIR": str(var_dir),
            "INCONTRO_SMTP_HOST": smtp_host,
            "INCONTRO_SMTP_PORT": str(smtp_port),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    from tasks.runtime.logfilter import prefect_logging_env

    env.update(prefect_logging_env())  # the redacting log filter in every Prefect process (second guard)
    secret = get_settings().prefect_auth_string
    if secret is not None:  # the server demands it, every client sends it (docs/ARCHITECTURE.md#privacy)
        env["PREFECT_SERVER_API_AUTH_STRING"] = secret.get_secret_value()
        env["PREFECT_API_AUTH_STRING"] = secret.get_secret_value()
    env.update(extra or {})
    return env


@contextmanager
def local_stack(
    var_dir: Path,
    *,
    api_port: int | None = None,
    smtp_port: int | None = None,
    serve: bool = True,
    smtp_host: str = "127.0.0.1",
    while_starting: Callable[[], object] | None = None,
    schedules: bool = True,
) -> Iterator[Stack]:
    """Server (+ serve process) running for the duration of the block; this process uses it too.

    Server and serve process start together (the serve process imports the stages while the
    server migrates its database, then waits for it); ``while_starting`` runs here meanwhile,
    with the stack's environment already set (e.g. the demo prepares its own database).
    ``schedules=False``: the server's scheduler does not run, so no cron run of deploy/specs.py
    starts meanwhile (the demo runs each stage itself; ``make serve`` schedules them later).
    """
    (var_dir / "logs").mkdir(parents=True, exist_ok=True)
    api_port = api_port or free_port()
    smtp_port = smtp_port or free_port()
    extra = {} if schedules else {"PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false"}
    env = stack_env(var_dir, api_port, smtp_port, extra, smtp_host=smtp_host)
    stack = Stack(var_dir=var_dir, api_port=api_port, smtp_port=smtp_port, env=env)
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("PREFECT_", "INCONTRO_"))})
    _reset_caches()
    try:
        stack.launch_server()
        if serve:
            stack.launch_serve()
        if while_starting is not None:
            while_starting()
        stack.wait_server()
        if serve:
            stack.wait_serve()
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        _reset_caches()


def _reset_caches() -> None:
    """Settings and engines are cached per process: drop them when the environment changes."""
    from config.settings import get_settings
    from tasks.runtime.db import get_engine

    get_settings.cache_clear()
    get_engine.cache_clear()
