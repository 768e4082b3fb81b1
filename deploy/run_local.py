"""``make serve``: the long-running single-machine mode.

Prefect server with the UI on http://127.0.0.1:4200 (``INCONTRO_PREFECT_API_URL``, the address the
command line looks for; state in var/prefect), every deployment
served with its schedules and triggers, and either the local SMTP sink (var/mail) or the relay
configured in settings (INCONTRO_SMTP_HOST/PORT/...). Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import ExitStack
from urllib.parse import urlsplit

from config.settings import PROJECT_ROOT, get_settings


def main() -> int:
    settings = get_settings()
    var = settings.var_dir if settings.var_dir.is_absolute() else PROJECT_ROOT / settings.var_dir
    from deploy.stack import local_stack, port_free

    api_port = urlsplit(settings.prefect_api_url).port or 4200  # where `incontro` looks for it
    if not port_free(api_port):
        sys.stderr.write(f"errore: la porta {api_port} è occupata (un altro `make serve`/`make demo`?)\n")
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ExitStack() as stack:
        smtp_port = settings.smtp_port
        if settings.smtp_host in {"127.0.0.1", "localhost"} and settings.environment != "production":
            from tasks.mail.smtp_sink import MailSink

            sink = stack.enter_context(MailSink(var / "mail"))
            smtp_port = sink.port
            relay = f"SMTP sink 127.0.0.1:{sink.port} → {var / 'mail'}"
        else:
            relay = f"SMTP relay {settings.smtp_host}:{settings.smtp_port}"
        running = stack.enter_context(
            local_stack(var, api_port=api_port, smtp_port=smtp_port, smtp_host=settings.smtp_host)
        )
        from portal.server import running_portal  # imported now: Prefect settings follow the stack

        stack.enter_context(running_portal())
        sys.stdout.write(
            f"Incontro in esecuzione – UI {running.ui_url} · {relay}\nlog: {var / 'logs'} · Ctrl-C per fermare\n"
        )
        sys.stdout.flush()
        stop.wait()
        sys.stdout.write("arresto in corso…\n")
        sys.stdout.flush()
    for what in running.forced:
        sys.stdout.write(f"arresto forzato: {what}\n")
    sys.stdout.write("Incontro fermato: moduli e email in coda restano salvati e ripartono al prossimo avvio.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
