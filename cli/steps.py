"""``incontro cases --stuck`` and ``--overdue``: open cases nobody would look at again, and steps past due.

The invariant (docs/ARCHITECTURE.md#data) says every open case has a next step, an owner and a
due date; these lists show where it is broken or late. The terminal shows case codes, the CPI's
code, states and steps in Italian words and the owner's organisation name, never personal data.
"""

from __future__ import annotations

import argparse

from sqlmodel import Session, select

from cli.main import out
from models import clock
from models.cases import Case
from models.people import Organisation
from tasks.core.calendar import business_days_between
from tasks.core.next_steps import missing_parts, overdue_cases, owner_label, step_label, stuck_cases
from tasks.mail.formatting import state_label


def _of_office(cases: list[Case], office: str | None) -> list[Case]:
    return [c for c in cases if office is None or c.office_code == office]


def print_stuck(session: Session, *, office: str | None, limit: int) -> int:
    """The open cases without a next step, an owner or a due date; returns how many."""
    cases = _of_office(stuck_cases(session), office)
    out(f"Pratiche aperte senza prossimo passo, responsabile o scadenza: {len(cases)}")
    if cases:
        out(f"{'pratica':<16} {'stato':<26} {'CPI':<8} manca")
    for c in cases[:limit]:
        out(f"{c.code:<16} {state_label(c.state):<26} {c.office_code or '—':<8} {', '.join(missing_parts(c))}")
    if len(cases) > limit:
        out(f"(prime {limit}; altre {len(cases) - limit} con --limit)")
    return len(cases)


def print_overdue(session: Session, *, office: str | None, limit: int) -> int:
    """The open cases whose next step is past due, oldest first; returns how many."""
    today = clock.today()
    cases = _of_office(overdue_cases(session, today), office)
    names = dict(session.exec(select(Organisation.code, Organisation.name)).all())
    out(f"Pratiche con il prossimo passo scaduto al {today:%d/%m/%Y}: {len(cases)}")
    if cases:
        out(f"{'pratica':<16} {'scadenza':<10} {'ritardo':>7}  {'CPI':<8} prossimo passo · a cura di")
    for c in cases[:limit]:
        assert c.next_due is not None
        late = business_days_between(c.next_due, today)
        out(
            f"{c.code:<16} {c.next_due:%d/%m/%Y} {late:>4} gg  {c.office_code or '—':<8} "
            f"{step_label(c.next_step)} · {owner_label(c.owner, names)}"
        )
    if len(cases) > limit:
        out(f"(prime {limit}; altre {len(cases) - limit} con --limit)")
    return len(cases)


def cmd_next_steps(args: argparse.Namespace, office: str | None) -> int:
    """``cases --stuck`` and/or ``--overdue`` (both: both lists)."""
    from tasks.runtime.db import get_engine

    with Session(get_engine()) as session:
        if args.stuck:
            print_stuck(session, office=office, limit=args.limit)
        if args.overdue:
            if args.stuck:
                out()
            print_overdue(session, office=office, limit=args.limit)
    return 0
