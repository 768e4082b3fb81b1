"""Scale-out pieces on loopback: a Prefect server on PostgreSQL, a process work pool with two
`prefect worker` processes, every deployment from deploy/prefect.yaml; an event triggers a
stage that runs on a worker and moves cases in the PostgreSQL application database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from config.settings import PROJECT_ROOT
from deploy.stack import Stack, free_port, stack_env
from models.cases import Case
from models.enums import State
from tasks.mail.smtp_sink import MailSink
from tests.factories import make_case, seed_partners
from tests.pg import postgres_database

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


def _prefect(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        env=env,
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stack, str]]:
    with (
        postgres_database("prefect_srv") as prefect_url,
        postgres_database("incontro_app") as app_url,
        MailSink(tmp_path / "mail") as sink,
    ):
        var = tmp_path / "var"
        (var / "logs").mkdir(parents=True)
        api_port = free_port()
        env = stack_env(
            var,
            api_port,
            sink.port,
            {
                "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_url.replace("+psycopg", "+asyncpg"),
                "INCONTRO_DATABASE_URL": app_url,
                "INCONTRO_HOME": str(PROJECT_ROOT),
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_WORKER_PREFETCH_SECONDS": "5",
            },
        )
        stack = Stack(var_dir=var, api_port=api_port, smtp_port=sink.port, env=env)
        for key, value in env.items():
            if key.startswith(("PREFECT_", "INCONTRO_")):
                monkeypatch.setenv(key, value)
        from config.settings import get_settings
        from tasks.runtime.db import get_engine, migrate

        get_settings.cache_clear()
        get_engine.cache_clear()
        migrate(app_url)
        try:
            stack.start_server()
            created = _prefect(env, "work-pool", "create", "incontro", "--type", "process")
            assert created.returncode == 0, created.stderr[-2000:]
            deployed = _prefect(
                env, "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml", timeout=300
            )
            assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
            for name in ("w1", "w2"):
                log = open(var / "logs" / f"worker-{name}.log", "ab")
                stack.processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "prefect",
                            "worker",
                            "start",
                            "--pool",
                            "incontro",
                            "--name",
                            name,
                            "--limit",
                            "2",
                        ],
                        env=env,
                        cwd=PROJECT_ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            from prefect.settings import (
                PREFECT_API_URL,
                PREFECT_HOME,
                PREFECT_LOCAL_STORAGE_PATH,
                temporary_settings,
            )

            home = var / "prefect"  # this process talks to this cluster, whatever ran before
            with temporary_settings(
                updates={
                    PREFECT_API_URL: stack.api_url,
                    PREFECT_HOME: home,
                    PREFECT_LOCAL_STORAGE_PATH: home / "storage",
                }
            ):
                # Prefect keeps one events worker per process, bound to the server it first talked
                # to: an earlier test's in this pytest worker would carry our events elsewhere.
                from prefect.events.worker import EventsWorker

                EventsWorker.drain_all(timeout=10, at_exit=False)
                yield stack, app_url
                EventsWorker.drain_all(timeout=10, at_exit=False)
        finally:
            stack.stop()
            get_engine().dispose()
            get_engine.cache_clear()
            get_settings.cache_clear()


def test_event_triggered_stage_runs_on_a_worker_against_postgres(cluster: tuple[Stack, str]) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    from tasks.runtime.db import get_engine
    from tasks.runtime.events import EventSpec, emit_now

    stack, app_url = cluster
    assert get_engine().dialect.name == "postgresql"
    with Session(get_engine(), expire_on_commit=False) as s:
        seed_partners(s)
        codes = [make_case(s, state=State.ACCEPTED, office="CPI-ROM").code for _ in range(3)]
    with get_client(sync_client=True) as client:
        pools = {d.work_pool_name for d in client.read_deployments()}
    assert pools == {"incontro"}

    def intake_runs() -> list:
        with get_client(sync_client=True) as client:
            return client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["intake"])))

    # The server loads a new deployment's automation a little after `deploy` returns; an event that
    # arrives before it starts nothing (the 5-minute sweep would catch the cases up, which is not
    # what this test is about). Announce again until the trigger has created a run.
    started = time.monotonic()
    while not intake_runs():
        assert time.monotonic() - started < 180, "the intake trigger never fired"
        emit_now(
            EventSpec(
                name="incontro.referral.accepted", resource_id="incontro.import.worker-test", payload={"accepted": 3}
            )
        )
        time.sleep(15)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with Session(get_engine()) as s:
            states = {c.state for c in s.exec(select(Case)).all()}
        if states == {State.INTAKE_SCHEDULED}:
            break
        time.sleep(1)
    assert states == {State.INTAKE_SCHEDULED}, f"cases still {states}; see {stack.var_dir / 'logs'}"
    # The cases are committed before the run reports Completed: wait for the run's final state too.
    done: list = []
    while time.monotonic() < deadline + 60 and not done:
        runs = intake_runs()
        done = [r for r in runs if r.state and r.state.is_completed()]
        if not done:
            time.sleep(1)
    assert done, f"no completed intake run: {[(r.name, r.state_name) for r in runs]}"
    assert all(r.work_pool_name == "incontro" for r in done)
    logs = "".join((stack.var_dir / "logs" / f"worker-{n}.log").read_text(errors="replace") for n in ("w1", "w2"))
    assert any(f"submitting flow run '{r.id}'" in logs for r in done), (
        f"runs {[str(r.id) for r in done]} not picked up by one of our workers; their logs:\n{logs[-4000:]}"
    )
    assert os.environ["INCONTRO_DATABASE_URL"] == app_url and len(codes) == 3
