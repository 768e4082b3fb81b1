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
from tasks.runtime.db import get_engine  # noqa: E402
from tests import server_reaper  # noqa: E402
from tests.pg import drop_template  # noqa: E402
from tests.schema import fresh_database, remove_template  # noqa: E402

# Files that run for minutes on servers of their own (no fixture shared with other files). Under
# xdist (`make test`: -n 2 --dist loadfile, a file runs whole on one worker) they start first, one
# per worker, while the short files fill the others. xdist's own order (most tests first) started
# them last: one alone then bounded the run (test_pii_scan: 5-15 minutes at the end). xdist hands
# out two files to each worker to start, in this order.
FIRST_UNDER_XDIST = (
    "tests/integration/test_pii_scan.py",
    "tests/integration/test_readme_path.py",
    "tests/integration/test_stop.py",
    "tests/integration/test_workers.py",
)


def _under_xdist(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput") or getattr(config.option, "dist", "no") != "no"


def pytest_configure(config: pytest.Config) -> None:
    """A watchdog stops the Prefect servers this process starts if it ends without stopping them
    (xdist's controller starts none: only its workers and a run without xdist need one)."""
    if hasattr(config, "workerinput") or not _under_xdist(config):
        server_reaper.start_watchdog()
    if _under_xdist(config):
        config.option.loadscopereorder = False  # the order is pytest_collection_modifyitems's


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist: FIRST_UNDER_XDIST, then the other files directory by directory in the order
    of ``testpaths`` (tests/flows's files together: each worker enters its Prefect harness once,
    not once per file) and, in a directory, by number of tests, most first (xdist's own order).
    A file's tests keep their order. Without xdist nothing moves."""
    if not _under_xdist(config):
        return
    counts: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        counts[path] = counts.get(path, 0) + 1
    first = {path: n for n, path in enumerate(FIRST_UNDER_XDIST)}
    directories = [str(d).rstrip("/") for d in config.getini("testpaths")]

    def key(item: pytest.Item) -> tuple[int, int, int]:
        path = item.nodeid.split("::")[0]
        if path in first:
            return (0, first[path], 0)
        directory = path.rsplit("/", 1)[0]
        rank = directories.index(directory) if directory in directories else len(directories)
        return (1, rank, -counts[path])

    items.sort(key=key)  # stable: a file's tests, and files of equal rank and count, keep their order


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop them here rather than at interpreter exit, which xdist may cut short (SIGKILL after 10 s)."""
    server_reaper.close()
    remove_template()
    drop_template()


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
    """A migrated SQLite app database under the test's var/ (tests/schema.py)."""
    fresh_database()
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
