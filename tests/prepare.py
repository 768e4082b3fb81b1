"""Bring up what the test suite needs on this machine before pytest starts (``make test``).

PostgreSQL: the suite's tests/postgres run against 127.0.0.1:5432; when the server is down and
we are root (CI), start it with pg_ctlcluster and create the test database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

PG_DB = "incontro_test"


def _pg_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def ensure_postgres() -> None:
    if not _pg_up() and os.geteuid() == 0 and os.path.isdir("/etc/postgresql"):
        versions = sorted(os.listdir("/etc/postgresql"))
        if versions:
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
            for _ in range(30):
                if _pg_up():
                    break
                time.sleep(0.5)
    if not _pg_up():
        print("prepare: PostgreSQL not reachable on 127.0.0.1:5432", file=sys.stderr)
        return
    psql = shutil.which("psql")
    if psql:
        exists = subprocess.run(
            [psql, "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{PG_DB}'"],
            capture_output=True,
            text=True,
            check=False,
        )
        if exists.stdout.strip() != "1":
            subprocess.run(
                [psql, "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {PG_DB}"],
                check=False,
                capture_output=True,
            )


def ensure_chromium() -> None:
    """The browser tests need Debian's chromium; install it when missing and we are root."""
    if shutil.which("chromium") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env, capture_output=True)
    if result.returncode != 0:
        print("prepare: could not install chromium (browser tests will fail in CI)", file=sys.stderr)


if __name__ == "__main__":
    ensure_postgres()
    ensure_chromium()
