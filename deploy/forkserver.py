"""Flow runs forked from a warm process instead of started cold.

Prefect's runner starts each flow run it holds in memory with ``multiprocessing``'s *spawn*
method (``prefect.flow_engine.run_flow_in_subprocess``): a new interpreter that imports Prefect,
its engine and the stage before the stage's first line, 1.5–2 CPU-s a run on a 2-core machine
(bench/bench_startup.py). With the *forkserver* method one helper process imports all of that once,
while the Prefect server starts, and each flow run is a fork of it: still its own process (own
memory, killed alone, a crash stays in it), without paying the imports again.

Prefect 3.8 has no setting for the start method; the only name ``run_flow_in_subprocess`` looks
up on its module is ``multiprocessing.get_context``, so that is what :func:`fork_flow_runs`
replaces, in the runner's process only. tests/integration/test_forkserver.py checks that served
runs really come from the fork server, so an upgrade that changes this fails there.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import sys
import types
from collections.abc import Sequence
from typing import Any


def fork_flow_runs(preload: Sequence[str]) -> bool:
    """From now on this process forks its flow runs from a server that has imported ``preload``.
    The server starts at once, so its imports overlap the Prefect server's start. False where
    there is no fork (Windows): Prefect's spawn stays."""
    if sys.platform == "win32":
        return False
    import prefect.flow_engine as engine

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    engine.multiprocessing = types.SimpleNamespace(get_context=lambda method=None: context)  # type: ignore[assignment]
    multiprocessing.forkserver.ensure_running()
    return True


def by_entrypoint(flow: Any, entrypoint: str) -> Any:
    """``flow``, pickled for its child process as a reference to its entrypoint (the way
    ``python -m prefect.engine`` loads it). cloudpickle would otherwise copy the decorated function
    by value, since the module's attribute is the Flow and not the function, and the copy lacks the
    module globals its string annotations name (``from __future__ import annotations``)."""
    from deploy.serve import load_flow

    cls = type(flow)
    flow.__class__ = type(cls.__name__, (cls,), {"__reduce__": lambda self: (load_flow, (entrypoint,))})
    return flow
