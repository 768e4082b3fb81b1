"""The providers' register file: enrolment, attendance, completion, internship and hire of a measure."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from config.next_steps import COORDINATORS, load_next_steps
from models.cases import Case
from models.enums import OrgKind, OutcomeKind, State
from models.exchange import Outcome
from models.people import Organisation
from models.policy import OPEN_MEASURE, MeasureKind, MeasureStatus, PolicyMeasure, TrainingOffer
from tasks.core.calendar import add_business_days
from tasks.core.next_steps import set_step
from tasks.core.transitions import transition
from tasks.files.imports import RowRejected, import_rows, start_import
from tasks.files.rows import safe_value
from tasks.files.tabular import parse_date
from tasks.policy.measures import dul_success, hire_attributed, policy_kind
from tasks.policy.register import ACTOR, add_event, register_code
from tasks.policy.rules import PolicyRules, load_policies
from tasks.policy.training import int_in

# --------------------------------------------------------------------------------------------
# The provider's register: enrolment, attendance, completion, internship, hire


_PROGRESS = {
    "iscritto": MeasureStatus.STARTED,
    "iscritta": MeasureStatus.STARTED,
    "iscrizione": MeasureStatus.STARTED,
    "avviato": MeasureStatus.STARTED,
    "avviata": MeasureStatus.STARTED,
    "avvio": MeasureStatus.STARTED,
    "started": MeasureStatus.STARTED,
    "frequenza": MeasureStatus.STARTED,  # attendance update: stays started, hours recorded
    "presenze": MeasureStatus.STARTED,
    "completato": MeasureStatus.COMPLETED,
    "completata": MeasureStatus.COMPLETED,
    "concluso": MeasureStatus.COMPLETED,
    "conclusa": MeasureStatus.COMPLETED,
    "completed": MeasureStatus.COMPLETED,
    "tirocinio": MeasureStatus.INTERNSHIP,
    "internship": MeasureStatus.INTERNSHIP,
    "assunto": MeasureStatus.HIRED,
    "assunta": MeasureStatus.HIRED,
    "hired": MeasureStatus.HIRED,
    "ritirato": MeasureStatus.DROPPED,
    "ritirata": MeasureStatus.DROPPED,
    "abbandono": MeasureStatus.DROPPED,
    "dropped": MeasureStatus.DROPPED,
}
_ATTENDANCE = {"frequenza", "presenze"}
_FROM: dict[MeasureStatus, tuple[MeasureStatus, ...]] = {
    MeasureStatus.STARTED: (MeasureStatus.CHOSEN, MeasureStatus.STARTED),
    MeasureStatus.COMPLETED: (MeasureStatus.STARTED,),
    MeasureStatus.INTERNSHIP: (MeasureStatus.STARTED, MeasureStatus.COMPLETED),
    MeasureStatus.HIRED: (MeasureStatus.STARTED, MeasureStatus.COMPLETED, MeasureStatus.INTERNSHIP),
    MeasureStatus.DROPPED: (
        MeasureStatus.CHOSEN,
        MeasureStatus.STARTED,
        MeasureStatus.COMPLETED,
        MeasureStatus.INTERNSHIP,
    ),
}
STATUS_IT = {
    MeasureStatus.PROPOSED: "proposta",
    MeasureStatus.CHOSEN: "scelta, non ancora avviata",
    MeasureStatus.NOT_CHOSEN: "non scelta",
    MeasureStatus.STARTED: "avviata",
    MeasureStatus.COMPLETED: "completata",
    MeasureStatus.INTERNSHIP: "in tirocinio",
    MeasureStatus.HIRED: "conclusa con assunzione",
    MeasureStatus.DROPPED: "interrotta",
}


def _progress_target(session: Session, raw: dict[str, Any]) -> tuple[Case, PolicyMeasure, str]:
    code = str(raw.get("case_code") or "").strip().upper()
    case = session.exec(select(Case).where(Case.code == code)).first()
    if case is None or case.id is None:
        raise RowRejected("case_code", f"pratica {safe_value(code)[:20]} inesistente")
    wanted = str(raw.get("measure") or "").strip()
    measures = session.exec(
        select(PolicyMeasure).where(
            PolicyMeasure.case_id == case.id,
            col(PolicyMeasure.status).not_in([MeasureStatus.PROPOSED, MeasureStatus.NOT_CHOSEN]),
        )
    ).all()
    # the same measure may come back after a drop: the register speaks of the running one
    named = sorted(
        (m for m in measures if wanted and _same_measure(wanted, m.code)),
        key=lambda m: (m.status in OPEN_MEASURE, m.id or 0),
    )
    measure = named[-1] if named else None
    if measure is None:
        active = ", ".join(register_code(m.code) for m in measures) or "nessuna"
        raise RowRejected(
            "measure", f"misura «{safe_value(wanted)[:40]}» non assegnata alla pratica {code} (assegnate: {active})"
        )
    event = str(raw.get("event") or "").strip().casefold()
    if event not in _PROGRESS:
        raise RowRejected(
            "event", "evento non riconosciuto (iscritto, frequenza, completato, tirocinio, assunto, ritirato)"
        )
    return case, measure, event


def _optional_int(raw: dict[str, Any], name: str, what: str) -> int | None:
    if raw.get(name) in (None, ""):
        return None
    try:
        return int_in(raw[name], 0, 10000, what)
    except ValueError as exc:
        raise RowRejected(name, str(exc)) from None


def _apply_progress(
    session: Session,
    case: Case,
    measure: PolicyMeasure,
    event: str,
    raw: dict[str, Any],
    rules: PolicyRules,
    flow_run_id: str | None,
) -> str:
    """Validate then apply one register row; returns the counter key. Nothing is written
    unless every check passed."""
    target = _PROGRESS[event]
    if measure.status not in _FROM[target]:
        raise RowRejected("event", f"evento «{event}» non possibile: la misura è {STATUS_IT[measure.status]}")
    try:
        day = parse_date(raw.get("occurred_on")) if raw.get("occurred_on") not in (None, "") else None
    except ValueError as exc:
        raise RowRejected("occurred_on", str(exc)) from None
    if day is None:
        raise RowRejected("occurred_on", "data dell'evento obbligatoria (gg/mm/aaaa)")
    hours = _optional_int(raw, "hours", "ore frequentate")
    offer = session.get(TrainingOffer, measure.training_offer_id) if measure.training_offer_id else None
    if offer is not None and hours is not None and hours > offer.hours:
        raise RowRejected("hours", f"ore frequentate {hours} oltre le {offer.hours} del corso")
    detail = measure.code
    if target is MeasureStatus.STARTED and event in _ATTENDANCE:
        if measure.status is not MeasureStatus.STARTED:
            raise RowRejected("event", "presenze registrate prima dell'iscrizione: inviare prima la riga «iscritto»")
        if hours is None:
            raise RowRejected("hours", "ore frequentate obbligatorie per l'evento «frequenza»")
        measure.hours_attended = max(measure.hours_attended, hours)
        session.add(measure)
        add_event(session, case, "attendance", day, measure=measure, detail=f"{hours} ore", flow_run_id=flow_run_id)
        return "attendance"
    if target is MeasureStatus.COMPLETED and offer is not None:
        attended = max(measure.hours_attended, hours or 0)
        need = offer.hours * rules.training.min_attendance_pct / 100
        if attended < need:
            raise RowRejected(
                "hours",
                f"frequenza {attended}/{offer.hours} ore, sotto il {rules.training.min_attendance_pct}%: "
                "corso non completato (registrare «ritirato» o le ore mancanti)",
            )
        measure.hours_attended = attended
        measure.allowance_due = offer.allowance
    if target is MeasureStatus.HIRED:
        return _apply_hire(session, case, measure, day, raw, rules, flow_run_id)
    if target is MeasureStatus.STARTED:
        measure.started_on = day
        end = offer.ends_on if offer is not None and offer.ends_on else None
        measure.expected_end = end or day + timedelta(days=_duration(measure, rules))
    elif target is MeasureStatus.COMPLETED:
        measure.completed_on = day
    elif target is MeasureStatus.INTERNSHIP:
        measure.internship_on = day
    measure.status = target
    session.add(measure)
    _advance_step(case, measure, rules)
    session.add(case)
    kind = {"started": "enrolled"}.get(target.value, target.value)
    add_event(session, case, kind, day, measure=measure, detail=detail, flow_run_id=flow_run_id)
    return kind


def _advance_step(case: Case, measure: PolicyMeasure, rules: PolicyRules) -> None:
    """The case's next step once its measure moved (docs/ARCHITECTURE.md#data): the operator
    follows the running measure until its expected end, then reports a hire or an internship
    while a hire still counts for the measure, then the internship's outcome; a dropped
    measure sends the case back to its CPI to choose another with the person (the policy
    stage proposes again). The operator without a code (none had room) is the coordinators."""
    if case.state is not State.POLICY:  # closed meanwhile: a closed case has no next step
        return
    operator = measure.provider_code or COORDINATORS
    if measure.status is MeasureStatus.STARTED:
        assert measure.expected_end is not None
        set_step(case, "measure_running", due=add_business_days(measure.expected_end, 0), owner=operator)
    elif measure.status is MeasureStatus.COMPLETED:
        assert measure.started_on is not None and measure.completed_on is not None
        window_end = measure.started_on + timedelta(days=rules.outcome_window_days)
        soonest = add_business_days(measure.completed_on, _step_days("measure_outcome"))
        set_step(case, "measure_outcome", due=max(add_business_days(window_end, 0), soonest), owner=operator)
    elif measure.status is MeasureStatus.INTERNSHIP:
        assert measure.internship_on is not None
        due = add_business_days(measure.internship_on, _step_days("internship_outcome"))
        set_step(case, "internship_outcome", due=due, owner=operator)
    elif measure.status is MeasureStatus.DROPPED:
        set_step(case, "choose_measure")  # the CPI's step, due from the day it learns of it


def _step_days(code: str) -> int:
    return load_next_steps().steps[code].days


def _same_measure(written: str, code: str) -> bool:
    """A register names a measure by its code or as the proposal wrote it (GOL, Garanzia Giovani,
    the project's or course's code): case, spaces and underscores aside."""

    def fold(text: str) -> str:
        return " ".join(text.replace("_", " ").split()).casefold()

    return fold(written) in (fold(code), fold(code.split(":")[-1]))


def _duration(measure: PolicyMeasure, rules: PolicyRules) -> int:
    by_kind = {
        MeasureKind.GOL: rules.gol.duration_days,
        MeasureKind.DUL: rules.dul.duration_days,
        MeasureKind.GARANZIA_GIOVANI: rules.garanzia_giovani.duration_days,
        MeasureKind.TRAINING: rules.training.duration_days,
    }
    if measure.kind in by_kind:
        return by_kind[measure.kind]
    project = next((p for p in rules.territorial if f"territorial:{p.code}" == measure.code), None)
    return project.duration_days if project else 90


def _apply_hire(
    session: Session,
    case: Case,
    measure: PolicyMeasure,
    day: date,
    raw: dict[str, Any],
    rules: PolicyRules,
    flow_run_id: str | None,
) -> str:
    """Hire: Outcome + POLICY → HIRED; the measure becomes the case's route when the hire
    starts within the outcome window of the measure's start."""
    company = str(raw.get("company") or "").strip()
    org = session.get(Organisation, company) if company else None
    if org is None or org.kind is not OrgKind.COMPANY:
        raise RowRejected("company", "azienda obbligatoria per «assunto» (codice azienda della rete, es. COMP-…)")
    length = _optional_int(raw, "length_days", "durata del contratto in giorni")
    contract = str(raw.get("contract") or "").strip() or None
    if case.state is not State.POLICY:
        raise RowRejected("case_code", f"pratica {case.code} non è in politica attiva (stato: {case.state.value})")
    assert case.id is not None and measure.started_on is not None
    attributed = hire_attributed(measure.started_on, day, rules)
    measure.status = MeasureStatus.HIRED
    measure.hired_on, measure.contract_days = day, length
    if measure.kind is MeasureKind.DUL:
        measure.success = dul_success(contract, length, rules).ok
    else:
        measure.success = attributed.ok
    session.add(measure)
    session.add(
        Outcome(
            case_id=case.id,
            kind=OutcomeKind.HIRED,
            company_code=org.code,
            contract_type=contract,
            start=day,
            length_days=length,
            policy=policy_kind(measure.kind) if attributed.ok else None,
        )
    )
    if attributed.ok:
        case.route = measure.code
        session.add(case)
    add_event(
        session,
        case,
        "hired",
        day,
        measure=measure,
        detail=f"{org.code}:{'attribuita' if attributed.ok else 'oltre finestra'}",
        flow_run_id=flow_run_id,
    )
    transition(session, case, State.HIRED, actor=ACTOR, reason=f"policy:{measure.code}"[:200], flow_run_id=flow_run_id)
    return "hired"


def record_progress_file(
    session: Session, path: Path, sender_code: str, *, flow_run_id: str | None = None
) -> dict[str, int]:
    """A provider's register (one event per row). Each row is checked in full before it
    writes; rejected rows are kept with column and reason and reported to the sender."""
    imp, table = start_import(
        session,
        path,
        kind="training_progress",
        sender_code=sender_code,
        required=["case_code", "measure", "event"],
        record_kind="progress",
    )
    if table is None:
        return {"already_imported": 1}
    rules = load_policies()
    Target = tuple[dict[str, Any], Case, PolicyMeasure, str]

    def check(raw: dict[str, Any]) -> Target:
        return (raw, *_progress_target(session, raw))

    def apply(_number: int, target: Target) -> str:
        raw, case, measure, event = target
        return _apply_progress(session, case, measure, event, raw, rules, flow_run_id)

    return dict(import_rows(session, imp, table, check, apply))
