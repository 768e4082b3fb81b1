"""Flow tests run under one session-scoped Prefect test harness (≈12 s to enter, once)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy.engine import Engine

from tasks.mail.smtp_sink import MailSink
from tests import server_reaper
from tests.pg import migrated_postgres_database
from tests.schema import fresh_database
from tests.server_reaper import PREFECT_FACTORY

COLLECTING_APP = "deploy.prefect_server:create_app"


@contextmanager
def _garbage_collected_off_the_event_loop() -> Iterator[None]:
    """The harness's server built by deploy/prefect_server.py's factory, as the live stack's is:
    on SQLite, collection on its event loop stood it still for 60 s at times (test_simulate took
    55-117 s). Prefect has no setting for it: its ``subprocess.Popen`` gets the other factory."""
    import prefect.server.api.server as server_module

    real = server_module.subprocess

    class _Subprocess:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        @staticmethod
        def Popen(args: list[str], **kwargs: Any) -> Any:  # the name Prefect calls
            return real.Popen([COLLECTING_APP if a == PREFECT_FACTORY else a for a in args], **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server_module, "subprocess", _Subprocess())
        yield


@pytest.fixture(scope="package", autouse=True)
def _prefect_harness() -> Iterator[None]:
    """Package scope: torn down before tests/integration, whose live stack is a real server.

    The harness stops its server only when draining its log and event workers succeeds: stop it
    here in any case; a watchdog stops it if this process is killed first (tests/server_reaper.py)."""
    try:
        with _garbage_collected_off_the_event_loop(), prefect_test_harness(server_startup_timeout=120):
            yield
    finally:
        server_reaper.stop_prefect_servers()


@pytest.fixture(scope="session")
def _sink() -> Iterator[MailSink]:
    with MailSink() as sink:
        yield sink


@pytest.fixture
def mail(_sink: MailSink, monkeypatch: pytest.MonkeyPatch) -> MailSink:
    """A real SMTP server on 127.0.0.1 that the flows' outbox drain talks to."""
    from config.settings import get_settings

    _sink.reset()
    monkeypatch.setenv("INCONTRO_SMTP_PORT", str(_sink.port))
    get_settings.cache_clear()
    return _sink


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Every flow test runs on SQLite and on PostgreSQL (same code, same migrations)."""
    from config.settings import get_settings
    from tasks.runtime.db import get_engine

    if request.param == "sqlite":
        fresh_database()
        yield get_engine()
        return
    with migrated_postgres_database("incontro_flow") as url:
        monkeypatch.setenv("INCONTRO_DATABASE_URL", url)
        get_settings.cache_clear()
        get_engine.cache_clear()
        engine = get_engine()
        try:
            yield engine
        finally:
            engine.dispose()
            get_engine.cache_clear()
