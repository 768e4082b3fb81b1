"""Flow-run start-up: the imports a new flow-run process pays before the first line of a stage.

A Prefect flow run is a new process (``python -m prefect.engine``): it imports Prefect's engine
and ``prefect.flow_engine`` (which sets up Prefect's logging and client), then the stage's
entrypoint module. This measures, interleaved round by round, a process that imports only those
two (the baseline: what any flow run costs) and one that also imports each stage module, and
prints the medians and the stage's own share. The heavy libraries a stage does not need at start
(matplotlib, openpyxl, numpy, rapidfuzz, jinja2, alembic, phonenumbers) are imported inside the
functions that use them (tests/unit/test_lazy_imports.py holds every stage to that); the last
column lists any that a stage still loads.

Run: ``.venv/bin/python -m bench.bench_startup [--rounds 5] [flows.referral ...]``. Goal: a
stage's flow run starts in at most 1.5 s (baseline included) on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from config.settings import PROJECT_ROOT
from deploy.specs import DEPLOYMENTS

#: What ``python -m prefect.engine`` imports before it loads the entrypoint (its ``__main__``
#: imports ``prefect.flow_engine``, hence ``prefect.main`` and the logging set-up).
BASELINE = "import prefect.engine, prefect.flow_engine"
HEAVY = ("matplotlib", "openpyxl", "numpy", "rapidfuzz", "jinja2", "alembic", "phonenumbers")
GOAL_SECONDS = 1.5


def stage_modules() -> list[str]:
    """Every module that is a deployment's entrypoint (``flows/intake.py:intake`` → flows.intake)."""
    return sorted({d.entrypoint.split(":")[0].removesuffix(".py").replace("/", ".") for d in DEPLOYMENTS})


def _timed(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True)
    return time.perf_counter() - started


def heavy_loaded(module: str) -> list[str]:
    """Which of the heavy libraries importing ``module`` pulls in."""
    probe = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    return [m for m in out.split(",") if m]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("modules", nargs="*", help="stage modules to measure (default: every deployment's)")
    args = parser.parse_args(argv)
    modules = args.modules or stage_modules()
    times: dict[str, list[float]] = {m: [] for m in ["(baseline)", *modules]}
    for _ in range(args.rounds):
        times["(baseline)"].append(_timed(BASELINE))
        for module in modules:
            times[module].append(_timed(f"{BASELINE}; import {module}"))
    base = statistics.median(times["(baseline)"])
    print(f"{'module':<20} {'median s':>9} {'stage s':>8} {'goal':>5}  heavy libraries loaded at start")
    print(f"{'prefect.flow_engine':<20} {base:>9.2f} {0:>8.2f}")
    for module in modules:
        median = statistics.median(times[module])
        goal = "ok" if median <= GOAL_SECONDS else "over"
        heavy = ", ".join(heavy_loaded(module)) or "—"
        print(f"{module:<20} {median:>9.2f} {median - base:>8.2f} {goal:>5}  {heavy}")


if __name__ == "__main__":
    main()
