"""Outcome steps: interviews and hires from the CPI's file, and the policy route for profiles
nobody picked within the configured days."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models.cases import Case
from models.enums import OutcomeKind, State
from models.exchange import Outcome
from models.people import Organisation
from tasks.core.transitions import transition
from tasks.files.imports import RowRejected, import_rows, start_import
from tasks.files.tabular import parse_date

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
