"""Start a Prefect worker only with settings a flow run can use: ``python -m deploy.worker --pool
incontro --limit 4`` (compose, Kubernetes and the bare-metal README start workers this way).

A plain ``prefect worker start`` with a placeholder secret or a demo SMTP relay starts anyway and
fails every flow run it picks up, printing pydantic's error (which quoted the secrets) into the
run logs. Here the settings are checked first: on a problem the worker says in Italian which
setting is wrong, never its value, and exits 2 so compose and Kubernetes show it as failing.
The redacting logging configuration is set for the worker and every flow run it starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    """Check the settings, then become ``prefect worker start <argv>`` (same process id)."""
    from config.settings import PROJECT_ROOT, SettingsError, checked_settings
    from tasks.runtime.logfilter import LOGGING_CONFIG_PATH, LOGGING_ENV

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = checked_settings()
    except SettingsError as exc:
        sys.stderr.write("Il worker non parte: configurazione non valida.\n")
        for problem in exc.problems:
            sys.stderr.write(f"  - {problem}\n")
        return 2
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():  # else Prefect would start a temporary server of its own
        sys.stderr.write("Il worker non parte: impostare PREFECT_API_URL (es. http://prefect.interno:4200/api).\n")
        return 2
    os.environ.setdefault(LOGGING_ENV, str(LOGGING_CONFIG_PATH))
    if settings.prefect_auth_string is not None:  # the server demands it from every client
        os.environ.setdefault("PREFECT_API_AUTH_STRING", settings.prefect_auth_string.get_secret_value())
    try:  # the data directory and the partners' inbox, writable, or a clear refusal now
        (settings.var_dir / "inbox").mkdir(parents=True, exist_ok=True)
        probe = settings.var_dir / f".scrivibile-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError:
        sys.stderr.write(
            f"Il worker non parte: INCONTRO_VAR_DIR ({settings.var_dir}) non è scrivibile "
            f"dall'utente del servizio (uid {os.getuid()}).\n"
        )
        return 2
    home = os.environ.setdefault("INCONTRO_HOME", str(PROJECT_ROOT))  # read by each flow run's pull step
    if not (Path(home) / "flows").is_dir():
        sys.stderr.write("Il worker non parte: INCONTRO_HOME non contiene la release (cartella flows/ assente).\n")
        return 2
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "prefect", "worker", "start", *args])  # noqa: S606
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
