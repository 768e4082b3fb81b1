"""Throwaway PostgreSQL databases on 127.0.0.1:5432 for tests (created, migrated, dropped).

No server: the test is skipped with a loud reason — unless INCONTRO_REQUIRE_POSTGRES=1 or
CI=true, where it fails instead (docs/ARCHITECTURE.md#data).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text

ADMIN_URL = os.environ.get("INCONTRO_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_required() -> bool:
    return os.environ.get("INCONTRO_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"


_template: str | None = None  # this process's migrated template database


def _admin() -> Engine:
    """The server's admin connection, or the test skipped (failed where PostgreSQL is required)."""
    try:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any connection problem means "no server here"
        if postgres_required():
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL NOT TESTED: no server at 127.0.0.1:5432 ({type(exc).__name__})")
    return admin


def _url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def migrated_postgres_database(prefix: str = "incontro_t") -> Iterator[str]:
    """Like :func:`postgres_database`, already at the latest revision: a copy (``CREATE DATABASE …
    TEMPLATE``) of a database this process migrated once, instead of Alembic for every test."""
    global _template
    if _template is None:
        admin = _admin()
        name = f"incontro_tmpl_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        from tasks.runtime.db import migrate

        migrate(_url(name))  # Alembic's engine has no pool: nothing stays connected to the template
        admin.dispose()
        _template = name
    with postgres_database(prefix, template=_template) as url:
        yield url


def drop_template() -> None:
    """Drop this process's template database (at the end of the session)."""
    if _template is None:
        return
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_template}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def postgres_database(prefix: str = "incontro_t", *, template: str | None = None) -> Iterator[str]:
    """Create an empty database (or a copy of ``template``) and yield its SQLAlchemy URL; drop it
    afterwards."""
    admin = _admin()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield _url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
