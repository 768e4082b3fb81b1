"""Serve every deployment from one process (single-machine mode: ``make serve`` and the demo).

deploy/stack.py starts this process together with the Prefect server: it imports the stages and
builds the deployments while the server is still migrating its database, then waits for the API
(:func:`wait_for_api`) and registers them. The runner holds the flows themselves, so each flow run
is a new process forked from a fork server that has already imported Prefect and the stages
(deploy/forkserver.py), not a cold ``python -m prefect.engine``. The runner looks for runs to start
every ``PREFECT_RUNNER_POLL_FREQUENCY`` seconds (1 in deploy/stack.py); not more often: each look
also writes to Prefect's database (the deployments are marked ready), and on SQLite those writes
queue behind the flow runs' own.
"""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

    from deploy.specs import DeploymentSpec

#: Flow runs at once; more only queue for the same two cores (a suspended form holds no slot).
LIMIT = 8


def load_flow(entrypoint: str) -> Any:
    """``flows/intake.py:intake_form`` → the flow object."""
    path, attr = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, attr)


def options(spec: DeploymentSpec) -> dict[str, Any]:
    """A deployment's settings from its declaration in deploy/specs.py."""
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.events import DeploymentEventTrigger

    return {
        "name": spec.name,
        "tags": list(spec.tags),
        "description": spec.description,
        "parameters": dict(spec.parameters),
        "schedules": [CronSchedule(**s.as_dict()) for s in spec.schedules],
        "triggers": [DeploymentEventTrigger(**t.as_dict()) for t in spec.triggers],
        "enforce_parameter_schema": True,  # the server refuses a run whose parameters break the schema
    }


def build(spec: DeploymentSpec) -> RunnerDeployment:
    """One RunnerDeployment from its declaration (what a worker-based deployment would register)."""
    return load_flow(spec.entrypoint).to_deployment(**options(spec))  # type: ignore[no-any-return]


def stage_modules() -> list[str]:
    """Every module that is a deployment's entrypoint (``flows/intake.py:intake`` → flows.intake)."""
    from deploy.specs import DEPLOYMENTS

    return sorted({d.entrypoint.split(":")[0].removesuffix(".py").replace("/", ".") for d in DEPLOYMENTS})


def wait_for_api(timeout: float = 120) -> None:
    """Until Prefect's API answers: deploy/stack.py starts this process with the server, so the
    stages are imported and the deployments built while the server is still starting."""
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while (problem := client.api_healthcheck()) is not None:
            if time.monotonic() >= deadline:
                raise SystemExit(f"il server Prefect non risponde dopo {timeout:.0f} s: {type(problem).__name__}")
            time.sleep(0.2)


def main() -> None:
    import asyncio

    from prefect.runner import Runner

    from deploy.forkserver import by_entrypoint, fork_flow_runs
    from deploy.specs import DEPLOYMENTS

    fork_flow_runs(["prefect.flow_engine", *stage_modules()])
    flows = [(by_entrypoint(load_flow(spec.entrypoint), spec.entrypoint), spec) for spec in DEPLOYMENTS]
    wait_for_api()
    runner = Runner(pause_on_shutdown=True, limit=LIMIT)
    for flow, spec in flows:
        runner.add_flow(flow, **options(spec))
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:  # Ctrl-C in `make serve`: the runner has already stopped its runs
        pass


if __name__ == "__main__":
    main()
