"""Serve every deployment from one process (single-machine mode: ``make serve`` and the demo).

deploy/stack.py starts this process together with the Prefect server: it imports the stages and
builds the deployments while the server is still migrating its database, then waits for the API
(:func:`wait_for_api`) and registers them. Each flow run is a new ``python -m prefect.engine``
process. The runner looks for runs to start every ``PREFECT_RUNNER_POLL_FREQUENCY`` seconds (1 in
deploy/stack.py); not more often: each look also writes to Prefect's database (the deployments
are marked ready), and on SQLite those writes queue behind the flow runs' own.
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


def build(spec: DeploymentSpec) -> RunnerDeployment:
    """One RunnerDeployment from its declaration in deploy/specs.py."""
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.events import DeploymentEventTrigger

    flow = load_flow(spec.entrypoint)
    return flow.to_deployment(  # type: ignore[no-any-return]
        name=spec.name,
        tags=list(spec.tags),
        description=spec.description,
        parameters=dict(spec.parameters),
        schedules=[CronSchedule(**s.as_dict()) for s in spec.schedules],
        triggers=[DeploymentEventTrigger(**t.as_dict()) for t in spec.triggers],
        enforce_parameter_schema=True,  # the server refuses a run whose parameters break the schema
    )


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
    from prefect import serve

    from deploy.specs import DEPLOYMENTS

    deployments = [build(s) for s in DEPLOYMENTS]
    wait_for_api()
    serve(*deployments, limit=LIMIT)


if __name__ == "__main__":
    main()
