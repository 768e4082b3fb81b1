"""Database access: the engine factory, sessions and schema migrations (Alembic)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from config.settings import PROJECT_ROOT, get_settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = PROJECT_ROOT / "models" / "migrations"

#: Values per ``IN (...)`` list in bulk paths: well under every driver's bound-parameter limit.
IN_CHUNK = 1000

T = TypeVar("T")


def in_chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``: one query per slice, never one per item and
    never one with more bound parameters than PostgreSQL takes (65,535)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (default: the configured app database)."""
    settings = get_settings()
    url = url or settings.resolved_database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, pool_pre_ping=True
    )


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    """WAL lets the demo's readers work while a flow writes; FKs on as on PostgreSQL."""
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]  # let SQLAlchemy emit BEGIN (savepoints)
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MB of pages: a big import's ~25 index entries per row stay in memory
    cur.close()


def _sqlite_begin(conn: object) -> None:
    """SQLAlchemy's pysqlite recipe with BEGIN IMMEDIATE: SAVEPOINTs nest correctly, and a
    transaction takes the write lock up front (waiting up to the busy timeout) instead of
    failing at once when it upgrades a stale read snapshot to a write."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (created on first use, never at import)."""
    return make_engine(url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    """Alembic's configuration for ``url`` (Alembic is imported here: no flow run needs it at start)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str | None = None) -> None:
    """Bring the schema to the latest Alembic revision (idempotent)."""
    url = url or get_settings().resolved_database_url
    if url.startswith("sqlite:///"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command

    command.upgrade(alembic_config(url), "head")
