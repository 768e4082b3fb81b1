"""The coordinators' queue "CPI da assegnare", and the way out of it.

A referral row is never refused for its comune (tasks/files/places.py). When the comune names no
CPI — unresolved, empty, outside the province — :func:`tasks.referral.ingest.accept_cases` leaves
the case REFERRED with ``next_step`` ``assign_office`` (owner: the coordinators), a due date and
the reason as a code. A coordinator assigns an office here (``incontro assign-office``); the case
is then accepted like any other (consent checked again), and the event queued with it starts the
intake stage, which schedules every accepted case (the maintenance sweep does the same if the
event is missed). Everything here speaks of case codes, office codes and reason codes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from config.data import load_offices
from models.cases import Case
from models.enums import State
from tasks.core.routing import ASSIGN_OFFICE
from tasks.files.places import HOW_LABELS
from tasks.mail.formatting import state_label
from tasks.referral.ingest import accept_cases
from tasks.runtime.event_names import REFERRAL_ACCEPTED
from tasks.runtime.events import EventSpec, queue_event

__all__ = ["AssignRefused", "WaitingCase", "assign_office", "reason_label", "waiting_for_office"]


class AssignRefused(ValueError):
    """An assignment that cannot be made; the message says why, in Italian, with codes only."""


@dataclass(frozen=True)
class WaitingCase:
    """A case of the queue: code, reason (code and Italian label), due date."""

    code: str
    reason: str
    label: str
    due: date | None


def reason_label(reason: str | None) -> str:
    """The Italian words for a queue reason code ("out_of_province" → "comune fuori provincia")."""
    return HOW_LABELS.get(reason or "", "motivo non registrato")


def waiting_for_office(session: Session, limit: int | None = None) -> list[WaitingCase]:
    """The queue, oldest due first."""
    query = (
        select(Case)
        .where(Case.next_step == ASSIGN_OFFICE, Case.state == State.REFERRED)
        .order_by(col(Case.next_due), col(Case.code))
    )
    cases = session.exec(query.limit(limit) if limit else query).all()
    return [WaitingCase(c.code, c.next_step_reason or "", reason_label(c.next_step_reason), c.next_due) for c in cases]


def assign_office(
    session: Session, case_code: str, office_code: str, *, actor: str, flow_run_id: str | None = None
) -> State:
    """Give a waiting case its CPI and accept it (or reject it, without consent to processing);
    returns the state reached. Inside the caller's transaction; the intake event goes on commit."""
    offices = [o.code for o in load_offices()]
    if office_code not in offices:
        raise AssignRefused(f"CPI sconosciuto; validi: {', '.join(offices)}")
    case = session.exec(select(Case).where(Case.code == case_code)).first()
    if case is None:
        raise AssignRefused(f"pratica {case_code} inesistente")
    if case.state is not State.REFERRED or case.next_step != ASSIGN_OFFICE:
        already = f": è già del {case.office_code}" if case.office_code else ""
        raise AssignRefused(
            f"la pratica {case.code} non è in attesa di un CPI{already} (stato: {state_label(case.state)}; "
            "l'elenco delle pratiche in attesa: incontro office-queue)"
        )
    case.office_code = office_code
    case.next_step = case.next_due = case.next_step_reason = None
    session.add(case)
    reached = accept_cases(session, [case], flow_run_id=flow_run_id, actor=actor)[case.code]
    if reached is State.ACCEPTED:  # the same event as an import: the intake stage picks it up
        queue_event(
            session,
            EventSpec(
                name=REFERRAL_ACCEPTED,
                resource_id=f"incontro.import.assign-{case.code}",
                payload={"accepted": 1},
            ),
        )
    return reached
