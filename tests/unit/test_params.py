"""Organisation and office code parameters are closed choices from config/ (issue 16, defect 7).

A tax code, a name shaped like a code or a valid code with a space or a newline around it must be
refused twice, the same way: in process (a direct call of the flow, ``flows/_stage.py:
check_parameters``) and by the server, which checks the deployment's parameter schema with
``prefect.utilities.schema_tools.validate`` (``enforce_parameter_schema``) before storing a run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.exceptions import ParameterTypeError
from prefect.utilities.schema_tools import validate

from config.data import load_offices, load_organisations
from deploy.serve import build, load_flow
from deploy.specs import DEPLOYMENTS
from flows._stage import check_parameters
from models.enums import OrgKind as K

OFFICES = {o.code for o in load_offices()}


def _orgs(*kinds: K) -> set[str]:
    return {o.code for o in load_organisations() if o.kind in kinds}


#: (deployment, parameter) -> the codes that make sense there.
CHOICES: dict[tuple[str, str], set[str]] = {
    ("referral", "referrer_code"): _orgs(K.CARITAS, K.AMBITO, K.ASSOCIATION, K.CPIA),
    ("vacancies", "sender_code"): _orgs(K.CONFINDUSTRIA, K.COMPANY),
    ("interest", "sender_code"): _orgs(K.CONFINDUSTRIA, K.COMPANY),
    ("outcomes", "sender_code"): _orgs(K.LABOUR_SERVICE) | OFFICES,
    ("training-offers", "sender_code"): _orgs(K.TRAINING_BODY, K.LABOUR_SERVICE),
    ("policy-progress", "sender_code"): _orgs(K.TRAINING_BODY, K.LABOUR_SERVICE),
    ("consent-withdrawal", "recipient_code"): {"*"} | _orgs(*K) | OFFICES,
    ("intake", "office"): OFFICES,
    ("intake-form", "office"): OFFICES,
    ("follow-up", "office"): OFFICES,
}
#: What must never pass a code field: a tax code, a name written like a code, an e-mail.
NOT_CODES = ["RSSMRA80A01H501U", "ROSSI-MARIO", "mario.rossi@x.it", "12345678901"]
#: Required parameters other than the one under test, filled with values that pass.
FILLERS: dict[str, Any] = {
    "file_path": "var/inbox/file.csv",
    "case_code": "BG-2026-000123",
    "purpose": "cpia_enrolment",
}
BATCH_GOOD = ["DSP-20261204-1", "DSP-20261130-01", "DSP-PORTAL-1767225600", "DSP-BENCH-PREFECT"]
BATCH_BAD = [
    *NOT_CODES,
    "DSP-RSSMRA80A01H501U",  # a tax code inside a batch code
    "DSP-20261204-1\n",
    "DSP-20261204-1 ",
    " DSP-20261204-1",
    "dsp-20261204-1",
]


def _spec(name: str) -> Any:
    return next(d for d in DEPLOYMENTS if d.name == name)


@cache
def _schema(deployment: str) -> dict[str, Any]:
    """The parameter schema the deployment sends to the server (serve and prefect deploy alike)."""
    return build(_spec(deployment))._parameter_openapi_schema.model_dump_for_openapi()  # type: ignore[no-any-return]


def _enum(deployment: str, name: str) -> list[Any] | None:
    """The ``enum`` behind a property (inline, through ``$ref`` or inside ``anyOf``), if any."""
    schema = _schema(deployment)
    prop = schema["properties"][name]
    for part in [prop, *prop.get("anyOf", []), *prop.get("allOf", [])]:
        if "$ref" in part:
            part = schema["definitions"][part["$ref"].rsplit("/", 1)[-1]]
        if "enum" in part:
            return list(part["enum"])
    return None


def _bad_values(good: str) -> list[str]:
    """Everything around a valid code that must still be refused."""
    return [*NOT_CODES, good + "\n", good + " ", " " + good, "\t" + good, good.lower()]


def _in_process(deployment: str, name: str, value: Any) -> None:
    """What a direct call of the flow does before any run exists; raises when refused."""
    fn = load_flow(_spec(deployment).entrypoint).fn
    required = set(_schema(deployment).get("required", []))
    kwargs = {k: v for k, v in FILLERS.items() if k in required and k != name} | {name: value}
    check_parameters(fn, (), kwargs)


def _by_server(deployment: str, name: str, value: Any) -> list[Any]:
    """The errors of the server's own check (``ignore_required``: only the field under test)."""
    return validate({name: value}, _schema(deployment), ignore_required=True)  # type: ignore[no-any-return]


def test_every_organisation_and_office_field_is_listed() -> None:
    """Nothing slips through: every ``*_code`` or ``office`` parameter of a deployment is either a
    closed choice above or one of the two generated codes (case and batch codes)."""
    found = {
        (spec.name, name)
        for spec in DEPLOYMENTS
        for name in _schema(spec.name).get("properties", {})
        if name.endswith("_code") or name == "office"
    }
    generated = {(d, n) for d, n in found if n in {"case_code", "batch_code"}}
    assert found - generated == set(CHOICES)
    assert len(CHOICES) == 10


@pytest.mark.parametrize(("deployment", "name"), sorted(CHOICES))
def test_schema_offers_the_config_codes_as_a_drop_down(deployment: str, name: str) -> None:
    choices = _enum(deployment, name)
    assert choices is not None, f"{deployment}.{name}: no enum in the parameter schema (no drop-down in the UI)"
    assert set(choices) == CHOICES[(deployment, name)]
    assert len(choices) == len(set(choices))
    default = _schema(deployment)["properties"][name].get("default")
    assert default is None or default in choices, f"{deployment}.{name}: default {default!r} is not a choice"


@pytest.mark.parametrize(("deployment", "name"), sorted(CHOICES))
def test_a_tax_code_a_name_or_a_padded_code_is_refused_in_process(deployment: str, name: str) -> None:
    good = sorted(CHOICES[(deployment, name)])[-1]
    _in_process(deployment, name, good)  # the valid code passes
    for bad in _bad_values(good):
        with pytest.raises(ParameterTypeError) as refused:
            _in_process(deployment, name, bad)
        message = str(refused.value)
        assert name in message, message
        assert "codice non previsto" in message and good in message, message  # Italian, with the choices
        assert bad.strip() not in message.replace(good, ""), "the refused value must not be echoed"


@pytest.mark.parametrize(("deployment", "name"), sorted(CHOICES))
def test_a_tax_code_a_name_or_a_padded_code_is_refused_by_the_server_check(deployment: str, name: str) -> None:
    good = sorted(CHOICES[(deployment, name)])[-1]
    assert _by_server(deployment, name, good) == []
    for bad in _bad_values(good):
        assert _by_server(deployment, name, bad), f"{deployment}.{name} accepts {bad!r}"


def test_batch_codes_keep_a_strict_pattern_in_process_and_on_the_server() -> None:
    assert _enum("dispatch", "batch_code") is None  # generated codes: a pattern, not a list
    for good in BATCH_GOOD:
        _in_process("dispatch", "batch_code", good)
        assert _by_server("dispatch", "batch_code", good) == [], good
    for bad in BATCH_BAD:
        with pytest.raises(ParameterTypeError, match="batch_code"):
            _in_process("dispatch", "batch_code", bad)
        assert _by_server("dispatch", "batch_code", bad), f"the server accepts {bad!r}"


@pytest.mark.parametrize("deployment", ["erasure", "consent-withdrawal"])
def test_a_case_code_with_a_trailing_newline_is_refused_by_the_server_check(deployment: str) -> None:
    """Python's ``$`` (the server's jsonschema) also matches before a final newline."""
    assert _by_server(deployment, "case_code", "BG-2026-000123") == []
    for bad in ["BG-2026-000123\n", "BG-2026-000123 ", "RSSMRA80A01H501U"]:
        assert _by_server(deployment, "case_code", bad), repr(bad)
        with pytest.raises(ParameterTypeError):
            _in_process(deployment, "case_code", bad)
    assert _by_server("dispatch", "case_codes", ["BG-2026-000123\n"])


def test_every_deployment_enforces_its_parameter_schema() -> None:
    """The server checks parameters only when ``enforce_parameter_schema`` is on: said explicitly
    in both forms of the deployments (serve and the work-pool prefect.yaml)."""
    declared = yaml.safe_load((Path(__file__).parents[2] / "deploy" / "prefect.yaml").read_text(encoding="utf-8"))
    assert {d["name"]: d.get("enforce_parameter_schema") for d in declared["deployments"]} == {
        d.name: True for d in DEPLOYMENTS
    }
    assert all(build(spec).enforce_parameter_schema is True for spec in DEPLOYMENTS)
