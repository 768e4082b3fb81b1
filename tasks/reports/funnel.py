"""Funnel figures from the application database (counts only: safe for Prefect artifacts)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import clock
from models.cases import Case, CaseEvent
from models.enums import OutboxStatus, State
from models.ops import Outbox
from tasks.reports.kpis import FUNNEL_STATES, steps_by_office
from tasks.reports.tables import STATE_LABELS

#: Every state: the main path first (as the funnel chart shows it), then the side exits.
FUNNEL_ORDER = [
    *FUNNEL_STATES,
    State.NOT_SELECTED,
    State.POLICY,
    State.DUPLICATE,
    State.REJECTED,
    State.NO_SHOW,
    State.WITHDRAWN,
    State.CLOSED,
    State.ERASED,
]


def current_states(session: Session, office: str | None = None) -> dict[State, int]:
    """Cases now in each state (of one CPI office when given)."""
    stmt = select(Case.state, func.count()).group_by(Case.state)
    if office is not None:
        stmt = stmt.where(Case.office_code == office)
    return {State(s): n for s, n in session.exec(stmt).all()}


def ever_reached(session: Session, office: str | None = None) -> dict[State, int]:
    """How many distinct cases ever entered each state (the funnel), of one office when given."""
    stmt = select(CaseEvent.to_state, func.count(func.distinct(CaseEvent.case_id))).group_by(CaseEvent.to_state)
    if office is not None:
        stmt = stmt.join(Case, col(Case.id) == col(CaseEvent.case_id)).where(Case.office_code == office)
    return {State(s): n for s, n in session.exec(stmt).all()}


def emails_by_kind(session: Session) -> dict[str, dict[str, int]]:
    rows = session.exec(select(Outbox.kind, Outbox.status, func.count()).group_by(Outbox.kind, Outbox.status)).all()
    out: dict[str, dict[str, int]] = {}
    for kind, status, n in rows:
        out.setdefault(kind, {})[OutboxStatus(status).value] = n
    return out


def funnel_rows(session: Session, office: str | None = None) -> list[dict[str, object]]:
    now, ever = current_states(session, office), ever_reached(session, office)
    return [
        {"state": s.value, "reached": ever.get(s, 0), "now": now.get(s, 0)}
        for s in FUNNEL_ORDER
        if ever.get(s, 0) or now.get(s, 0)
    ]


def _funnel_table(rows: list[dict[str, object]]) -> list[str]:
    lines = ["| stato | casi entrati | casi ora |", "|---|---:|---:|"]
    return lines + [f"| {STATE_LABELS.get(str(r['state']), r['state'])} | {r['reached']} | {r['now']} |" for r in rows]


def _steps_table(rows: list[dict[str, object]], as_of: date) -> list[str]:
    """The invariant per CPI: open cases, those without a next step, steps past due."""
    lines = [
        f"## Prossimi passi per CPI al {as_of:%d/%m/%Y}",
        "",
        "| CPI | pratiche aperte | senza prossimo passo | passi scaduti | ritardo massimo (gg lav.) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        late = "—" if r["max_late_bd"] is None else r["max_late_bd"]
        lines.append(f"| {r['office']} | {r['open']} | {r['without_step']} | {r['overdue']} | {late} |")
    return lines


def funnel_markdown(session: Session, as_of: date | None = None) -> str:
    """The funnel as markdown: the whole province, the next steps per CPI, then one small table
    per CPI office."""
    day = as_of or clock.today()
    lines = ["# Incontro – funnel", "", *_funnel_table(funnel_rows(session))]
    lines += ["", *_steps_table(steps_by_office(session, day), day)]
    offices = session.exec(
        select(Case.office_code).where(col(Case.office_code).is_not(None)).distinct().order_by(col(Case.office_code))
    ).all()
    for office in offices:
        assert office is not None
        lines += ["", f"## {office}", "", *_funnel_table(funnel_rows(session, office))]
    return "\n".join(lines) + "\n"
