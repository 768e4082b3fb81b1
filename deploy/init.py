"""After every release, once: migrate the application database, create or update the work pool,
register every deployment. ``python -m deploy.init`` (compose's ``init`` service, the Kubernetes
Job, the bare-metal README) — safe to run again at any time.

Each step is idempotent: Alembic applies only missing migrations, ``work-pool create
--overwrite`` updates an existing pool, ``prefect deploy`` updates deployments in place. A step
that fails stops the job with a non-zero exit (nothing is hidden behind ``|| true``).

``INCONTRO_HOME`` is removed from the environment of ``prefect deploy``: the pull step in
``deploy/prefect.yaml`` keeps its ``{{ $INCONTRO_HOME }}`` placeholder and each worker resolves
it to its own checkout when it starts a flow run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence

import httpx

from config.settings import PROJECT_ROOT

POOL = "incontro"


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def wait_for_server(api_url: str, timeout: float) -> None:
    """Wait until the Prefect server answers its health check (a fresh cluster starts slowly)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{api_url.rstrip('/')}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() >= deadline:
            raise TimeoutError(f"il server Prefect ({api_url}) non risponde dopo {timeout:.0f} s")
        time.sleep(2)


def _prefect(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "prefect", *args], env=env, cwd=PROJECT_ROOT, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"`prefect {' '.join(args[:3])}` è terminato con codice {done.returncode}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.init", description=__doc__.split("\n\n")[0])
    parser.add_argument("--wait", type=float, default=120, help="secondi di attesa del server Prefect (120)")
    args = parser.parse_args(argv)

    from config.settings import SettingsError, checked_settings
    from tasks.runtime.db import migrate
    from tasks.runtime.logfilter import LOGGING_CONFIG_PATH, LOGGING_ENV

    api_url = os.environ.get("PREFECT_API_URL", "")
    if not api_url:
        # Without it `prefect deploy` starts a temporary server of its own and deploys there.
        sys.stderr.write("errore: impostare PREFECT_API_URL (es. http://prefect.interno:4200/api)\n")
        return 2
    try:
        settings = checked_settings()
    except SettingsError as exc:
        sys.stderr.write("Configurazione non valida:\n" + "".join(f"  - {p}\n" for p in exc.problems))
        return 2
    env = {k: v for k, v in os.environ.items() if k != "INCONTRO_HOME"}
    env.setdefault(LOGGING_ENV, str(LOGGING_CONFIG_PATH))
    if settings.prefect_auth_string is not None:  # the server demands it from every client
        env.setdefault("PREFECT_API_AUTH_STRING", settings.prefect_auth_string.get_secret_value())
    try:
        _say("1/3 database dell'applicazione: migrazioni")
        try:
            migrate()
        except Exception as exc:  # the database's own words (host, role), never the URL's password
            first = str(getattr(exc, "orig", exc)).strip().splitlines()[:1]
            raise RuntimeError(f"migrazioni non riuscite: {type(exc).__name__}: {' '.join(first)}") from None
        _say(f"2/3 work pool «{POOL}»: creazione o aggiornamento")
        wait_for_server(api_url, args.wait)
        _prefect("work-pool", "create", POOL, "--type", "process", "--overwrite", env=env)
        _say("3/3 deployment da deploy/prefect.yaml")
        _prefect("--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml", env=env)
    except (RuntimeError, TimeoutError) as exc:
        sys.stderr.write(f"errore: {exc}\n")
        return 1
    _say("fatto: i worker possono partire")
    return 0


if __name__ == "__main__":
    sys.exit(main())
