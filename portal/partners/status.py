"""The status of a partner's referrals: the people it sent (the names as it sent them), each
one's stage in plain Italian, the next step and the last update; and the same as CSV.

The organisation's scope is in the query (``referral.referrer_code``), so another partner's
referral is never loaded; each read writes one audit row per case shown or exported
(tasks/core/audit.py's table, in one INSERT). Paged, so a partner with 10,000 referrals gets
its page in one indexed query (bench/bench_partner_status.py).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from models import clock
from models.base import insert_values
from models.cases import Case
from models.enums import State
from models.labels import label
from models.ops import AuditLog
from models.people import Person, Referral
from tasks.core.next_steps import step_label
from tasks.files.sheets import neutralise

PAGE_SIZE = 50
READ_PURPOSE = "stato delle segnalazioni dell'ente (pagina delle segnalazioni)"
EXPORT_PURPOSE = "esportazione CSV dello stato delle segnalazioni dell'ente"
ERASED_NAME = "(dati cancellati su richiesta della persona)"
CSV_HEADER = (
    "Cognome",
    "Nome",
    "Segnalata il",
    "Pratica",
    "Stato",
    "Prossimo passo",
    "Entro il",
    "Ultimo aggiornamento",
)


@dataclass(frozen=True)
class StatusRow:
    """One referral of the organisation as its page shows it (Italian words only)."""

    family_name: str
    given_names: str
    received_on: date
    case_code: str
    stage: str
    next_step: str
    next_due: date | None
    updated_on: date | None


def actor_of(org_code: str) -> str:
    """Who the audit says read: the organisation through its signed link (no personal accounts)."""
    return f"partner:{org_code}"


def count_referrals(session: Session, org_code: str) -> int:
    """How many people (cases) the organisation referred: one person sent twice counts once."""
    query = select(func.count(func.distinct(Referral.case_id))).where(col(Referral.referrer_code) == org_code)
    return int(session.exec(query).one())


def _latest_per_case(org_code: str) -> Any:
    """The organisation's newest referral of each case (a person sent again, or merged into the
    case she already had, is one line, with the name as last sent)."""
    return (
        select(func.max(Referral.id))
        .where(col(Referral.referrer_code) == org_code)
        .group_by(col(Referral.case_id))
        .scalar_subquery()
    )


def referral_rows(
    session: Session, org_code: str, *, page: int = 1, page_size: int | None = PAGE_SIZE
) -> list[StatusRow]:
    """The organisation's referrals, newest first (one page, or all with ``page_size=None``)."""
    query = (
        select(  # type: ignore[call-overload]
            Person.family_name,
            Person.given_names,
            Referral.received_at,
            Case.code,
            Case.state,
            Case.next_step,
            Case.next_due,
            Case.updated_at,
        )
        .join(Person, col(Person.key) == col(Referral.person_key))
        .join(Case, col(Case.id) == col(Referral.case_id), isouter=True)
        .where(col(Referral.referrer_code) == org_code, col(Referral.id).in_(_latest_per_case(org_code)))
        .order_by(col(Referral.id).desc())
    )
    if page_size is not None:
        query = query.offset((max(page, 1) - 1) * page_size).limit(page_size)
    return [_row(*values) for values in session.exec(query).all()]


def _row(
    family: str,
    given: str,
    received: datetime,
    code: str | None,
    state: State | None,
    step: str | None,
    due: date | None,
    updated: datetime | None,
) -> StatusRow:
    erased = state is State.ERASED or not (family or given)
    open_case = state is not None and state not in _NO_STEP
    return StatusRow(
        family_name=ERASED_NAME if erased else family,
        given_names="" if erased else given,
        received_on=clock.in_rome(received).date(),
        case_code=code or "—",
        stage=label(state) if state is not None else "in lavorazione",
        next_step=step_label(step) if open_case else "nessuno: il percorso è concluso",
        next_due=due if open_case else None,
        updated_on=clock.in_rome(updated).date() if updated else None,
    )


_NO_STEP = frozenset({State.DUPLICATE, State.REJECTED, State.HIRED, State.WITHDRAWN, State.CLOSED, State.ERASED})


def audit_reads(session: Session, org_code: str, rows: list[StatusRow], *, purpose: str, action: str) -> int:
    """One audit row per case shown (one INSERT for the lot); returns how many."""
    codes = sorted({r.case_code for r in rows if r.case_code != "—"})
    if codes:
        common = insert_values(AuditLog, actor=actor_of(org_code), action=action, purpose=purpose)
        session.connection().execute(insert(AuditLog), [{**common, "case_code": c} for c in codes])
    return len(codes)


def status_csv(rows: list[StatusRow]) -> str:
    """The rows as a CSV for spreadsheets (semicolons, Italian dates, formula-like cells neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            [
                neutralise(r.family_name),
                neutralise(r.given_names),
                f"{r.received_on:%d/%m/%Y}",
                r.case_code,
                r.stage,
                r.next_step,
                f"{r.next_due:%d/%m/%Y}" if r.next_due else "",
                f"{r.updated_on:%d/%m/%Y}" if r.updated_on else "",
            ]
        )
    return "\ufeff" + out.getvalue()  # the BOM tells Excel the file is UTF-8
