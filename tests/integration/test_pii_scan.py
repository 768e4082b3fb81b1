"""The whole demo pipeline on a real Prefect server, then a scan of everything Prefect keeps
(database, result storage, process logs) for every identifier in the application database:
zero hits. A deliberately leaking flow on the same server proves the scan can fail.

Prefect freezes its settings (the API URL) when first imported, so the test enters a settings
context read from the live stack's environment before running anything, and the leaking flow runs
in its own process with the stack's environment.

The file has its own stack (the ``live`` fixture below, for its one test): the scan sees only what
this pipeline left, and the stack is stopped when the file ends. Under xdist the file starts first
(tests/conftest.py: FIRST_UNDER_XDIST), beside the short files."""

from __future__ import annotations

import functools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import flow, get_run_logger
from sqlmodel import Session, col, select

from config.settings import PROJECT_ROOT
from deploy.stack import Stack
from models.people import Person
from tasks.mail.smtp_sink import MailSink
from tasks.runtime.db import get_engine
from tests.integration.conftest import running_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMO_PEOPLE = 60  # the full demo has 280: same paths, a fraction of the time


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, MailSink, Path]]:
    """This file's own stack, in place of the session's (tests/integration/conftest.py)."""
    with running_stack(tmp_path_factory.mktemp("pii") / "var") as running:
        yield running


@flow(name="leaky-test-flow", persist_result=True)
def leaky(person_id: int) -> str:
    """What must never exist: a flow that logs and returns a person's name."""
    with Session(get_engine()) as session:
        person = session.get(Person, person_id)
        assert person is not None
        name = f"{person.given_names} {person.family_name}"
    get_run_logger().info("contatto con %s", name)
    return name


def run_leaky_flow(stack: Stack, person_id: int) -> None:
    """In its own process with the stack's environment, like any client of that server."""
    code = f"from tests.integration.test_pii_scan import leaky; leaky({person_id})"
    done = subprocess.run(
        [sys.executable, "-c", code], env=stack.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _scan(var: Path) -> Any:
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

    from tests.pii_scan import collect_identifiers, scan

    with Session(get_engine()) as session:
        needles = collect_identifiers(session)
    storage = Path(str(PREFECT_LOCAL_STORAGE_PATH.value()))
    return scan(needles, prefect_home=var / "prefect", storage_dirs=[storage], log_dir=var / "logs")


def _log_rows_settled(var: Path) -> None:
    """Wait until the server stops receiving log batches (runs flush them on their way out)."""
    import sqlite3

    def count() -> int:
        conn = sqlite3.connect(f"file:{var / 'prefect' / 'prefect.db'}?mode=ro", uri=True, timeout=30)
        try:
            return int(conn.execute("SELECT count(*) FROM log").fetchone()[0])
        finally:
            conn.close()

    last, deadline = -1, time.monotonic() + 60
    while time.monotonic() < deadline:
        now = count()
        if now == last:
            return
        last = now
        time.sleep(3)


@pytest.mark.timeout(1200)  # the whole demo through served deployments: ~8 min on 2 shared cores
def test_demo_pipeline_leaves_no_identifier_in_prefect_and_a_leak_is_caught(
    live_env: tuple[Stack, MailSink, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import demo.run
    import demo.synthetic.dataset

    stack, sink, var = live_env
    monkeypatch.setattr(demo.run, "VAR", var)
    monkeypatch.setattr(
        demo.synthetic.dataset,
        "build_demo_dataset",
        functools.partial(demo.synthetic.dataset.build_demo_dataset, n_people=DEMO_PEOPLE),
    )
    from prefect.context import SettingsContext
    from prefect.settings import Settings

    # Prefect read its settings at import (during collection): talk to the live server from here on.
    with SettingsContext(profile=SettingsContext.get().profile, settings=Settings()):  # type: ignore[union-attr]
        prepared = demo.run.Prepared()  # the database, the partners and the files, as `make demo`
        prepared.run()
        demo.run.run_pipeline(prepared.dataset)
        assert len(sink.messages) > 50  # the pipeline really ran: acks, appointments, sheets, releases...
        with Session(get_engine()) as session:
            people = session.exec(select(Person).where(col(Person.family_name) != "")).all()
            cyrillic = [p for p in people if p.native_family_name]
            assert len(people) >= DEMO_PEOPLE and cyrillic  # both scripts are in the haystack's needles
        _log_rows_settled(var)

        report = _scan(var)
        assert report.needles > 10 * DEMO_PEOPLE
        assert report.scanned["prefect_db_rows"] > 1000 and report.scanned["storage_files"] > 5
        assert report.scanned["log_lines"] > 10
        assert report.hits == [], report.summary()

        victim = cyrillic[0]
        assert victim.id is not None
        run_leaky_flow(stack, victim.id)
        deadline, caught = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            caught = _scan(var)
            if {h.where.split(":")[1].split("#")[0] for h in caught.hits if h.where.startswith("prefect")} >= {"log"}:
                break
            time.sleep(2)
        assert caught is not None
        places = {h.where.split("#")[0] for h in caught.hits}
        # the victim's name, wherever it is stored (a duplicate referral may repeat it)
        assert victim.id in {h.needle.person_id for h in caught.hits}
        assert {h.needle.kind for h in caught.hits} == {"name"}
        assert "prefect.db:log" in places  # the log line
        assert any(p.startswith("storage:") for p in places)  # the persisted return value
