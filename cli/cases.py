"""``incontro close``: an operator closes cases with a typed reason (issue 18, tasks/core/closure.py).

The terminal shows case codes and the reason's Italian label only; the note (which may name the
person's circumstances) goes to the audit log, and the referrer is told by email.
"""

from __future__ import annotations

import argparse

from cli.main import CliError, actor_name, out

#: The reason codes for ``--help`` (written out: building the parser must not load the database
#: layer; tests/unit/test_closure.py checks they are tasks.core.closure.OPERATOR_REASONS).
REASON_CODES = ("moved_away", "found_job_alone", "not_reachable", "not_interested", "no_show_repeated", "other")


def _prefect_reachable() -> bool:
    """Point Prefect at the running server so the closure events reach it; False when none answers."""
    from cli.connect import ServerNotFound, connect_prefect

    try:
        connect_prefect()
    except ServerNotFound:
        return False
    return True


def cmd_close(args: argparse.Namespace) -> int:
    """Close the cases, audit who did it and why, queue the referrers' emails (one transaction)."""
    from sqlmodel import Session

    from models.state_machine import ConcurrentTransition
    from tasks.core.closure import CLOSURE_LABELS, ClosureRefused, close_cases, parse_reason
    from tasks.mail.closure_notice import tell_referrers
    from tasks.runtime.db import get_engine
    from tasks.runtime.events import discard_pending

    actor = actor_name(args.actor)
    try:
        reason = parse_reason(args.reason)
    except ClosureRefused as exc:
        raise CliError(str(exc)) from None
    online = _prefect_reachable()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            closed = close_cases(session, args.cases, reason, note=args.note, actor=actor)
        except (ClosureRefused, ConcurrentTransition) as exc:
            session.rollback()
            raise CliError(str(exc)) from None
        told = tell_referrers(session, closed)
        if not online:
            discard_pending(session)  # no stage waits for a closure: nothing is lost
        session.commit()
    label = CLOSURE_LABELS[reason]
    counted = "1 pratica chiusa" if len(closed) == 1 else f"{len(closed)} pratiche chiuse"
    out(f"{counted} ({label}), registrato a nome di {actor}: {', '.join(closed)}")
    if told:
        emails = "1 email" if told == 1 else f"{told} email"
        out(f"{emails} di avviso agli enti che avevano segnalato, in partenza al prossimo invio della posta.")
    else:
        out("Nessun ente segnalante da avvisare (manca il consenso della persona o l'indirizzo dell'ente).")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``incontro close`` to the main parser."""
    p = sub.add_parser("close", help="chiude pratiche con un motivo / close cases with a reason")
    p.add_argument("cases", nargs="+", metavar="PRATICA", help="codici pratica, es. BG-2026-000123")
    p.add_argument(
        "--reason", required=True, help=f"motivo: uno di {', '.join(REASON_CODES)} (o la sua descrizione in italiano)"
    )
    p.add_argument("--note", help="nota (obbligatoria con il motivo «other»); resta nel registro, non nei log")
    p.add_argument("--actor", help="chi chiude (predefinito: l'utente del sistema)")
    p.set_defaults(fn=cmd_close)
