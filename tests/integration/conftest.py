"""A real local Prefect server + served deployments + SMTP sink, once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deploy.stack import Stack, local_stack
from tasks.mail.smtp_sink import MailSink


@contextmanager
def running_stack(var: Path) -> Iterator[tuple[Stack, MailSink, Path]]:
    """Server, serve process and sink sharing the var/ directory ``var``."""
    var.mkdir(parents=True)
    saved = {k: os.environ.get(k) for k in ("PREFECT_HOME", "PREFECT_API_URL", "INCONTRO_VAR_DIR")}
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    with MailSink(var / "mail") as sink, local_stack(var, smtp_port=sink.port) as stack:
        # Prefect may have been imported (and its settings fixed) before this stack existed:
        # point every client in this process at the live server explicitly.
        home = var / "prefect"
        updates = {PREFECT_API_URL: stack.api_url, PREFECT_HOME: home, PREFECT_LOCAL_STORAGE_PATH: home / "storage"}
        with temporary_settings(updates=updates):
            try:
                yield stack, sink, var
            finally:
                _drain_prefect_workers()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _drain_prefect_workers() -> None:
    """Send what Prefect's log and event workers hold, and drop them: their clients point at this
    server, and a later test of the same process (a file may come after this stack) gets new ones."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=15)
    EventsWorker.drain_all(timeout=15)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, MailSink, Path]]:
    """One stack for the integration and browser tests that share it (a file may have its own)."""
    with running_stack(tmp_path_factory.mktemp("live") / "var") as running:
        yield running


@pytest.fixture
def live_env(live: tuple[Stack, MailSink, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[Stack, MailSink, Path]:
    """Point this test's settings at the live stack's var/ and SMTP sink."""
    from config.settings import get_settings
    from tasks.core.partners import sync_organisations
    from tasks.runtime.db import get_engine, migrate, session_scope

    stack = live[0]
    for key, value in stack.env.items():
        if key.startswith(("PREFECT_", "INCONTRO_")):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    get_engine.cache_clear()
    migrate()
    with session_scope() as session:
        sync_organisations(session)
    return live
