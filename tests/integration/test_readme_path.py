"""deploy/README.md's bare-metal path, run as written (issue 22): its own PostgreSQL role and
databases, a Prefect server on PostgreSQL, the init step (twice: it must be idempotent), two
workers, a partner file through the inbox to intake scheduling, an intake form answered with the
`incontro` command, then teardown. Each README block marked ``<!-- step: name -->`` is executed by
bash with only these substitutions: the release's path (/opt/incontro), the secrets file's
path, the server's port and bind address, and the answer file's path. Prints the time from
nothing to the first flow run on a worker."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from config.settings import PROJECT_ROOT
from deploy.stack import Stack, free_port
from models.clock import today
from tasks.mail.smtp_sink import MailSink
from tests.pg import ADMIN_URL, postgres_required

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

README = PROJECT_ROOT / "deploy" / "README.md"
EXAMPLE_ENV = PROJECT_ROOT / "deploy" / "secrets.example.env"
STEP = re.compile(r"<!-- step: ([\w-]+) -->\s*```sh\n(.*?)```", re.S)

HEADER = (
    "Cognome;Nome;Data di nascita;Sesso;Luogo di nascita;Cittadinanza;Codice fiscale;Cellulare;E-mail;"
    "Comune di residenza;Lingue parlate;Titolo di studio;Esperienze;Patente;Livello italiano;"
    "Consenso privacy;Consenso Confindustria"
)
ROWS = [
    "Shevchenko;Oksana;14/09/1986;F;Kharkiv;Ucraina;;+380 67 245 1180;;Treviglio;ucraino, russo;laurea;"
    "contabile;B;A1;SI;SI",
    "Bondarenko;Taras;03/05/1979;M;Odesa;Ucraina;;3405512987;;Treviglio;ucraino;diploma;autista di autobus;D;A2;SI;SI",
    "Ferrari;Giulia Maria;22/11/1991;F;Bergamo;Italia;FRRGLM91S62A794K;3289076543;;Caravaggio;italiano;"
    "diploma;commessa;B;C2;SI;SI",
]


def readme_steps() -> dict[str, str]:
    steps = dict(STEP.findall(README.read_text(encoding="utf-8")))
    expected = {"databases", "server", "check-server", "init", "worker", "referral", "form-start", "form-answer"}
    assert expected <= set(steps), f"README steps missing: {expected - set(steps)}"
    return steps


@dataclass
class Operator:
    """A shell on a clean machine with the README's variables, and what it started."""

    tmp: Path
    env: dict[str, str]
    env_file: Path
    port: int
    logs: Path
    stack: Stack

    def script(self, step: str, steps: dict[str, str], replace: dict[str, str] | None = None) -> str:
        body = steps[step].replace("deploy/.env", str(self.env_file)).replace("/opt/incontro", str(PROJECT_ROOT))
        body = body.replace("--host 0.0.0.0 --port 4200", f"--host 127.0.0.1 --port {self.port}")
        for old, new in (replace or {}).items():
            body = body.replace(old, new)
        return "set -euo pipefail\n" + body

    def run(
        self,
        step: str,
        steps: dict[str, str],
        timeout: float = 600,
        replace: dict[str, str] | None = None,
        **extra: str,
    ) -> str:
        """Run one README block to its end (it must exit 0); its output is kept in logs/."""
        done = subprocess.run(
            ["bash", "-c", self.script(step, steps, replace)],
            env={**self.env, **extra},
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        (self.logs / f"{step}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        assert done.returncode == 0, (
            f"README step {step} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout

    def start(self, step: str, steps: dict[str, str], name: str, **extra: str) -> None:
        """Start a long-running README block (server, worker) in the background."""
        log = open(self.logs / f"{name}.log", "ab")
        self.stack.processes.append(
            subprocess.Popen(
                ["bash", "-c", self.script(step, steps)],
                env={**self.env, **extra},
                cwd=self.tmp,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )


def _example_with(values: dict[str, str]) -> str:
    """secrets.example.env with the test's values: every key the test sets must be in it."""
    lines, seen = [], set()
    for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines():
        key = line.split("=", 1)[0] if "=" in line and not line.startswith("#") else None
        if key in values:
            line = f"{key}={shlex.quote(values[key])}"
            seen.add(key)
        lines.append(line)
    assert seen == set(values), f"secrets.example.env lacks {set(values) - seen}"
    return "\n".join(lines) + "\n"


@pytest.fixture
def admin() -> Iterator[object]:
    try:
        engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL NOT TESTED: no server at 127.0.0.1:5432 ({type(exc).__name__})")
    yield engine
    engine.dispose()


def _api(op: Operator, auth: str, path: str, body: dict[str, object] | None = None) -> object:
    url = f"http://127.0.0.1:{op.port}/api{path}"
    user, password = auth.split(":", 1)
    r = (
        httpx.post(url, json=body, auth=(user, password), timeout=10)
        if body is not None
        else httpx.get(url, auth=(user, password), timeout=10)
    )
    r.raise_for_status()
    return r.json()


def _wait(check: object, what: str, timeout: float, op: Operator) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(1)
    raise TimeoutError(f"timed out waiting for {what}; logs in {op.logs}")


def test_readme_bare_metal_path(tmp_path: Path, admin: object) -> None:
    started_at = time.monotonic()
    steps = readme_steps()
    suffix = uuid.uuid4().hex[:8]
    role, app_db, prefect_db = (
        f"incontro_readme_{suffix}",
        f"incontro_readme_{suffix}_app",
        f"incontro_readme_{suffix}_prefect",
    )
    password = secrets.token_urlsafe(18)
    auth = f"coordinamento:{secrets.token_urlsafe(18)}"
    port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    var = tmp_path / "var"
    var.mkdir()
    stack = Stack(var_dir=var, api_port=port, smtp_port=0)
    with MailSink(tmp_path / "mail") as sink:
        values = {
            "INCONTRO_DATABASE_URL": f"postgresql+psycopg://{role}:{password}@127.0.0.1:5432/{app_db}",
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{role}:{password}@127.0.0.1:5432/{prefect_db}",
            "INCONTRO_PREFECT_AUTH_STRING": auth,
            "INCONTRO_PORTAL_SECRET": secrets.token_urlsafe(24),
            "INCONTRO_DESK_SECRET_KEY": secrets.token_urlsafe(40),
            "INCONTRO_SMTP_USERNAME": "",
            "INCONTRO_SMTP_PASSWORD": "",
            # Loopback: the SMTP sink (no TLS) and the repository's .example partners, which
            # production refuses by design (tests/unit/test_production_settings.py).
            "INCONTRO_ENVIRONMENT": "development",
            "INCONTRO_PORTAL_BASE_URL": "http://127.0.0.1:8088",
            "INCONTRO_SMTP_HOST": "127.0.0.1",
            "INCONTRO_SMTP_PORT": str(sink.port),
            "INCONTRO_SMTP_STARTTLS": "false",
            "INCONTRO_HOME": str(PROJECT_ROOT),
            "INCONTRO_VAR_DIR": str(var),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_LOGGING_SETTINGS_PATH": str(PROJECT_ROOT / "config" / "prefect-logging.yml"),
        }
        env_file = tmp_path / "deploy.env"
        env_file.write_text(_example_with(values), encoding="utf-8")
        env_file.chmod(0o600)
        shell = {k: v for k, v in os.environ.items() if not k.startswith(("INCONTRO_", "PREFECT_", "PYTHONPATH"))}
        shell.update(
            PREFECT_HOME=str(tmp_path / "prefect-home"),  # nobody's profile: only what the README sets
            DB_HOST="127.0.0.1",
            DB_ROLE=role,
            DB_PASSWORD=password,
            DB_APP=app_db,
            DB_PREFECT=prefect_db,
        )
        op = Operator(tmp=tmp_path, env=shell, env_file=env_file, port=port, logs=logs, stack=stack)
        app = None
        try:
            op.run("databases", steps, timeout=120)
            op.start("server", steps, "server")
            server = stack.processes[-1]
            _wait(lambda: _healthy(port) or server.poll() is not None, "the Prefect server", 300, op)
            assert server.poll() is None, (logs / "server.log").read_text(errors="replace")[-3000:]
            op.run("check-server", steps, timeout=60)
            op.run("init", steps, timeout=900)
            op.run("init", steps, timeout=900)  # after every release: running it again is harmless
            deployment = _api(op, auth, "/deployments/name/referral/referral")
            assert "{{ $INCONTRO_HOME }}" in json.dumps(deployment["pull_steps"]), "resolved at deploy time"  # type: ignore[index]
            for n in ("1", "2"):
                op.start("worker", steps, f"worker-{n}", WORKER=n)

            received = tmp_path / "ricevuti" / "segnalazioni-treviglio-dicembre.csv"
            received.parent.mkdir()
            received.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("cp1252"))
            out = op.run("referral", steps, timeout=180, FILE=str(received), REFERRER="CARITAS-TRV")
            run_id = re.search(r"flow run ([0-9a-f-]{36})", out)
            assert run_id, out
            assert (var / "inbox" / "CARITAS-TRV" / received.name).is_file(), "the documented inbox"

            def on_a_worker() -> bool:
                text_ = "".join((logs / f"worker-{n}.log").read_text(errors="replace") for n in ("1", "2"))
                return f"flow run '{run_id[1]}'" in text_ or run_id[1] in text_

            _wait(on_a_worker, "the referral run on a worker", 600, op)
            first_run = time.monotonic() - started_at

            app = create_engine(values["INCONTRO_DATABASE_URL"])

            def count(state: str) -> int:
                with app.connect() as conn:
                    return int(
                        conn.execute(text('SELECT count(*) FROM "case" WHERE state = :s'), {"s": state}).scalar_one()
                    )

            _wait(lambda: count("intake_scheduled") == 3, "intake scheduled by trigger", 600, op)
            _wait(lambda: "referral_ack" in {m.kind for m in sink.messages}, "the acknowledgement", 120, op)

            up_to = (today() + timedelta(days=60)).isoformat()
            out = op.run("form-start", steps, timeout=180, OFFICE="CPI-TRV", UP_TO=up_to)
            form_run = re.search(r"flow run ([0-9a-f-]{36})", out)
            assert form_run, out
            _wait(lambda: _state(op, auth, form_run[1]) == "PAUSED", "the intake form to wait", 600, op)
            listing = subprocess.run(
                ["bash", "-c", f"set -a; . {env_file}; set +a; .venv/bin/incontro forms"],
                env=shell,
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert form_run[1] in listing.stdout, listing.stdout + listing.stderr
            with app.connect() as conn:
                codes = [
                    c
                    for (c,) in conn.execute(
                        text("SELECT code FROM \"case\" WHERE state = 'intake_scheduled' ORDER BY code")
                    )
                ]
            levels = ("listening", "reading", "interaction", "production", "writing")
            rows = [
                {
                    "case_code": code,
                    "present": True,
                    **dict.fromkeys(levels, "B1" if i == 0 else "A1"),
                    "occupations": ["9329"],
                    "consent_confindustria": True,
                }
                for i, code in enumerate(codes)
            ]
            answer = tmp_path / "risposte.json"
            answer.write_text(json.dumps({"results": rows}), encoding="utf-8")
            out = op.run("form-answer", steps, timeout=180, replace={"risposte.json": str(answer)}, RUN_ID=form_run[1])
            assert f"modulo {form_run[1]} inviato" in out
            _wait(lambda: _state(op, auth, form_run[1]) == "COMPLETED", "the answered form to finish", 600, op)
            assert count("literacy") == 2 and count("profile_ready") == 1
            print(
                f"\nREADME bare-metal path: nothing → first flow run on a worker {first_run:.0f} s; "
                f"whole path {time.monotonic() - started_at:.0f} s"
            )
        finally:
            stack.stop(grace=20)
            if app is not None:
                app.dispose()
            with admin.connect() as conn:  # type: ignore[attr-defined]
                for db in (app_db, prefect_db):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _state(op: Operator, auth: str, run_id: str) -> str | None:
    run = _api(op, auth, f"/flow_runs/{run_id}")
    state = run.get("state") if isinstance(run, dict) else None
    return state.get("type") if state else None
