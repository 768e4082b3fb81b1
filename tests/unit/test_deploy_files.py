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
    "PREFECT_LOGGING_SETTINGS_PATH",  # alias of PREFECT_LOGGING_CONFIG_PATH (tasks/runtime/logfilter.py)
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
    assert {"postgres", "prefect-server", "worker", "portal", "init"} <= set(services)
    assert services["worker"]["command"][:5] == ["python", "-m", "deploy.worker", "--pool", "incontro"]
    for name in ("prefect-server", "portal"):
        assert all(p.startswith("127.0.0.1:") for p in services[name].get("ports", [])), "bind to loopback"


def test_every_named_setting_exists() -> None:
    from prefect.settings import Settings as PrefectSettings

    incontro = {f"INCONTRO_{name.upper()}" for name in Settings.model_fields}
    prefect = set(PrefectSettings().to_environment_variables(exclude_unset=False)) | PREFECT_EXTRA
    files = [*_yaml_files(), DEPLOY / "secrets.example.env", DEPLOY / "Dockerfile", DEPLOY / "README.md"]
    unknown: dict[str, list[str]] = {}
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
    with pytest.raises(ValueError, match="INCONTRO_PORTAL_SECRET: in produzione serve un segreto vero"):
        Settings()
    monkeypatch.setenv("INCONTRO_PORTAL_SECRET", "Qm7-real-portal-secret-from-the-vault")
    # "incontro:change-me" is still the example, though not a bare placeholder word
    with pytest.raises(ValueError, match="INCONTRO_PREFECT_AUTH_STRING: in produzione serve un segreto vero"):
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


# --------------------------------------------------------------------------------------------
# Issue 22: production an operations team can trust

ROOT = DEPLOY.parent
COMPOSE_SCHEMA = ROOT / "tests" / "data" / "compose-spec.json"
LOGGING_CONFIG = "/app/config/prefect-logging.yml"


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax (moby/patternmatcher): ``*`` and ``?`` stay within one path
    segment, ``**`` spans any number of them, the pattern is anchored at the context root."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                    out += "(.*/)?"
                else:
                    out += ".*"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(f"^{out}$")


def _dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        pattern = pattern.strip("/").removeprefix("./")
        rules.append((negated, _dockerignore_regex(pattern)))
    return rules


def _excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Last matching rule wins; a rule matching a parent directory matches what is inside."""
    parents = [path] + ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 1)]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(p) for p in parents):
            excluded = not negated
    return excluded


def _context_files(rules: list[tuple[bool, re.Pattern[str]]]) -> list[str]:
    """The files `docker build` sends from the repository root, as Docker walks it (a directory
    is skipped only when excluded and no `!` rule could bring something inside it back)."""
    import os

    negations = [regex for negated, regex in rules if negated]
    sent = []
    for here, dirs, files in os.walk(ROOT):
        rel = Path(here).relative_to(ROOT).as_posix()
        prefix = "" if rel == "." else rel + "/"
        keep = []
        for d in dirs:
            path = prefix + d
            reopened = any(n.pattern.startswith("^" + re.escape(path + "/")) for n in negations)
            if not _excluded(path, rules) or reopened:
                keep.append(d)
        dirs[:] = keep
        sent += [prefix + f for f in files if not _excluded(prefix + f, rules)]
    return sent


def test_dockerignore_matcher_follows_docker_rules() -> None:
    """The matcher itself, on Docker's documented examples (so the next test means something)."""
    rules = _dockerignore_rules("*/temp*\n*/*/temp*\ntemp?\n**/*.go\n*.md\n!README.md\n")
    assert _excluded("somedir/temporary.txt", rules) and _excluded("somedir/temp", rules)
    assert _excluded("somedir/subdir/temporary.txt", rules) and _excluded("temp1", rules)
    assert _excluded("a/b/c/main.go", rules) and _excluded("main.go", rules)
    assert _excluded("CHANGELOG.md", rules) and not _excluded("README.md", rules)
    assert not _excluded("temp12", rules) and not _excluded("src/app.py", rules)
    whitelist = _dockerignore_rules("*\n!src\nsrc/**/.env\n")
    assert not _excluded("src/pkg/mod.py", whitelist) and _excluded("src/pkg/.env", whitelist)
    assert _excluded(".venv/bin/python", whitelist)


def test_secrets_and_local_state_never_enter_the_build_context() -> None:
    """deploy/.env holds the production secrets: a COPY of deploy/ must not bake it into a layer."""
    ignore = ROOT / ".dockerignore"
    assert ignore.is_file(), "no .dockerignore: the whole checkout (deploy/.env, .venv, var/) is the context"
    rules = _dockerignore_rules(ignore.read_text(encoding="utf-8"))
    for secret in (
        "deploy/.env",
        ".env",
        "config/.env",
        "deploy/production.env",
        "deploy/.env.bak",
        "deploy/production.env.old",
        ".venv/lib/python3.11/site-packages/prefect/__init__.py",
        ".venv-tools/bin/ruff",
        "var/incontro.db",
        "var/mail/0001.eml",
        "var/prefect/prefect.db",
        ".git/config",
        "tasks/runtime/__pycache__/db.cpython-311.pyc",
        "deploy/tls/portal.key",
    ):
        assert _excluded(secret, rules), f"{secret} would enter the image"
    copied = re.findall(r"^COPY\s+(.+?)\s+\S+$", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"), re.M)
    sources = [s for line in copied for s in line.split()]
    assert {"uv.lock", "deploy", "config", "models"} <= set(sources)
    for source in sources:
        assert not _excluded(source, rules) or not _excluded(source + "/x.py", rules), source
    for needed in ("deploy/prefect.yaml", "config/prefect-logging.yml", "deploy/secrets.example.env", "uv.lock"):
        assert not _excluded(needed, rules), f"{needed} is needed in the image"
    sent = _context_files(rules)
    leaked = [p for p in sent if re.search(r"(^|/)(\.env|[^/]*\.env|var|\.venv[^/]*|\.git)(/|$)", p)]
    assert leaked in ([], ["deploy/secrets.example.env"]), leaked
    assert "deploy/prefect.yaml" in sent and not any(p.startswith("tests/") for p in sent)


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_compose_validates_against_the_compose_spec() -> None:
    import json

    import jsonschema

    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(_compose(), schema)
    broken = _compose()
    broken["services"]["worker"]["depends_on"]["init"]["condition"] = "service_done"
    with pytest.raises(jsonschema.ValidationError):  # the schema does refuse what compose refuses
        jsonschema.validate(broken, schema)


def test_compose_starts_by_health_and_restarts() -> None:
    """Measured before: work-pool create and deploy failed in 3 s (hidden by `|| true`) and the
    worker exited in 6.7 s while the server needed 8 s."""
    services = _compose()["services"]
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert "|| true" not in text, "a failing step must fail the init job"
    for name, service in services.items():
        deps = service.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on without conditions only orders the starts"
        for dep, spec in deps.items():
            wanted = "service_completed_successfully" if dep == "init" else "service_healthy"
            assert spec["condition"] == wanted, (name, dep)
            assert "healthcheck" in services[dep] or dep == "init", f"{dep} has no healthcheck"
        if name != "init":
            assert service.get("restart") in ("unless-stopped", "always"), f"{name} does not restart"
            assert "healthcheck" in service, f"{name} has no healthcheck"
    init = services["init"]
    assert init["command"] == ["python", "-m", "deploy.init"] and init.get("restart") == "no"
    assert {"worker", "portal"} <= {n for n, s in services.items() if "init" in s.get("depends_on", {})}


def test_compose_runs_one_server_without_unused_pieces() -> None:
    """No Redis that nothing uses; nothing scaled (workers) holds a fixed host port."""
    compose = _compose()
    services = compose["services"]
    assert "redis" not in services and not any("profiles" in s for s in services.values())
    assert not services["worker"].get("ports")
    assert services["worker"]["command"][:3] == ["python", "-m", "deploy.worker"]


def test_the_image_owns_its_data_directory() -> None:
    """INCONTRO_VAR_DIR exists in the image, belongs to the non-root user, and is a volume."""
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    var_dir = re.search(r"INCONTRO_VAR_DIR=(\S+)", dockerfile)
    assert var_dir, "the image names its data directory"
    assert re.search(rf"mkdir -p {re.escape(var_dir[1])}\b", dockerfile)
    assert re.search(rf"chown -R 10001:10001 {re.escape(var_dir[1])}\b", dockerfile)
    assert re.search(r"^USER 10001", dockerfile, re.M) and f'VOLUME ["{var_dir[1]}"]' in dockerfile
    worker = _compose()["services"]["worker"]
    assert f"incontro-var:{var_dir[1]}" in worker["volumes"]
    docs = _k8s()
    worker_pod = _pod(docs, "incontro-worker")
    assert worker_pod["securityContext"]["fsGroup"] == 10001
    mounts = {m["mountPath"]: m["name"] for m in worker_pod["containers"][0]["volumeMounts"]}
    volume = next(v for v in worker_pod["volumes"] if v["name"] == mounts[var_dir[1]])
    claim = volume["persistentVolumeClaim"]["claimName"]
    assert any(d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == claim for d in docs)


def _k8s() -> list[dict[str, Any]]:
    text = (DEPLOY / "k8s" / "incontro.yaml").read_text(encoding="utf-8")
    return [d for d in yaml.safe_load_all(text) if d]


def _pod(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    doc = next(d for d in docs if d["kind"] in ("Deployment", "Job") and d["metadata"]["name"] == name)
    return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def test_kubernetes_manifests_validate_strictly() -> None:
    import kubernetes_validate

    for doc in _k8s():
        kubernetes_validate.validate(doc, "1.30.0", strict=True)
    bad = _k8s()
    deployment = next(d for d in bad if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.30.0", strict=True)


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def test_kubernetes_is_production_shaped() -> None:
    docs = _k8s()
    kinds = {d["kind"] for d in docs}
    assert {"PersistentVolumeClaim", "Job", "Ingress", "NetworkPolicy"} <= kinds
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            name = f"{doc['metadata']['name']}/{container['name']}"
            image = container["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag"
            assert container["resources"]["requests"] and container["resources"]["limits"], name
            assert not any("secretRef" in ref for ref in container.get("envFrom", [])), f"{name}: every secret"
            if doc["kind"] == "Deployment":
                assert "livenessProbe" in container and "readinessProbe" in container, name
    portal = _pod(docs, "incontro-portal")["containers"][0]
    assert portal["readinessProbe"]["httpGet"]["path"] == "/salute"
    env = _env(portal)
    assert "PREFECT_API_AUTH_STRING" in env, "without it the portal's events are refused and answers wait"
    portal_secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in env.values() if "valueFrom" in e}
    assert not portal_secrets & {"incontro-smtp", "incontro-prefect-server", "incontro-app"}, portal_secrets
    assert not {"INCONTRO_SMTP_PASSWORD", "PREFECT_SERVER_DATABASE_CONNECTION_URL"} & set(env)
    server = _pod(docs, "prefect-server")["containers"][0]
    assert _env(server)["PREFECT_UI_API_URL"]["value"].startswith("https://")
    job = _pod(docs, "incontro-init")["containers"][0]
    assert job["args"][:3] == ["python", "-m", "deploy.init"]
    worker = _pod(docs, "incontro-worker")["containers"][0]
    assert worker["args"][:3] == ["python", "-m", "deploy.worker"] and "--with-healthcheck" in worker["args"]


def test_every_process_logs_through_the_redaction_config() -> None:
    """Prefect's default logging ships records unredacted to the API: every server, worker, flow
    run, portal and init process must point PREFECT_LOGGING_SETTINGS_PATH at ours."""
    assert (ROOT / LOGGING_CONFIG.removeprefix("/app/")).is_file()
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert f"PREFECT_LOGGING_SETTINGS_PATH={LOGGING_CONFIG}" in dockerfile
    for name, service in _compose()["services"].items():
        if name == "postgres":
            continue
        assert "build" in service, f"{name} must run the Incontro image (the filter lives there)"
        assert service["environment"]["PREFECT_LOGGING_SETTINGS_PATH"] == LOGGING_CONFIG, name
    docs = _k8s()
    settings = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert container["image"].startswith("registry.provincia.bergamo.it/incontro:"), container["name"]
                via_map = any("configMapRef" in ref for ref in container.get("envFrom", []))
                value = _env(container).get("PREFECT_LOGGING_SETTINGS_PATH", {}).get("value")
                if value is None and via_map:
                    value = settings.get("PREFECT_LOGGING_SETTINGS_PATH")
                assert value == LOGGING_CONFIG, container["name"]
    example = (DEPLOY / "secrets.example.env").read_text(encoding="utf-8")
    assert re.search(r"^PREFECT_LOGGING_SETTINGS_PATH=\S+/config/prefect-logging.yml$", example, re.M)


def test_secrets_file_is_sourceable_by_a_shell(tmp_path: Path) -> None:
    """The README sources deploy/.env with `set -a; . deploy/.env`: every line must survive it."""
    import subprocess

    env_file = tmp_path / ".env"
    env_file.write_text((DEPLOY / "secrets.example.env").read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; set -a; . {env_file}; set +a; env -0"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    seen = dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
    assert seen["INCONTRO_MAIL_FROM"] == "Incontro al lavoro <noreply@provincia.bergamo.it>"
    assert seen["PREFECT_API_AUTH_STRING"] == seen["INCONTRO_PREFECT_AUTH_STRING"]
