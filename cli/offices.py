"""``incontro office-queue`` and ``incontro assign-office``: the coordinators' queue "CPI da assegnare".

Cases whose comune names no CPI wait REFERRED with the next step ``assign_office``
(tasks/referral/offices.py). The terminal shows case codes, office codes, reasons and dates,
never a comune as written nor any other personal data: the coordinator reads those in the
case management system, then assigns the office here.
"""

from __future__ import annotations

import argparse

from cli.main import CliError, actor_name, out

LIST_LIMIT = 200


def cmd_queue(args: argparse.Namespace) -> int:
    """The cases waiting for a CPI, oldest due first, with the reason in words."""
    from sqlmodel import Session

    from tasks.referral.offices import waiting_for_office
    from tasks.runtime.db import get_engine

    if args.limit < 1:
        raise CliError("--limit deve essere almeno 1")
    with Session(get_engine()) as session:
        rows = waiting_for_office(session, limit=args.limit)
    out(f"{'pratica':<16} {'entro il':<10}  motivo")
    for r in rows:
        due = r.due.strftime("%d/%m/%Y") if r.due else "—"
        out(f"{r.code:<16} {due:<10}  {r.label}")
    out(f"({len(rows)} pratiche in attesa di un CPI)")
    if rows:
        out("Per assegnare: incontro assign-office <pratica> --office CPI-XX")
    return 0


def _announce_ready() -> bool:
    """Point Prefect at the running server so the intake event reaches it; False when none answers."""
    from cli.connect import ServerNotFound, connect_prefect

    try:
        connect_prefect()
    except ServerNotFound:
        return False
    return True


def cmd_assign(args: argparse.Namespace) -> int:
    """Assign the CPI to a waiting case; the case is accepted and goes on to intake scheduling."""
    from sqlmodel import Session

    from cli.main import _office
    from models.enums import State
    from tasks.referral.offices import AssignRefused, assign_office
    from tasks.runtime.db import get_engine
    from tasks.runtime.events import discard_pending

    office = _office(args.office)
    actor = actor_name(args.actor)
    online = _announce_ready()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            reached = assign_office(session, args.case, office, actor=actor)
        except AssignRefused as exc:
            session.rollback()
            raise CliError(str(exc)) from None
        if not online:
            discard_pending(session)  # nobody to tell: the sweep schedules accepted cases anyway
        session.commit()
    if reached is State.ACCEPTED:
        out(f"pratica {args.case} assegnata a {office} e accettata, registrato a nome di {actor}.")
        when = "a breve" if online else "al prossimo giro di controllo (entro 5 minuti dal ritorno del server Prefect)"
        out(f"Il colloquio di presa in carico sarà programmato {when}.")
    else:
        out(f"pratica {args.case} scartata: manca il consenso al trattamento dei dati (CPI {office} registrato).")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``incontro office-queue`` and ``incontro assign-office`` to the main parser."""
    p = sub.add_parser("office-queue", help="pratiche in attesa di un CPI / cases waiting for an office")
    p.add_argument("--limit", type=int, default=LIST_LIMIT, help=f"quante (predefinito {LIST_LIMIT})")
    p.set_defaults(fn=cmd_queue)
    p = sub.add_parser("assign-office", help="assegna il CPI a una pratica in attesa / assign an office")
    p.add_argument("case", help="codice pratica, es. BG-2026-000123")
    p.add_argument("--office", required=True, help="CPI, es. CPI-PSP")
    p.add_argument("--actor", help="chi assegna (predefinito: l'utente del sistema)")
    p.set_defaults(fn=cmd_assign)
