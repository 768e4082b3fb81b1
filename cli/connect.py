"""Find the Prefect server the command line talks to, before Prefect is imported.

Without ``PREFECT_API_URL`` Prefect's default profile starts a *temporary* server of its own
(another SQLite database, left running after the command ends). An operator in a new terminal
means the server of ``make serve``: take ``PREFECT_API_URL`` if set, else
``INCONTRO_PREFECT_API_URL`` (default ``http://127.0.0.1:4200/api``), check that it answers,
and never let Prefect start one.
"""

from __future__ import annotations

import os
import sys

import httpx

from config.settings import get_settings

START_HINT = "avviarlo in un altro terminale con `make serve`, oppure indicare l'indirizzo in PREFECT_API_URL"


class ServerNotFound(Exception):
    """No Prefect server answers at the configured address (message in Italian)."""


def _active_prefect_url() -> str | None:
    """The API URL of Prefect settings already active in this process (tests, embedding code)."""
    if "prefect.settings" not in sys.modules:
        return None
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def connect_prefect(timeout: float = 3.0) -> str:
    """Point this process's Prefect client at a running server and return its API URL."""
    settings = get_settings()
    url = (os.environ.get("PREFECT_API_URL") or _active_prefect_url() or settings.prefect_api_url).rstrip("/")
    os.environ["PREFECT_API_URL"] = url
    os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"  # overrides the "ephemeral" profile
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    if settings.prefect_auth_string is not None:
        os.environ.setdefault("PREFECT_API_AUTH_STRING", settings.prefect_auth_string.get_secret_value())
    try:
        response = httpx.get(f"{url}/health", timeout=timeout)
    except httpx.HTTPError:
        raise ServerNotFound(f"nessun server Prefect risponde su {url}: {START_HINT}") from None
    if response.status_code == 401:
        raise ServerNotFound(f"il server Prefect su {url} rifiuta l'accesso: impostare INCONTRO_PREFECT_AUTH_STRING")
    if response.status_code != 200:
        raise ServerNotFound(
            f"il server Prefect su {url} non è pronto (HTTP {response.status_code}): riprovare tra poco"
        )
    return url
