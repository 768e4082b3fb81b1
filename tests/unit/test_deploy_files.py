"""Every production file parses, and every setting it names exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings

DEPLOY = Path(__file__).parents[2] / "deploy"
# Names used by deploy files that are not Settings fields, each with its reason.
NON_SETTINGS = {
    "INCONTRO_HOME",  # where the checkout lives on a worker (prefect.yaml pull step)
}
PREFECT_EXTRA = {
    "PREFECT_API_AUTH_STRING",
    "PREFECT_SERVER_API_AUTH_STRING",  # secrets: unset by default
    "PREFECT_API_URL",
    "PREFECT_UI_API_URL",  # unset by default, so absent from the defaults listing
    "PREFECT_MESSAGING_BROKER",
    "PREFECT_MESSAGING_CACHE",
    "PREFECT_REDIS_MESSAGING_HOST",  # prefect-redis (HA)
}


def _env_names(text: str) -> set[str]:
    return set(re.findall(r"\b((?:INCONTRO|PREFECT)_[A-Z0-9_]+)\b", text))


def _yaml_files() -> list[Path]:
    return sorted([*DEPLOY.glob("*.yaml"), *DEPLOY.glob("k8s/*.yaml")])


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: p.name)
def test_yaml_parses(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert docs, f"{path.name} is empty"
    if path.parent.name == "k8s":
        kinds = {d["kind"] for d in docs}
        assert {"Namespace", "ConfigMap", "Deployment", "Service"} <= kinds
        for d in docs:
            assert d["apiVersion"] and d["metadata"]["name"]


def test_compose_services_are_wired() -> None:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "prefect-server", "worker", "portal", "deploy-job", "redis"} <= set(services)
    assert services["worker"]["command"][:5] == ["prefect", "worker", "start", "--pool", "incontro"]
    for name in ("prefect-server", "portal"):
        assert all(p.startswith("127.0.0.1:") for p in services[name].get("ports", [])), "bind to loopback"


def test_every_named_setting_exists() -> None:
    from prefect.settings import Settings as PrefectSettings

    incontro = {f"INCONTRO_{name.upper()}" for name in Settings.model_fields}
    prefect = set(PrefectSettings().to_environment_variables(exclude_unset=False)) | PREFECT_EXTRA
    files = [*_yaml_files(), DEPLOY / "secrets.example.env", DEPLOY / "Dockerfile", DEPLOY / "README.md"]
    unknown = {}
    for path in files:
        for name in _env_names(path.read_text(encoding="utf-8")):
            ok = name in incontro | NON_SETTINGS if name.startswith("INCONTRO_") else name in prefect
            if not ok:
                unknown.setdefault(name, []).append(path.name)
    assert not unknown, f"settings named in deploy files but unknown: {unknown}"


def test_example_secrets_are_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    values = dict(
        line.split("=", 1)
        for line in (DEPLOY / "secrets.example.env").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    for key, value in values.items():
        if key.startswith("INCONTRO_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("INCONTRO_ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="real secret"):
        Settings()


def test_every_container_runs_on_rome_time() -> None:
    """Business dates are computed in Rome by models/clock.py; the containers say so too, so
    logs, cron readers and any library that asks the machine agree with the operators."""
    assert re.search(r"^ENV TZ=Europe/Rome\b", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"), re.M)
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert compose["x-incontro-env"]["TZ"] == "Europe/Rome"
    assert compose["services"]["prefect-server"]["environment"]["TZ"] == "Europe/Rome"
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "incontro.yaml").read_text(encoding="utf-8")))
    settings = next(d for d in docs if d and d["kind"] == "ConfigMap" and d["metadata"]["name"] == "incontro-settings")
    assert settings["data"]["TZ"] == "Europe/Rome"
    for doc in docs:
        if doc and doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                env = {e["name"]: e.get("value") for e in container.get("env", [])}
                via_config = any(
                    ref.get("configMapRef", {}).get("name") == "incontro-settings"
                    for ref in container.get("envFrom", [])
                )
                assert env.get("TZ") == "Europe/Rome" or via_config, container["name"]
