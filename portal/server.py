"""Run the portal with uvicorn: in a background thread (``make serve``, tests) or in the foreground."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import uvicorn

from config.settings import get_settings
from portal.app import create_app


def default_port() -> int:
    """The port of ``INCONTRO_PORTAL_BASE_URL`` when it points at this machine, else 8088."""
    parts = urlsplit(get_settings().portal_base_url)
    return parts.port or 8088 if parts.hostname in {"127.0.0.1", "localhost"} else 8088


def make_config(
    host: str = "127.0.0.1", port: int | None = None, *, forwarded_allow_ips: str = "127.0.0.1", root_path: str = ""
) -> uvicorn.Config:
    """uvicorn settings: client address from the proxy's X-Forwarded-For only when it is trusted."""
    return uvicorn.Config(
        create_app(),
        host=host,
        port=port or default_port(),
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        root_path=root_path,
        server_header=False,
        date_header=False,
        lifespan="off",
        log_level="warning",
    )


@dataclass
class PortalServer:
    """A portal running in a daemon thread of this process."""

    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.server.config.host}:{self.server.config.port}"

    def stop(self, timeout: float = 10) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start_portal(host: str = "127.0.0.1", port: int | None = None, timeout: float = 20) -> PortalServer:
    """Start the portal in a background thread and wait until it accepts connections."""
    server = uvicorn.Server(make_config(host, port))
    # The server runs in a copy of the caller's context: a Prefect settings context entered by
    # the caller (``make serve``, tests pointing at a live stack) also addresses the events the
    # portal emits; Prefect otherwise keeps the settings it read when first imported.
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(server.run,), name="incontro-portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"il portale non è partito su {host}:{server.config.port} (porta occupata?)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError("il portale non ha risposto in tempo")
        time.sleep(0.05)
    return PortalServer(server, thread)


@contextmanager
def running_portal(host: str = "127.0.0.1", port: int | None = None) -> Iterator[PortalServer]:
    """``with running_portal(port=8088) as portal: ...`` — stopped when the block ends."""
    portal = start_portal(host, port)
    try:
        yield portal
    finally:
        portal.stop()
