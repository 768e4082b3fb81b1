"""Flow-run start-up: the imports a new flow-run process pays before the first line of a stage.

A Prefect flow run is a new process (``python -m prefect.engine``, also for the deployments
``deploy/serve.py`` serves): it imports Prefect's engine and ``prefect.flow_engine`` (which sets
up Prefect's logging and client), then the stage's entrypoint module. This measures,
interleaved round by round, a process that imports only those two (the baseline: what any flow
run costs), one that also imports the core tables (SQLModel, SQLAlchemy and the case, person
and file tables that every stage's first database step needs: ``models.cases`` with the tables
its foreign keys name), one with every table (``models.tables``, what each stage loaded before
``models`` imported its tables lazily), and one per stage module; it prints the medians of wall
time and of CPU time (user + system: steadier than wall time when other work shares the cores),
the stage's share over the baseline and over every table. The heavy libraries a stage does not
need at start (matplotlib, openpyxl, numpy, rapidfuzz, jinja2, alembic, phonenumbers) are
imported inside the functions that use them, and a stage loads only the table modules it uses
(tests/unit/test_lazy_imports.py holds every stage to that); the last column lists the heavy
libraries and the tables beyond the core ones that a stage still loads.

The last table is the start of a served flow run (``make serve``, the demo): forked from the
fork server that has imported Prefect's engine and every stage once (deploy/forkserver.py), it
pays no imports; measured from the fork to the flow unpickled by its entrypoint.

Run: ``.venv/bin/python -m bench.bench_startup [--rounds 5] [flows.referral ...]``. Goal: a
stage's flow run starts in at most 1.5 s (baseline included) on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from config.settings import PROJECT_ROOT
from deploy.serve import stage_modules
from deploy.specs import DEPLOYMENTS

#: What ``python -m prefect.engine`` imports before it loads the entrypoint (its ``__main__``
#: imports ``prefect.flow_engine``, hence ``prefect.main`` and the logging set-up).
BASELINE = "import prefect.engine, prefect.flow_engine"
#: The database layer every stage uses from its first step on: the case, person and file tables.
CORE_TABLES = "import sqlmodel, models.cases"
#: Every table (``import models`` loaded them all before issue 16).
MODELS = "import sqlmodel, models.tables"
#: Table modules beyond the core ones (models.cases, .people, .ops), loaded only by the stages using them.
OPTIONAL_TABLES = ("models.accounts", "models.exchange", "models.policy")
HEAVY = ("matplotlib", "openpyxl", "numpy", "rapidfuzz", "jinja2", "alembic", "phonenumbers")
GOAL_SECONDS = 1.5


def _timed(code: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of a new interpreter running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def heavy_loaded(module: str) -> list[str]:
    """Which of the heavy libraries and of the optional table modules importing ``module`` pulls in."""
    probe = f"import sys, {module}; print(','.join(m for m in {HEAVY + OPTIONAL_TABLES!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    return [m for m in out.split(",") if m]


def _forked_start(entrypoint: str, reply: Any) -> None:
    """In the forked child: what it does before the stage's first line, beyond Prefect's own
    run set-up: unpickle the flow by its entrypoint (deploy/forkserver.py); its CPU time back."""
    import pickle

    from deploy.forkserver import by_entrypoint
    from deploy.serve import load_flow

    pickle.loads(pickle.dumps(by_entrypoint(load_flow(entrypoint), entrypoint)))
    reply.put(time.process_time())


def forked_starts(entrypoints: dict[str, str], rounds: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of a flow run forked from a fork server that has imported
    Prefect's engine and every stage, as the serve process starts them (``make serve``, the demo)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["prefect.flow_engine", *stage_modules()])
    reply = context.SimpleQueue()
    context.Process(target=_forked_start, args=(next(iter(entrypoints.values())), reply)).start()  # warm up
    reply.get()
    out: dict[str, tuple[float, float]] = {}
    for module, entrypoint in entrypoints.items():
        walls, cpus = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            child = context.Process(target=_forked_start, args=(entrypoint, reply))
            child.start()
            cpus.append(reply.get())
            child.join()
            walls.append(time.perf_counter() - started)
        out[module] = statistics.median(walls), statistics.median(cpus)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("modules", nargs="*", help="stage modules to measure (default: every deployment's)")
    args = parser.parse_args(argv)
    modules = args.modules or stage_modules()
    codes = {
        "(baseline)": BASELINE,
        "(+ core tables)": f"{BASELINE}; {CORE_TABLES}",
        "(+ every table)": f"{BASELINE}; {MODELS}",
    }
    codes |= {m: f"{BASELINE}; import {m}" for m in modules}
    walls: dict[str, list[float]] = {name: [] for name in codes}
    cpus: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(args.rounds):
        for name, code in codes.items():
            wall, cpu = _timed(code)
            walls[name].append(wall)
            cpus[name].append(cpu)
    base, base_cpu = statistics.median(walls["(baseline)"]), statistics.median(cpus["(baseline)"])
    floor_cpu = statistics.median(cpus["(+ every table)"])
    print(
        f"{'module':<22} {'wall s':>7} {'cpu s':>6} {'stage s':>8} {'stage cpu':>9} {'over tables':>11} {'goal':>5}"
        "  heavy libraries and optional tables loaded at start"
    )
    print(f"{'prefect.flow_engine':<22} {base:>7.2f} {base_cpu:>6.2f} {0:>8.2f} {0:>9.2f}")
    for name in ["(+ core tables)", "(+ every table)", *modules]:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        goal = "ok" if wall <= GOAL_SECONDS else "over"
        heavy = ", ".join(heavy_loaded(name)) if name in modules else ""
        print(
            f"{name:<22} {wall:>7.2f} {cpu:>6.2f} {wall - base:>8.2f} {cpu - base_cpu:>9.2f} "
            f"{cpu - floor_cpu:>11.2f} {goal:>5}  {heavy or '—'}"
        )
    entrypoints = {d.entrypoint.split(":")[0].removesuffix(".py").replace("/", "."): d.entrypoint for d in DEPLOYMENTS}
    forked = forked_starts({m: entrypoints[m] for m in modules if m in entrypoints}, args.rounds)
    print("\nserved flow runs, forked from the warm fork server (deploy/forkserver.py): start to the stage's code")
    for name, (wall, cpu) in forked.items():
        print(f"{name:<22} {wall:>7.2f} {cpu:>6.2f} {'ok' if wall <= GOAL_SECONDS else 'over':>5}")


if __name__ == "__main__":
    main()
