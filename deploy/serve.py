"""Serve every deployment from one process (single-machine mode: ``make serve`` and the demo)."""

from __future__ import annotations

import importlib
from typing import Any

from prefect import serve
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger

from deploy.specs import DEPLOYMENTS, DeploymentSpec


def load_flow(entrypoint: str) -> Any:
    """``flows/intake.py:intake_form`` → the flow object."""
    path, attr = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, attr)


def build(spec: DeploymentSpec) -> RunnerDeployment:
    """One RunnerDeployment from its declaration in deploy/specs.py."""
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


def main() -> None:
    serve(*[build(s) for s in DEPLOYMENTS], limit=8)


if __name__ == "__main__":
    main()
