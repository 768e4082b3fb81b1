"""``incontro vacancy-queue`` and ``incontro assign-company``: positions waiting for their company.

A vacancy file may name a company that the member registry does not know, or two companies
alike (tasks/files/companies.py): the position is stored with status ``awaiting_company``
(tasks/vacancies.py) and Confindustria is asked which company it is. The queue shows vacancy
codes, import numbers, the company as the file wrote it (a business name), the reason and the
registry codes it may be; never a candidate. Assigning a company opens the position (or closes
it, when its deadline has passed) and starts the matching of its file again.

``incontro occupation-queue`` and ``incontro confirm-occupation``: open positions whose occupation
code the coder was unsure of (tasks/matching/vacancy_codes.py). The queue shows the job title as the
company wrote it, the code the position is matched on now, the coder's confidence, why it is unsure
and its three proposals with their Italian names; confirming (or replacing) the code is audited and,
when the code changes, starts the matching of the position's file again.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TypeVar

from cli.main import CliError, actor_name, out

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlmodel import Session

    from tasks.matching.vacancy_codes import UnsureVacancy

T = TypeVar("T")

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
    from models.enums import VacancyStatus
    from tasks.vacancies import AssignRefused, assign_company

    company = args.company.strip().upper()
    actor = actor_name(args.actor)
    vacancy, online = _change(
        lambda session: assign_company(session, args.vacancy.strip().upper(), company, actor=actor), AssignRefused
    )
    if vacancy.status != VacancyStatus.OPEN:
        out(f"posizione {vacancy.code} assegnata a {company}, ma chiusa: la scadenza è già passata.")
        return 0
    out(f"posizione {vacancy.code} assegnata a {company}, registrato a nome di {actor}.")
    if online:
        out("L'abbinamento con i candidati partirà a breve.")
    else:
        out(_matching_by_hand(vacancy.import_file_id))
    return 0


def _change(change: Callable[[Session], T], refused: type[Exception]) -> tuple[T, bool]:
    """``change`` in one transaction (its refusal an Italian error, nothing written); the events it
    queues go to Prefect only when Prefect answers. Returns what it returned and whether it did."""
    from sqlmodel import Session

    from cli.offices import _announce_ready
    from tasks.runtime.db import get_engine
    from tasks.runtime.events import discard_pending

    online = _announce_ready()
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            done = change(session)
        except refused as exc:
            session.rollback()
            raise CliError(str(exc)) from None
        if not online:
            discard_pending(session)
        session.commit()
    return done, online


def _matching_by_hand(import_id: int | None) -> str:
    params = f'{{"import_id": {import_id or 0}}}'
    return f"Server Prefect non raggiungibile: avviare l'abbinamento con: incontro run matching --params '{params}'"


def cmd_occupation_queue(args: argparse.Namespace) -> int:
    """The open positions whose occupation code is unsure, oldest first, with the coder's proposals."""
    from sqlmodel import Session

    from tasks.matching.vacancy_codes import unsure_occupations
    from tasks.runtime.db import get_engine

    if args.limit < 1:
        raise CliError("--limit deve essere almeno 1")
    with Session(get_engine()) as session:
        rows = unsure_occupations(session, limit=args.limit)
    if args.json:
        out(json.dumps([_occupation_json(r) for r in rows], ensure_ascii=False, indent=2))
        return 0
    from tasks.files.tabular import safe_value

    out(f"{'posizione':<16} {'import':>6}  {'scadenza':<10}  {'codice':<6}  {'sicurezza':>9}  professione attuale")
    for r in rows:
        due = r.valid_until.strftime("%d/%m/%Y") if r.valid_until else "—"
        sure = f"{r.confidence:.0f}" if r.confidence is not None else "—"
        label = r.occupation_label[:_LABEL_SHOWN]
        out(f"{r.code:<16} {r.import_id or '—':>6}  {due:<10}  {r.occupation_code or '—':<6}  {sure:>9}  {label}")
        out(f"{'':<18}titolo nel file: «{safe_value(r.title)}»")
        if r.doubt:
            out(f"{'':<18}perché è incerto: {r.doubt}")
        proposals = "; ".join(f"{c.code} {c.label[:_LABEL_SHOWN]} ({c.score:.0f})" for c in r.candidates)
        out(f"{'':<18}proposte: {proposals or 'nessuna'}")
    out(f"({len(rows)} {'posizione' if len(rows) == 1 else 'posizioni'} con la professione da confermare)")
    if rows:
        out("Per confermare o correggere: incontro confirm-occupation <posizione> --code NNNN")
    return 0


_LABEL_SHOWN = 50  # characters of an occupation's Italian name, in the queue


def _occupation_json(r: UnsureVacancy) -> dict[str, Any]:
    """One position of ``occupation-queue --json`` (the shape the README documents)."""
    return {
        "vacancy": r.code,
        "import_id": r.import_id,
        "company": r.company_code,
        "valid_until": r.valid_until.isoformat() if r.valid_until else None,
        "title": r.title,
        "code": r.occupation_code,
        "label": r.occupation_label,
        "confidence": r.confidence,
        "doubt": r.doubt,
        "candidates": [{"code": c.code, "label": c.label, "score": c.score} for c in r.candidates],
    }


def cmd_confirm_occupation(args: argparse.Namespace) -> int:
    """Confirm or replace a position's occupation code; a new code starts its matching again."""
    from tasks.matching.vacancy_codes import ConfirmRefused, confirm_occupation, occupation_name

    actor = actor_name(args.actor)
    done, online = _change(
        lambda session: confirm_occupation(session, args.vacancy.strip().upper(), args.code, actor=actor),
        ConfirmRefused,
    )

    vacancy = done.vacancy
    now = f"{vacancy.occupation_code} {occupation_name(vacancy.occupation_code)}"
    if done.changed:
        before = f"{done.before} {occupation_name(done.before)}" if done.before else "nessuna"
        out(f"posizione {vacancy.code}: professione cambiata da {before} a {now}, registrato a nome di {actor}.")
    else:
        out(f"posizione {vacancy.code}: professione {now} confermata, registrato a nome di {actor}.")
    if done.rematch and online:
        out("Il nuovo abbinamento con i candidati partirà a breve.")
    elif done.rematch:
        out(_matching_by_hand(vacancy.import_file_id))
    elif done.changed and done.decided:
        out("La graduatoria di questa posizione era già stata approvata e inviata: resta quella inviata.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``incontro vacancy-queue``, ``assign-company``, ``occupation-queue`` and
    ``confirm-occupation`` to the main parser."""
    p = sub.add_parser("vacancy-queue", help="posizioni in attesa dell'azienda / vacancies waiting for a company")
    p.add_argument("--limit", type=int, default=LIST_LIMIT, help=f"quante (predefinito {LIST_LIMIT})")
    p.set_defaults(fn=cmd_queue)
    p = sub.add_parser("assign-company", help="assegna l'azienda a una posizione / assign a company to a vacancy")
    p.add_argument("vacancy", help="codice posizione, es. VAC-0007-0003")
    p.add_argument("--company", required=True, help="codice azienda, es. COMP-GOMMA-ISOLA")
    p.add_argument("--actor", help="chi assegna (predefinito: l'utente del sistema)")
    p.set_defaults(fn=cmd_assign)
    p = sub.add_parser(
        "occupation-queue",
        help="posizioni con la professione da confermare / vacancies whose occupation code is unsure",
    )
    p.add_argument("--limit", type=int, default=LIST_LIMIT, help=f"quante (predefinito {LIST_LIMIT})")
    p.add_argument("--json", action="store_true", help="risultato in JSON")
    p.set_defaults(fn=cmd_occupation_queue)
    p = sub.add_parser(
        "confirm-occupation",
        help="conferma o corregge la professione di una posizione / confirm a vacancy's occupation code",
    )
    p.add_argument("vacancy", help="codice posizione, es. VAC-0007-0003")
    p.add_argument("--code", required=True, help="codice ISCO-08 a 4 cifre, es. 7212")
    p.add_argument("--actor", help="chi conferma (predefinito: l'utente del sistema)")
    p.set_defaults(fn=cmd_confirm_occupation)
