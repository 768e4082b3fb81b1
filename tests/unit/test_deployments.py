"""deploy/prefect.yaml and deploy/serve.py declare the same deployments; every entrypoint loads."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.serve import build, load_flow
from deploy.specs import DEPLOYMENTS, DeploymentSpec

YAML = yaml.safe_load((Path(__file__).parents[2] / "deploy" / "prefect.yaml").read_text(encoding="utf-8"))


def _from_yaml(name: str) -> dict[str, Any]:
    return next(d for d in YAML["deployments"] if d["name"] == name)


def test_same_deployment_names() -> None:
    assert sorted(d["name"] for d in YAML["deployments"]) == sorted(d.name for d in DEPLOYMENTS)


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=[d.name for d in DEPLOYMENTS])
def test_yaml_equals_served_deployment(spec: DeploymentSpec) -> None:
    served = build(spec)
    declared = _from_yaml(spec.name)
    assert served.name == declared["name"]
    assert served.entrypoint == declared["entrypoint"]
    assert sorted(served.tags) == sorted(declared["tags"])
    assert (served.parameters or {}) == declared["parameters"]
    assert [  # type: ignore[union-attr]
        (s.schedule.cron, s.schedule.timezone, s.schedule.day_or) for s in served.schedules
    ] == [(s["cron"], s["timezone"], s.get("day_or", True)) for s in declared["schedules"]]
    served_triggers = [
        {
            "expect": sorted(t.expect),
            "match": t.match.model_dump(),
            "parameters": t.parameters or {},
            "enabled": t.enabled,
            "within": t.within.total_seconds(),
            "schedule_after": t.schedule_after.total_seconds(),
        }
        for t in served.triggers
    ]
    declared_triggers = [
        {
            "expect": sorted(t["expect"]),
            "match": t["match"],
            "parameters": t["parameters"],
            "enabled": t["enabled"],
            "within": t.get("within", 0),
            "schedule_after": t.get("schedule_after", 0),
        }
        for t in declared["triggers"]
    ]
    assert served_triggers == declared_triggers
    assert declared["work_pool"]["name"] == "incontro"


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=[d.name for d in DEPLOYMENTS])
def test_entrypoint_loads_a_flow_with_italian_parameter_docs(spec: DeploymentSpec) -> None:
    flow = load_flow(spec.entrypoint)
    assert flow.name == spec.name
    schema = flow.parameters.model_dump()
    for name, prop in (schema.get("properties") or {}).items():
        assert prop.get("description"), f"{spec.name}.{name}: every parameter needs a description for the UI form"


def test_every_stage_chains_by_event_or_schedule() -> None:
    by = {d.name: d for d in DEPLOYMENTS}
    assert by["intake"].triggers[0].as_dict()["expect"] == ["incontro.referral.accepted"]
    assert by["matching"].triggers[0].as_dict()["expect"] == ["incontro.vacancy.received"]
    assert by["interest"].triggers[0].as_dict()["expect"] == ["incontro.interest.recorded"]
    assert [s.as_dict() for s in by["dispatch"].schedules] == [{"cron": "0 9 * * 1", "timezone": "Europe/Rome"}]


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=[d.name for d in DEPLOYMENTS])
def test_a_debounced_trigger_loses_no_event(spec: DeploymentSpec) -> None:
    """A reactive trigger with ``within`` fires on the first event and drops the others of its
    window: its run must start once that window is over, so that it sees their cases too."""
    for trigger in build(spec).triggers:
        assert trigger.schedule_after >= trigger.within, f"{spec.name}: events of the window would be lost"


def _name_words(spec: DeploymentSpec) -> set[str]:
    return {w for name in load_flow(spec.entrypoint).parameters.properties for w in name.split("_")}


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=[d.name for d in DEPLOYMENTS])
def test_parameter_form_has_italian_titles(spec: DeploymentSpec) -> None:
    """The schema each deployment sends to the server (``serve`` and ``prefect deploy`` build it
    the same way, with ``parameter_schema(flow)``) titles every field in Italian, not with the
    parameter name Prefect uses by default."""
    schema = build(spec)._parameter_openapi_schema.model_dump_for_openapi()
    english = _name_words(spec)
    for name, prop in (schema.get("properties") or {}).items():
        title = prop.get("title") or ""
        where = f"{spec.name}.{name}"
        assert title.lower() not in {name, name.replace("_", " ")}, f"{where}: title is the parameter name"
        assert "_" not in title, f"{where}: {title!r} looks like an identifier"
        assert set(title.lower().replace("'", " ").split()) - english, f"{where}: {title!r} is not Italian"
        assert prop.get("description"), f"{where}: needs an Italian description"


def test_titles_come_from_the_shared_aliases() -> None:
    """Same field, same title: the aliases of flows/_params.py, also when Prefect reads the source."""
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    root = Path(__file__).parents[2]
    titles: dict[str, set[str]] = {}
    for spec in DEPLOYMENTS:
        path, func = spec.entrypoint.split(":")
        schema = parameter_schema_from_entrypoint(f"{root / path}:{func}").model_dump_for_openapi()
        for name, prop in (schema.get("properties") or {}).items():
            titles.setdefault(name, set()).add(prop["title"])
    assert titles["office"] == {"Centro per l'Impiego"}
    assert titles["case_codes"] == {"Codici pratica"}
    assert titles["as_of"] == {"Data di riferimento"}
    assert {n: t for n, t in titles.items() if len(t) > 1} == {}


CODE_FIELDS = {
    "case_code": "Olena Kovalenko",
    "sender_code": "Caritas Bergamo",
    "referrer_code": "Mario Rossi",
    "recipient_code": "mario.rossi@x.it",
    "batch_code": "invio di Olena",
}


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=[d.name for d in DEPLOYMENTS])
def test_code_parameters_refuse_what_is_not_a_code(spec: DeploymentSpec) -> None:
    """A name, e-mail or tax code typed into a code field is refused by the server's schema check
    (``enforce_parameter_schema``, Prefect's own validator) before the run is stored."""
    from prefect.utilities.schema_tools import validate

    schema = build(spec)._parameter_openapi_schema.model_dump_for_openapi()
    assert build(spec).enforce_parameter_schema is not False
    good = {
        "case_code": "BG-2026-000123",
        "sender_code": "CONFINDUSTRIA-BG" if spec.name in {"vacancies", "interest"} else "PROV-LAVORO",
        "referrer_code": "CARITAS-BG",
        "recipient_code": "*",
        "batch_code": "DSP-20261130-01",
    }
    for name in schema.get("properties") or {}:
        if name == "case_codes":
            bad, ok = {name: ["BG-2026-000123", "RSSMRA85T10A562S"]}, {name: ["BG-2026-000123", "BG-2026-1000001"]}
        elif name in CODE_FIELDS:
            bad, ok = {name: CODE_FIELDS[name]}, {name: good[name]}
        else:
            continue
        assert validate(bad, schema, ignore_required=True), f"{spec.name}.{name} accepts {bad}"
        assert not validate(ok, schema, ignore_required=True), f"{spec.name}.{name} refuses {ok}"


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=[d.name for d in DEPLOYMENTS])
def test_a_served_flow_reaches_its_child_process_by_entrypoint(spec: DeploymentSpec) -> None:
    """The runner pickles the flow for its forked child (deploy/forkserver.py): by reference, so
    the child gets the module's own flow, whose string annotations resolve (AsOf, CaseCodes, …)."""
    import cloudpickle

    from deploy.forkserver import by_entrypoint

    flow = by_entrypoint(load_flow(spec.entrypoint), spec.entrypoint)
    copy = cloudpickle.loads(cloudpickle.dumps(flow))
    assert copy.fn is load_flow(spec.entrypoint).fn
    if spec.name == "reports":  # every parameter optional: validates in the child as here
        assert copy.validate_parameters({"as_of": "2026-03-02"}) == {"as_of": date(2026, 3, 2)}
