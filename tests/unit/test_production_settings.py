"""Production settings (issue 22, defects 2 and 9): a bad setting is named in Italian, never
shown; a misconfigured worker refuses to start; demo values are refused in production."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

import config.data
from config.settings import (
    PROJECT_ROOT,
    Settings,
    SettingsError,
    checked_settings,
    get_settings,
    production_problems,
)

AUTH = "coordinamento:Vq8#tL2p-Zr9wXk4"  # a real-looking Prefect auth string
PORTAL = "p0rtal-9f3c1e7a5b2d4c6e8a0b1c3d5e7f9a1b"
DESK = "desk-key-4e1f7a9c2b5d8e0f3a6c9b2e5d8f1a4c"


def _shows(text: str, secret: str) -> bool:
    """Any 8 characters of ``secret`` in ``text`` (pydantic's repr shows a setting's tail)."""
    return any(secret[i : i + 8] in text for i in range(len(secret) - 7))


def _production(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> None:
    """A production environment as the operator would write it, real secrets and relay."""
    values = {
        "INCONTRO_ENVIRONMENT": "production",
        "INCONTRO_PREFECT_AUTH_STRING": AUTH,
        "INCONTRO_PORTAL_SECRET": PORTAL,
        "INCONTRO_DESK_SECRET_KEY": DESK,
        "INCONTRO_DATABASE_URL": "postgresql+psycopg://incontro:Hb5!kq2Lr8@db.provincia.bergamo.it:5432/incontro",
        "INCONTRO_SMTP_HOST": "smtp-relay.provincia.bergamo.it",
        "INCONTRO_SMTP_PORT": "587",
        "INCONTRO_SMTP_STARTTLS": "true",
        "INCONTRO_SMTP_USERNAME": "incontro-lavoro",
        "INCONTRO_SMTP_PASSWORD": "Rt6-relay-Wq1",
        "INCONTRO_MAIL_FROM": "Incontro al lavoro <incontro@provincia.bergamo.it>",
        "INCONTRO_PORTAL_BASE_URL": "https://incontro.provincia.bergamo.it",
    }
    values.update(overrides)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()


@pytest.fixture
def real_partners(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The seed files as an installation would have them: the same entries, real mailboxes."""
    for name, loader, parse in (
        ("organisations.yaml", "load_organisations", config.data._parse_organisations),
        ("offices.yaml", "load_offices", config.data._parse_offices),
    ):
        text = (PROJECT_ROOT / "config" / name).read_text(encoding="utf-8")
        real = tmp_path / name
        real.write_text(re.sub(r"@([\w.-]+)\.example\b", r"@\1.it", text), encoding="utf-8")
        entries = parse(real)
        monkeypatch.setattr(config.data, loader, lambda entries=entries: entries)


def test_a_placeholder_secret_is_named_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch, INCONTRO_PORTAL_SECRET="change-me")
    with pytest.raises(ValidationError) as raw:
        Settings()
    assert not any(_shows(str(raw.value), s) for s in (AUTH, DESK)), "pydantic quoted the settings"
    with pytest.raises(SettingsError) as exc:
        checked_settings()
    message = str(exc.value)
    assert "INCONTRO_PORTAL_SECRET" in message and "in produzione serve un segreto vero" in message
    for secret in (AUTH, PORTAL, DESK, "Hb5!kq2Lr8", "Rt6-relay-Wq1"):
        assert not _shows(message, secret)


def test_a_missing_secret_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    monkeypatch.delenv("INCONTRO_PREFECT_AUTH_STRING")
    with pytest.raises(SettingsError) as exc:
        checked_settings()
    assert exc.value.problems == [
        "INCONTRO_PREFECT_AUTH_STRING: in produzione serve un segreto vero "
        "(ora è vuoto o un valore d'esempio come «change-me»)"
    ]


def test_a_malformed_value_is_named_in_italian_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch, INCONTRO_SMTP_PORT="cinquecentottantasette", INCONTRO_SMTP_STARTTLS="forse")
    with pytest.raises(SettingsError) as exc:
        checked_settings()
    assert sorted(exc.value.problems) == [
        "INCONTRO_SMTP_PORT: deve essere un numero intero",
        "INCONTRO_SMTP_STARTTLS: deve essere true oppure false",
    ]
    assert "cinquecentottantasette" not in str(exc.value) and "forse" not in str(exc.value)


def test_the_example_auth_string_counts_as_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch, INCONTRO_PREFECT_AUTH_STRING="incontro:change-me")
    with pytest.raises(SettingsError, match="INCONTRO_PREFECT_AUTH_STRING"):
        checked_settings()


def test_real_production_settings_start(monkeypatch: pytest.MonkeyPatch, real_partners: None) -> None:
    _production(monkeypatch)
    assert checked_settings().environment == "production"


def test_production_refuses_demo_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled .example partners, mail in clear text, a test sender, a portal on localhost,
    the example's database and relay passwords: each named, with what to do."""
    _production(
        monkeypatch,
        INCONTRO_SMTP_STARTTLS="false",
        INCONTRO_MAIL_FROM="Incontro al lavoro <noreply@incontro.provincia.bergamo.example>",
        INCONTRO_PORTAL_BASE_URL="http://127.0.0.1:8088",
        INCONTRO_DATABASE_URL="postgresql+psycopg://incontro:change-me@db.internal:5432/incontro",
        INCONTRO_SMTP_PASSWORD="change-me",
    )
    with pytest.raises(SettingsError) as exc:
        checked_settings()
    named = [problem.split(":")[0] for problem in exc.value.problems]
    assert named == [
        "INCONTRO_SMTP_STARTTLS",
        "INCONTRO_DATABASE_URL",
        "INCONTRO_SMTP_PASSWORD",
        "INCONTRO_MAIL_FROM",
        "INCONTRO_PORTAL_BASE_URL",
        "config/organisations.yaml",
        "config/offices.yaml",
    ]
    assert "INCONTRO_SMTP_USE_TLS=true (porta 465)" in exc.value.problems[0]


def test_implicit_tls_is_enough(monkeypatch: pytest.MonkeyPatch, real_partners: None) -> None:
    _production(monkeypatch, INCONTRO_SMTP_STARTTLS="false", INCONTRO_SMTP_USE_TLS="true", INCONTRO_SMTP_PORT="465")
    assert production_problems(checked_settings()) == []


def test_development_keeps_its_demo_values() -> None:
    assert production_problems(Settings(_env_file=None)) == []  # type: ignore[call-arg]


def _run(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("INCONTRO_", "PREFECT_API"))}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**base, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_misconfigured_worker_refuses_to_start(tmp_path: Path) -> None:
    env = {
        "INCONTRO_ENVIRONMENT": "production",
        "INCONTRO_PREFECT_AUTH_STRING": AUTH,
        "INCONTRO_PORTAL_SECRET": "change-me",
        "INCONTRO_DESK_SECRET_KEY": DESK,
        "INCONTRO_VAR_DIR": str(tmp_path),
        "PREFECT_API_URL": "http://127.0.0.1:9/api",
    }
    done = _run("deploy.worker", "--pool", "incontro", "--limit", "4", env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Il worker non parte" in done.stderr and "INCONTRO_PORTAL_SECRET" in done.stderr
    assert not any(_shows(done.stderr + done.stdout, s) for s in (AUTH, DESK))
    assert "Traceback" not in done.stderr and "Worker" not in done.stdout


def test_a_worker_without_a_server_address_refuses_to_start(tmp_path: Path) -> None:
    """Without PREFECT_API_URL Prefect would start a temporary server of its own."""
    done = _run("deploy.worker", "--pool", "incontro", env={"INCONTRO_VAR_DIR": str(tmp_path)})
    assert done.returncode == 2 and "PREFECT_API_URL" in done.stderr


def test_a_well_configured_worker_becomes_prefect_worker(tmp_path: Path) -> None:
    env = {"INCONTRO_VAR_DIR": str(tmp_path), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    done = _run("deploy.worker", "--help", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--pool" in done.stdout and "--with-healthcheck" in done.stdout  # prefect worker start's own help


def test_the_init_job_refuses_without_a_server_address(tmp_path: Path) -> None:
    done = _run("deploy.init", env={"INCONTRO_VAR_DIR": str(tmp_path)})
    assert done.returncode == 2 and "PREFECT_API_URL" in done.stderr


def test_a_worker_without_a_writable_data_directory_refuses_to_start(tmp_path: Path) -> None:
    """Before: every flow step failed later, its real error hidden behind PermissionError."""
    blocked = tmp_path / "montaggio-mancante"
    blocked.write_text("not a directory", encoding="utf-8")  # root ignores modes: a file blocks it
    env = {"INCONTRO_VAR_DIR": str(blocked / "incontro"), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    done = _run("deploy.worker", "--pool", "incontro", env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "INCONTRO_VAR_DIR" in done.stderr and "non è scrivibile" in done.stderr
