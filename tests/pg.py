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
from sqlalchemy import create_engine, text

ADMIN_URL = os.environ.get("INCONTRO_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_required() -> bool:
    return os.environ.get("INCONTRO_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"


@contextmanager
def postgres_database(prefix: str = "incontro_t") -> Iterator[str]:
    """Create an empty database and yield its SQLAlchemy URL; drop it afterwards."""
    try:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any connection problem means "no server here"
        if postgres_required():
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL NOT TESTED: no server at 127.0.0.1:5432 ({type(exc).__name__})")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
