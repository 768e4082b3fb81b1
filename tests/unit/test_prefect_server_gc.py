"""The local Prefect server collects garbage off its event loop (deploy/prefect_server.py).

The stall it prevents, rebuilt with sqlite3 alone: the main thread (Prefect's event loop) holds
SQLite's write lock in a transaction; a worker thread's connection waits for that lock in its busy
handler, holding its own connection's mutex; a cursor of that connection whose write met the lock
earlier (its statement still in use), left in a reference cycle, is freed by the garbage
collector. Freed on the main thread, it waits for the mutex, so the main thread cannot commit
and the worker's wait ends in "database is locked" (60 s in Prefect). Freed on the collector
thread, the main thread commits and the worker gets the lock.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from config.settings import PROJECT_ROOT

SCENARIO = textwrap.dedent(
    """
    import gc, sqlite3, sys, tempfile, threading, time
    from pathlib import Path

    mode = sys.argv[1]
    if mode == "collector-thread":
        from deploy.prefect_server import collect_in_thread
        collect_in_thread(young_every=0.05)
    path = Path(tempfile.mkdtemp()) / "db.sqlite"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode = WAL")
    setup.execute("CREATE TABLE t (x)")
    setup.commit()
    setup.close()

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the event loop's transaction holds the write lock
    waiter = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    waiter.execute("PRAGMA busy_timeout = 50")
    cursor = waiter.cursor()
    try:  # a write that met the lock: its statement stays in use until the cursor is freed
        cursor.execute("INSERT INTO t VALUES (1)")
    except sqlite3.OperationalError:
        pass
    cycle = [cursor]  # held by a cycle (the error's traceback in the server): the collector frees it
    cycle.append(cycle)
    del cursor
    waiter.execute("PRAGMA busy_timeout = 3000")
    outcome = []

    def wait_for_lock():
        try:
            waiter.execute("BEGIN IMMEDIATE")  # busy handler, holding the waiter's mutex
            outcome.append("got the lock")
        except sqlite3.OperationalError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=wait_for_lock)
    thread.start()
    time.sleep(0.5)  # the worker is in its busy wait
    del cycle  # garbage now; who frees it decides
    if mode == "event-loop-thread":
        gc.collect()  # automatic collection runs on whichever thread allocates: here the loop's
    holder.execute("COMMIT")
    thread.join()
    print(outcome[0])
    """
)


def _run(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO, mode],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_collection_on_the_event_loop_thread_blocks_the_lock_holder() -> None:
    assert _run("event-loop-thread") == "database is locked"


def test_collection_in_its_own_thread_lets_the_holder_commit() -> None:
    assert _run("collector-thread") == "got the lock"


def test_the_local_stack_starts_the_server_through_the_collector() -> None:
    from deploy.stack import Stack

    source = Stack.launch_server.__code__.co_consts
    assert "deploy.prefect_server" in source
    assert "prefect" not in source  # not `python -m prefect server start` any more
