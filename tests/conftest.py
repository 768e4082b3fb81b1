"""Shared fixtures: a clean environment, a migrated app database per test, case factories."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Prefect reads these at import: set them before any test module imports prefect.
_HOME = Path(tempfile.mkdtemp(prefix="incontro-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_HOME))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)

from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from config.settings import Settings, get_settings  # noqa: E402
from tasks.mail.smtp_sink import MailSink  # noqa: E402
from tasks.runtime.db import get_engine, migrate  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_incontro_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own var/ (app DB, mail, logs); no INCONTRO_ setting leaks in."""
    for key in list(os.environ):
        if key.startswith("INCONTRO_") and key != "INCONTRO_REQUIRE_POSTGRES":
            monkeypatch.delenv(key)
    monkeypatch.setenv("INCONTRO_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def engine() -> Engine:
    """A migrated SQLite app database under the test's var/."""
    migrate()
    return get_engine()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    """A real aiosmtpd server on 127.0.0.1 that saves what it receives (and injects faults)."""
    with MailSink(tmp_path / "mail") as running:
        yield running


def smtp_settings(port: int, var_dir: Path, **overrides: Any) -> Settings:
    """Settings that send to a local SMTP server on ``port``; only what a test overrides differs."""
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_timeout": 5.0,
        "smtp_starttls": False,
        "var_dir": var_dir,
        "outbox_max_attempts": 4,
        "outbox_batch_size": 50,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
