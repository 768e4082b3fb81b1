"""Outcome steps: interviews and hires from the CPI's file, and the policy route for profiles
nobody picked within the configured days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.data import load_routing
from models.cases import Case, CaseEvent
from models.enums import OutcomeKind, PolicyKind, State
from models.exchange import Outcome
from models.people import Organisation
from tasks.core.transitions import transition
from tasks.files.imports import RowRejected, import_rows, start_import
from tasks.files.tabular import parse_date
from tasks.runtime.progress import Progress

ACTOR = "flow:outcomes"
_RESULTS = {
    "assunto": OutcomeKind.HIRED,
    "assunta": OutcomeKind.HIRED,
    "hired": OutcomeKind.HIRED,
    "non selezionato": OutcomeKind.NOT_SELECTED,
    "non selezionata": OutcomeKind.NOT_SELECTED,
    "not selected": OutcomeKind.NOT_SELECTED,
}


def record_outcome_file(
    session: Session, path: Path, sender_code: str, *, flow_run_id: str | None = None
) -> dict[str, int]:
    """Hires and non-selections after interviews; each valid row moves its case once, bad rows
    are kept with every error and reported to the sender."""
    imp, table = start_import(session, path, kind="outcome", sender_code=sender_code, required=["case_code", "result"])
    if table is None:
        return {"already_imported": 1}

    def apply(_number: int, outcome: Outcome) -> str:
        case = session.get(Case, outcome.case_id)
        assert case is not None
        session.add(outcome)
        target = State.HIRED if outcome.kind is OutcomeKind.HIRED else State.NOT_SELECTED
        reason = f"company:{outcome.company_code}"
        transition(session, case, target, actor=ACTOR, reason=reason, flow_run_id=flow_run_id)
        return target.value

    return dict(import_rows(session, imp, table, lambda raw: _outcome_row(session, raw), apply))


def _outcome_row(session: Session, raw: dict[str, Any]) -> Outcome:
    """The outcome of one file row (not yet added), or every error of the row at once."""
    errors: list[tuple[str, str]] = []
    kind = _RESULTS.get(str(raw.get("result") or "").strip().casefold())
    if kind is None:
        errors.append(("result", "esito non riconosciuto (assunto / non selezionato)"))
    code = str(raw.get("case_code") or "").strip()
    case = session.exec(select(Case).where(Case.code == code)).first()
    if case is None or case.id is None:
        errors.append(("case_code", "pratica inesistente (usare il codice pratica, es. BG-2026-000123)"))
    elif case.state is not State.INTERVIEW:
        errors.append(("case_code", f"pratica non in colloquio (stato: {case.state.value})"))
    company = str(raw.get("company") or "").strip() or None
    if company and session.get(Organisation, company) is None:
        errors.append(("company", "azienda sconosciuta (usare il codice azienda della rete, es. COMP-…)"))
    start = None
    try:
        start = parse_date(raw["start"]) if raw.get("start") not in (None, "") else None
    except ValueError as exc:
        errors.append(("start", str(exc)))
    length = None
    if raw.get("length_days") not in (None, ""):
        try:
            length = int(str(raw["length_days"]).strip())
        except ValueError:
            errors.append(("length_days", "durata in giorni non valida: scrivere un numero intero"))
    if errors:
        raise RowRejected(*errors[0], more=errors[1:])
    assert case is not None and case.id is not None and kind is not None
    contract = raw.get("contract")
    return Outcome(
        case_id=case.id,
        kind=kind,
        company_code=company,
        contract_type=str(contract).strip() if contract not in (None, "") else None,
        start=start,
        length_days=length,
    )


def propose_policy(session: Session, case: Case, as_of: date) -> PolicyKind | None:
    """The programme to record when employers did not pick the profile: the first eligible
    one in config/policies.yaml's priority (None: no programme applies, the table decides).
    The operator chooses the actual measure later, in the ``policy`` flow."""
    from tasks.policy.register import case_facts, primary_policy

    return primary_policy(case_facts(session, case), as_of)


def _day_end_utc(day: date) -> datetime:
    """The first instant after ``day`` (UTC): portable across SQLite and PostgreSQL."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def route_to_policy(session: Session, *, as_of: date, flow_run_id: str | None = None) -> dict[str, list[str]]:
    """DISPATCHED cases with no interest for N days move to POLICY with a proposed programme
    (``Case.route`` is set later, by the measure that leads to a hire)."""
    days = load_routing().dispatch.no_interest_days
    cutoff = as_of - timedelta(days=days)
    last_move = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at")).group_by(col(CaseEvent.case_id)).subquery()
    )
    rows = session.exec(
        select(Case)
        .join(last_move, last_move.c.case_id == Case.id)
        .where(Case.state == State.DISPATCHED, last_move.c.at < _day_end_utc(cutoff))
    ).all()
    out: dict[str, list[str]] = {}
    progress = Progress("policy-routing", len(rows), "Pratiche senza interesse avviate alle politiche")
    for case in progress.track(rows):
        policy = propose_policy(session, case, as_of)
        assert case.id is not None
        session.add(Outcome(case_id=case.id, kind=OutcomeKind.POLICY, policy=policy))
        label = policy.value if policy else "tavolo"
        transition(
            session,
            case,
            State.POLICY,
            actor=ACTOR,
            reason=f"no-interest>{days}d:{label}",
            flow_run_id=flow_run_id,
        )
        out.setdefault(label, []).append(case.code)
    progress.finish()
    return out
