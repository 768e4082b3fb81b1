"""``prefect server start`` for the local stack, with Python's garbage collector in its own thread.

Why: on SQLite the server's event loop stood still for exactly 60 s in some demo runs (py-spy
native stacks; docs/ARCHITECTURE.md#chaining). A write that met the write lock ("database is
locked") leaves its ``sqlite3`` cursor's statement in use, the cursor held by the error's
traceback cycle. The cyclic garbage collector, run on the event-loop thread, freed it; freeing
resets the statement, which needs its connection's mutex; that connection's thread held the mutex
while it waited (``busy_timeout``, 60 s in Prefect) for the write lock, and the transaction holding
the lock needed the event loop to go on. Nothing moved until the wait gave up, with one more
"database is locked" and one more such cursor.

Automatic collection is off in this process and a daemon thread collects instead: a finalizer
that must wait for a connection then blocks that thread only, and the event loop keeps serving.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from typing import Any

YOUNG_EVERY = 0.2  # seconds between collections of the young generations (cursors die young)
FULL_EVERY = 50  # one full collection every FULL_EVERY young ones (10 s)


def collect_in_thread(young_every: float = YOUNG_EVERY, full_every: int = FULL_EVERY) -> threading.Thread:
    """Stop automatic collection and collect from a daemon thread instead; returns the thread."""

    def collect() -> None:
        rounds = 0
        while True:
            time.sleep(young_every)
            rounds += 1
            gc.collect(2 if rounds % full_every == 0 else 1)

    gc.disable()
    thread = threading.Thread(target=collect, name="gc-collector", daemon=True)
    thread.start()
    return thread


def create_app() -> Any:
    """Prefect's ASGI app for ``uvicorn --factory``, with the collector thread: the way the tests'
    Prefect harness starts its server (tests/flows/conftest.py)."""
    collect_in_thread()
    from prefect.server.api.server import create_app as prefect_app

    return prefect_app()


def main() -> None:
    """``python -m deploy.prefect_server --host … --port …`` = ``prefect server start --host … --port …``."""
    collect_in_thread()
    from prefect.cli import app

    sys.argv = ["prefect", "server", "start", *sys.argv[1:]]
    app()


if __name__ == "__main__":
    main()
