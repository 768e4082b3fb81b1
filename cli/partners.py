"""``incontro partner-link ORG [--days N] [--email]``: the signed link of a referring organisation.

The link opens the organisation's pages at ``/segnalazioni/`` (one person per referral form, the
status of its referrals; portal/partners). Printed for the coordinator to hand over, or, with
``--email``, queued to the organisation's own address in config/organisations.yaml (the outbox
sends it at the next drain: every stage run and the maintenance sweep). Only organisation codes
and dates are printed with ``--email``: the credential travels by email only.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cli.main import CliError, actor_name, out

MAX_DAYS = 365


def cmd_partner_link(args: argparse.Namespace) -> int:
    """Sign the organisation's link; print it, or queue it to the organisation's address."""
    import time

    from config.data import load_organisations
    from tasks.mail.links import PARTNER_LINK_TTL_DAYS, partner_url
    from tasks.referral.feedback import REFERRING

    code = args.org_code.strip().upper()
    org = next((o for o in load_organisations() if o.code == code), None)
    if org is None:
        raise CliError(f"ente «{code}» sconosciuto (config/organisations.yaml)")
    if org.kind not in REFERRING:
        raise CliError(f"«{code}» non è un ente che segnala persone: il link vale solo per Caritas, ambiti, "
                       "associazioni e CPIA")  # fmt: skip
    days = args.days or PARTNER_LINK_TTL_DAYS
    if not 1 <= days <= MAX_DAYS:
        raise CliError(f"--days deve essere tra 1 e {MAX_DAYS}")
    now = time.time()
    url = partner_url(code, now=now, ttl_days=days)
    expires = datetime.fromtimestamp(now + days * 86400, tz=UTC)
    if not args.email:
        out(url)
        out(f"Link di {code}, valido fino al {expires:%d/%m/%Y}: consegnatelo solo all'ente.")
        return 0
    _queue(code, org.name, org.email, url, expires, actor_name(args.actor), int(now))
    out(f"Link di {code} (valido fino al {expires:%d/%m/%Y}) in coda per l'indirizzo dell'ente: parte al "
        "prossimo invio della posta (al più tardi con la manutenzione, ogni 5 minuti).")  # fmt: skip
    return 0


def _queue(code: str, name: str, email: str, url: str, expires: datetime, actor: str, issued: int) -> None:
    from models import clock
    from tasks.core.audit import audit_read
    from tasks.mail.outbox import enqueue_email
    from tasks.runtime.db import session_scope

    with session_scope() as session:
        enqueue_email(
            session,
            key=f"partner_link:{code}:{issued}",
            kind="partner_link",
            recipient=email,
            recipient_code=code,
            context={"referrer_name": name, "link": url, "expires_on": clock.in_rome(expires).date()},
        )
        audit_read(session, actor=actor, case_code=None, purpose=f"link delle segnalazioni inviato a {code}",
                   action="partner_link")  # fmt: skip


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("partner-link", help="link delle pagine di un ente segnalante / a partner's signed link")
    p.add_argument("org_code", help="codice dell'ente (config/organisations.yaml), es. CARITAS-BG")
    p.add_argument("--days", type=int, default=None, help="giorni di validità (predefinito 90)")
    p.add_argument("--email", action="store_true", help="invia il link all'indirizzo dell'ente invece di stamparlo")
    p.add_argument("--actor", default=None, help="chi invia (per il registro degli accessi)")
    p.set_defaults(fn=cmd_partner_link)
