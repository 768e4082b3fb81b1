"""``incontro follow-up``: the 180-day check of a hire, from the terminal.

``incontro follow-up --due`` lists the hires whose check has come (case code, CPI, due date);
``incontro follow-up BG-2026-000123 --outcome occupato|cessato|sconosciuto [--date GG/MM/AAAA]``
records one (tasks/outcomes.py: record_follow_up), which ends the case's last step and counts
in the retention KPI. Case codes and dates only, never personal data.
"""

from __future__ import annotations

import argparse
from datetime import date

from cli.main import CliError, _office, actor_name, out

#: What each --outcome word records, as the terminal says it back.
SAID = {
    "occupato": "ancora occupata a 180 giorni",
    "cessato": "non più occupata",
    "sconosciuto": "esito non verificabile (persona non rintracciata)",
}


def _day(text: str | None) -> date | None:
    """A date as operators type it (16/06/2027, 16.6.27, 2027-06-16), or None."""
    if not text:
        return None
    from tasks.files.tabular import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise CliError(f"data non valida: {exc}") from None


def cmd_follow_up(args: argparse.Namespace) -> int:
    """Record one hire's 180-day check, or list the checks that are due."""
    from sqlmodel import Session

    from models import clock
    from tasks.outcomes import FOLLOW_UP_CHOICES, FollowUpRefused, follow_ups_due, record_follow_up
    from tasks.runtime.db import get_engine

    if args.due:
        office = _office(args.office) if args.office else None
        with Session(get_engine()) as session:
            rows = follow_ups_due(session, as_of=clock.today(), office=office)
        out(f"{'pratica':<16} {'CPI':<8} {'assunzione':<10}  verifica entro il")
        for r in rows:
            started = r.started.strftime("%d/%m/%Y") if r.started else "—"
            due = r.due.strftime("%d/%m/%Y") if r.due else "—"
            out(f"{r.case_code:<16} {r.office_code or '—':<8} {started:<10}  {due}")
        out(f"({len(rows)} verifiche a 180 giorni da fare)")
        if rows:
            out("Per registrare: incontro follow-up <pratica> --outcome occupato|cessato|sconosciuto")
            out("(con --date GG/MM/AAAA il giorno della verifica o della cessazione)")
        return 0
    if not args.case or not args.outcome:
        raise CliError("indicare la pratica e --outcome occupato|cessato|sconosciuto (oppure --due per l'elenco)")
    kind = FOLLOW_UP_CHOICES[args.outcome]
    on = _day(args.date)
    actor = actor_name(args.actor)
    with Session(get_engine()) as session:
        try:
            outcome = record_follow_up(session, args.case, kind, on=on, actor=actor)
        except FollowUpRefused as exc:
            session.rollback()
            raise CliError(str(exc)) from None
        day = outcome.observed_on
        session.commit()
    when = f" il {day:%d/%m/%Y}" if day else ""
    out(f"pratica {args.case}: {SAID[args.outcome]}{when}, registrato a nome di {actor}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``incontro follow-up`` to the main parser."""
    p = sub.add_parser("follow-up", help="verifica a 180 giorni di un'assunzione / 180-day check of a hire")
    p.add_argument("case", nargs="?", help="codice pratica, es. BG-2026-000123")
    p.add_argument(
        "--outcome",
        choices=sorted(SAID),
        help="occupato = ancora occupata, cessato = non più occupata, sconosciuto = non rintracciata",
    )
    p.add_argument("--date", help="giorno della verifica o della cessazione (GG/MM/AAAA); predefinito oggi")
    p.add_argument("--due", action="store_true", help="elenca le verifiche da fare")
    p.add_argument("--office", help="con --due: solo questo CPI, es. CPI-BG")
    p.add_argument("--actor", help="chi registra (predefinito: l'utente del sistema)")
    p.set_defaults(fn=cmd_follow_up)
