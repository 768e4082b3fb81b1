"""``incontro vacancy-queue`` and ``incontro assign-company``: positions waiting for their company.

A vacancy file may name a company that the member registry does not know, or two companies
alike (tasks/files/companies.py): the position is stored with status ``awaiting_company``
(tasks/vacancies.py) and Confindustria is asked which company it is. The queue shows vacancy
codes, import numbers, the company as the file wrote it (a business name), the reason and the
registry codes it may be; never a candidate. Assigning a company opens the position (or closes
it, when its deadline has passed) and starts the matching of its file again.
"""

from __future__ import annotations

import argparse

from cli.main import CliError, actor_name, out

LIST_LIMIT = 200
_COMPANY_SHOWN = 40  # characters of the company as written, in the queue


def cmd_queue(args: argparse.Namespace) -> int:
    """The positions waiting for a company, oldest first, with the reason in words."""
    from sqlmodel import Session

    from tasks.files.tabular import safe_value
    from tasks.runtime.db import get_engine
    from tasks.vacancies import waiting_for_company

    if args.limit < 1:
        raise CliError("--limit deve essere almeno 1")
    with Session(get_engine()) as session:
        rows = waiting_for_company(session, limit=args.limit)
    out(f"{'posizione':<16} {'import':>6}  {'scadenza':<10}  {'azienda nel file':<{_COMPANY_SHOWN}}  motivo")
    for r in rows:
        due = r.valid_until.strftime("%d/%m/%Y") if r.valid_until else "—"
        company = safe_value(r.company_written)[:_COMPANY_SHOWN] or "—"
        hint = f" (forse: {', '.join(r.suggestions)})" if r.suggestions else ""
        out(f"{r.code:<16} {r.import_id or '—':>6}  {due:<10}  {company:<{_COMPANY_SHOWN}}  {r.reason}{hint}")
    out(f"({len(rows)} posizioni in attesa dell'azienda)")
    if rows:
        out("Per assegnare: incontro assign-company <posizione> --company COMP-XXX")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    """Assign the member company to a waiting position."""
    from sqlmodel import Session

    from cli.offices import _announce_ready
    from models.enums import VacancyStatus
    from tasks.runtime.db import get_engine
    from tasks.runtime.events import discard_pending
    from tasks.vacancies import AssignRefused, assign_company

    company = args.company.strip().upper()
    actor = actor_name(args.actor)
    online = _announce_ready()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            vacancy = assign_company(session, args.vacancy.strip().upper(), company, actor=actor)
        except AssignRefused as exc:
            session.rollback()
            raise CliError(str(exc)) from None
        if not online:
            discard_pending(session)
        session.commit()
    if vacancy.status != VacancyStatus.OPEN:
        out(f"posizione {vacancy.code} assegnata a {company}, ma chiusa: la scadenza è già passata.")
        return 0
    out(f"posizione {vacancy.code} assegnata a {company}, registrato a nome di {actor}.")
    if online:
        out("L'abbinamento con i candidati partirà a breve.")
    else:
        params = f'{{"import_id": {vacancy.import_file_id or 0}}}'
        out(f"Server Prefect non raggiungibile: avviare l'abbinamento con: incontro run matching --params '{params}'")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``incontro vacancy-queue`` and ``incontro assign-company`` to the main parser."""
    p = sub.add_parser("vacancy-queue", help="posizioni in attesa dell'azienda / vacancies waiting for a company")
    p.add_argument("--limit", type=int, default=LIST_LIMIT, help=f"quante (predefinito {LIST_LIMIT})")
    p.set_defaults(fn=cmd_queue)
    p = sub.add_parser("assign-company", help="assegna l'azienda a una posizione / assign a company to a vacancy")
    p.add_argument("vacancy", help="codice posizione, es. VAC-0007-0003")
    p.add_argument("--company", required=True, help="codice azienda, es. COMP-GOMMA-ISOLA")
    p.add_argument("--actor", help="chi assegna (predefinito: l'utente del sistema)")
    p.set_defaults(fn=cmd_assign)
