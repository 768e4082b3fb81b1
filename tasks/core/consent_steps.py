"""Cases that wait for a consent nobody asked for (issue 18: no dead ends).

A LITERACY case without the consent to the CPIA, or a PROFILE_READY case without the consent to
Confindustria, cannot move: its next step is the CPI's "ask for the consent"
(config/next_steps.yaml). When that step is overdue the maintenance sweep reminds the office
(tasks/maintenance.py); once it is late by ``agenda_after_business_days`` (config/reminders.yaml)
it is on the coordination table's agenda (tasks/policy/tavolo.py) until the consent comes, which
moves the step on (``next_steps.refresh_steps``), or the case is closed.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from config.reminders import load_reminders
from models.cases import Case
from models.state_machine import OPEN
from tasks.core.calendar import is_business_day


def business_days_back(as_of: date, n: int) -> date:
    """The latest day ``d`` with ``n`` business days after it up to ``as_of`` (inclusive)."""
    day, counted = as_of, 0
    while counted < n:
        if is_business_day(day):
            counted += 1
        day -= timedelta(days=1)
    return day


def consent_label(step: str | None) -> str:
    """The consent a step waits for, in Italian."""
    return load_reminders().consent.steps.get(step or "", "consenso della persona")


def overdue_consent_steps(session: Session, as_of: date, *, late_by: int = 0) -> list[Case]:
    """Open cases whose "ask for the consent" step was due before ``as_of`` (and, with
    ``late_by``, at least that many business days before it), by office and code."""
    steps = sorted(load_reminders().consent.steps)
    cutoff = business_days_back(as_of, late_by) if late_by else as_of - timedelta(days=1)
    return list(
        session.exec(
            select(Case)
            .where(
                col(Case.state).in_(sorted(OPEN)),
                col(Case.next_step).in_(steps),
                col(Case.next_due) <= cutoff,
            )
            .order_by(col(Case.office_code), col(Case.code))
        ).all()
    )


def consent_agenda(session: Session, held_on: date) -> list[dict[str, str]]:
    """The table's agenda rows: consent steps overdue by ``agenda_after_business_days`` on
    ``held_on`` (codes, the consent in Italian and the due date only)."""
    late = load_reminders().consent.agenda_after_business_days
    return [
        {
            "case_code": c.code,
            "office": c.office_code or "—",
            "consent": consent_label(c.next_step),
            "due": c.next_due.strftime("%d/%m/%Y") if c.next_due else "—",
        }
        for c in overdue_consent_steps(session, held_on, late_by=late)
    ]
