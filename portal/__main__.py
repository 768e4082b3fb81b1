"""``python -m portal [--host 127.0.0.1] [--port 8088]``: the portal in the foreground.

In production run it behind a reverse proxy that terminates TLS, with
``INCONTRO_ENVIRONMENT=production``, ``INCONTRO_PORTAL_SECRET`` (the same value as the
processes running the dispatch flow), ``INCONTRO_PORTAL_BASE_URL`` (the public https address)
and ``PREFECT_API_URL`` (answers trigger the interest flow through a Prefect event).
"""

from __future__ import annotations

import argparse
import sys

import uvicorn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal", description="Portale risposte delle aziende")
    parser.add_argument("--host", default="127.0.0.1", help="indirizzo di ascolto (predefinito 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=None, help="porta (predefinita: quella di INCONTRO_PORTAL_BASE_URL)"
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxy fidati da cui accettare X-Forwarded-For/-Proto (predefinito 127.0.0.1)",
    )
    parser.add_argument(
        "--root-path", default="", help="prefisso del percorso se il proxy pubblica il portale in una sottocartella"
    )
    args = parser.parse_args(argv)

    from prefect.settings import PREFECT_API_URL
    from pydantic import ValidationError

    from config.settings import get_settings
    from portal.server import make_config
    from tasks.mail.links import PortalKeyError, portal_key

    try:
        get_settings()
        portal_key()  # fail now, not at the first company's click
    except ValidationError as exc:
        for error in exc.errors():
            sys.stderr.write(f"errore di configurazione: {error['msg']}\n")
        return 2
    except PortalKeyError as exc:
        sys.stderr.write(f"errore: {exc}\n")
        return 2
    if not PREFECT_API_URL.value():
        if get_settings().environment == "production":
            sys.stderr.write("errore: impostare PREFECT_API_URL: le risposte devono avviare il flusso «interest»\n")
            return 2
        sys.stderr.write(
            "attenzione: PREFECT_API_URL non impostato: le risposte saranno registrate ma il flusso "
            "«interest» non partirà da solo\n"
        )
    config = make_config(args.host, args.port, forwarded_allow_ips=args.forwarded_allow_ips, root_path=args.root_path)
    sys.stdout.write(f"Portale aziende su http://{config.host}:{config.port} · Ctrl-C per fermare\n")
    sys.stdout.flush()
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
