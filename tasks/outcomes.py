"""Outcome steps: interviews and hires from the CPI's file, and the 180-day check of every hire
(still employed, left, not found out) by file, form or command line.

A hire closes the case but keeps one step: "follow_up_180", due on the 180th day after the
hire started (tasks/core/next_steps.py). Recording the check ends that step and feeds the
retention KPI (tasks/reports/kpis.py: retention_180).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models import clock
from models.cases import Case
from models.enums import OutcomeKind, State
from models.exchange import Outcome
from models.forms import FollowUpAnswer
from models.people import Organisation
from tasks.core.next_steps import FOLLOW_UP_STEP, follow_up_due, set_step
from tasks.core.transitions import transition
from tasks.files.imports import RowRejected, import_rows, start_import
from tasks.files.tabular import parse_date
from tasks.mail.formatting import state_label

ACTOR = "flow:outcomes"

#: The three answers of the 180-day check, and what a person reads for each.
FOLLOW_UP_KINDS: tuple[OutcomeKind, ...] = (OutcomeKind.EMPLOYED_180, OutcomeKind.LEFT_180, OutcomeKind.UNKNOWN_180)
FOLLOW_UP_LABELS: dict[OutcomeKind, str] = {
    OutcomeKind.EMPLOYED_180: "ancora occupata",
    OutcomeKind.LEFT_180: "non più occupata",
    OutcomeKind.UNKNOWN_180: "esito non verificabile",
}
_RESULTS = {
    "assunto": OutcomeKind.HIRED,
    "assunta": OutcomeKind.HIRED,
    "hired": OutcomeKind.HIRED,
    "non selezionato": OutcomeKind.NOT_SELECTED,
    "non selezionata": OutcomeKind.NOT_SELECTED,
    "not selected": OutcomeKind.NOT_SELECTED,
    # the 180-day check
    "ancora occupato": OutcomeKind.EMPLOYED_180,
    "ancora occupata": OutcomeKind.EMPLOYED_180,
    "occupato": OutcomeKind.EMPLOYED_180,
    "occupata": OutcomeKind.EMPLOYED_180,
    "in forza": OutcomeKind.EMPLOYED_180,
    "still employed": OutcomeKind.EMPLOYED_180,
    "cessato": OutcomeKind.LEFT_180,
    "cessata": OutcomeKind.LEFT_180,
    "non più occupato": OutcomeKind.LEFT_180,
    "non più occupata": OutcomeKind.LEFT_180,
    "non piu occupato": OutcomeKind.LEFT_180,
    "non piu occupata": OutcomeKind.LEFT_180,
    "dimesso": OutcomeKind.LEFT_180,
    "dimessa": OutcomeKind.LEFT_180,
    "licenziato": OutcomeKind.LEFT_180,
    "licenziata": OutcomeKind.LEFT_180,
    "left": OutcomeKind.LEFT_180,
    "non rintracciabile": OutcomeKind.UNKNOWN_180,
    "non rintracciato": OutcomeKind.UNKNOWN_180,
    "non rintracciata": OutcomeKind.UNKNOWN_180,
    "non noto": OutcomeKind.UNKNOWN_180,
    "sconosciuto": OutcomeKind.UNKNOWN_180,
    "unknown": OutcomeKind.UNKNOWN_180,
}
#: The form's answers (Italian words, as the Prefect UI shows them) and what each records.
FOLLOW_UP_ANSWERS: dict[FollowUpAnswer, OutcomeKind] = {
    FollowUpAnswer.EMPLOYED: OutcomeKind.EMPLOYED_180,
    FollowUpAnswer.LEFT: OutcomeKind.LEFT_180,
    FollowUpAnswer.UNKNOWN: OutcomeKind.UNKNOWN_180,
}
#: The words a command line or a form may use for each answer (besides the file's phrases).
FOLLOW_UP_CHOICES: dict[str, OutcomeKind] = {
    "occupato": OutcomeKind.EMPLOYED_180,
    "cessato": OutcomeKind.LEFT_180,
    "sconosciuto": OutcomeKind.UNKNOWN_180,
}


#: "Still employed" can be recorded from this many days after the start (a call a few weeks
#: before the 180th day is a fair answer; months before it is not).
EARLIEST_CHECK_DAYS = 150


class FollowUpRefused(ValueError):
    """A 180-day check that cannot be recorded (the message says why, in Italian)."""


# --------------------------------------------------------------------------------------------
# Pure rules


def follow_up_kind(text: str) -> OutcomeKind | None:
    """The check an operator wrote ("ancora occupata", "cessato", "non rintracciabile"…), or None."""
    key = " ".join(str(text or "").split()).casefold()
    found = FOLLOW_UP_CHOICES.get(key) or _RESULTS.get(key)
    return found if found in FOLLOW_UP_KINDS else None


def follow_up_problems(kind: OutcomeKind, on: date, *, started: date | None, today: date) -> list[str]:
    """What is wrong with a check of ``kind`` on ``on`` for a hire that ``started`` (Italian)."""
    problems = []
    if on > today:
        problems.append(f"data {on:%d/%m/%Y} nel futuro: indicare il giorno della verifica o della cessazione")
    if started is not None and on < started:
        problems.append(f"data {on:%d/%m/%Y} precedente all'assunzione ({started:%d/%m/%Y})")
    if kind is OutcomeKind.EMPLOYED_180 and started is not None and (on - started).days < EARLIEST_CHECK_DAYS:
        # a person is "still employed at 180 days" only once the 180 days are (nearly) past
        problems.append(
            f"verifica del {on:%d/%m/%Y} troppo presto: i 180 giorni dall'assunzione ({started:%d/%m/%Y}) "
            "non sono ancora trascorsi"
        )
    return problems


# --------------------------------------------------------------------------------------------
# Recording a hire or a check


@dataclass(frozen=True)
class FollowUpDue:
    """A hire waiting for its 180-day check: case code, CPI and due date (no personal data)."""

    case_code: str
    office_code: str | None
    due: date | None
    started: date | None


def _hire_of(session: Session, case_id: int) -> Outcome | None:
    return session.exec(
        select(Outcome)
        .where(Outcome.case_id == case_id, Outcome.kind == OutcomeKind.HIRED)
        .order_by(col(Outcome.id).desc())
    ).first()


def _checked(session: Session, case_id: int) -> Outcome | None:
    return session.exec(
        select(Outcome).where(Outcome.case_id == case_id, col(Outcome.kind).in_(FOLLOW_UP_KINDS))
    ).first()


def _hire_day(hire: Outcome | None) -> date | None:
    if hire is None:
        return None
    return hire.start or clock.in_rome(hire.recorded_at).date()


def follow_ups_due(session: Session, *, as_of: date, office: str | None = None) -> list[FollowUpDue]:
    """Hires whose 180-day check falls on or before ``as_of`` and is not recorded yet, oldest first."""
    stmt = (
        select(Case)
        .where(Case.state == State.HIRED, Case.next_step == FOLLOW_UP_STEP, col(Case.next_due) <= as_of)
        .order_by(col(Case.next_due), col(Case.code))
    )
    if office:
        stmt = stmt.where(Case.office_code == office)
    out = []
    for case in session.exec(stmt).all():
        assert case.id is not None
        out.append(FollowUpDue(case.code, case.office_code, case.next_due, _hire_day(_hire_of(session, case.id))))
    return out


def record_follow_up(
    session: Session,
    code: str,
    kind: OutcomeKind,
    *,
    on: date | None = None,
    actor: str = ACTOR,
) -> Outcome:
    """Record the 180-day check of a hired case (``on``: the day checked, or the day the job
    ended; today when not given) and end its step. Refuses, in Italian, a case that is not a
    hire, a check already recorded, or an impossible date."""
    if kind not in FOLLOW_UP_KINDS:
        raise FollowUpRefused("esito a 180 giorni non valido: ancora occupato, cessato o sconosciuto")
    case = session.exec(select(Case).where(Case.code == code)).first()
    if case is None or case.id is None:
        raise FollowUpRefused(f"pratica {code[:24]} inesistente")
    if case.state is not State.HIRED:
        raise FollowUpRefused(f"pratica {case.code} non assunta (stato: {state_label(case.state)})")
    done = _checked(session, case.id)
    if done is not None:
        when = f" il {done.observed_on:%d/%m/%Y}" if done.observed_on else ""
        raise FollowUpRefused(
            f"pratica {case.code}: esito a 180 giorni già registrato ({FOLLOW_UP_LABELS[done.kind]}{when})"
        )
    hire = _hire_of(session, case.id)
    today = clock.today()
    day = on or today
    problems = follow_up_problems(kind, day, started=_hire_day(hire), today=today)
    if problems:
        raise FollowUpRefused(f"pratica {case.code}: " + "; ".join(problems))
    outcome = Outcome(
        case_id=case.id,
        kind=kind,
        company_code=hire.company_code if hire else None,
        observed_on=day,
    )
    session.add(outcome)
    case.next_step = case.owner = case.next_due = None  # the one step of a hire is done
    case.next_step_reason = None
    session.add(case)
    return outcome


def validate_follow_ups(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The problems of a follow-up form's rows (each row: case_code, outcome, observed_on)."""
    problems = []
    for row in rows:
        code = str(row.get("case_code") or "")
        answer = str(row.get("outcome") or "")
        if answer in ("", FollowUpAnswer.PENDING):
            continue
        kind = FOLLOW_UP_ANSWERS[FollowUpAnswer(answer)]
        try:
            with session.begin_nested() as nested:
                record_follow_up(session, code, kind, on=_form_day(row.get("observed_on")), actor=ACTOR)
                nested.rollback()
        except FollowUpRefused as exc:
            problems.append(str(exc))
    return problems


def record_follow_up_rows(session: Session, rows: Sequence[dict[str, Any]], *, actor: str = ACTOR) -> dict[str, int]:
    """Apply a follow-up form's (validated) rows; "da verificare" leaves the step as it is."""
    counts: dict[str, int] = {}
    for row in rows:
        answer = FollowUpAnswer(str(row.get("outcome") or FollowUpAnswer.PENDING))
        if answer is FollowUpAnswer.PENDING:
            counts["pending"] = counts.get("pending", 0) + 1
            continue
        kind = FOLLOW_UP_ANSWERS[answer]
        record_follow_up(session, str(row["case_code"]), kind, on=_form_day(row.get("observed_on")), actor=actor)
        counts[kind.value] = counts.get(kind.value, 0) + 1
    return counts


def _form_day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --------------------------------------------------------------------------------------------
# The CPI's outcome file


def record_outcome_file(
    session: Session, path: Path, sender_code: str, *, flow_run_id: str | None = None
) -> dict[str, int]:
    """Hires and non-selections after interviews, and 180-day checks of hires; each valid row
    acts once, bad rows are kept with every error and reported to the sender."""
    imp, table = start_import(session, path, kind="outcome", sender_code=sender_code, required=["case_code", "result"])
    if table is None:
        return {"already_imported": 1}

    def apply(_number: int, outcome: Outcome) -> str:
        case = session.get(Case, outcome.case_id)
        assert case is not None
        if outcome.kind in FOLLOW_UP_KINDS:
            try:
                record_follow_up(session, case.code, outcome.kind, on=outcome.observed_on, actor=ACTOR)
            except FollowUpRefused as exc:
                raise RowRejected("result", str(exc)) from None
            return outcome.kind.value
        session.add(outcome)
        target = State.HIRED if outcome.kind is OutcomeKind.HIRED else State.NOT_SELECTED
        reason = f"company:{outcome.company_code}"
        transition(session, case, target, actor=ACTOR, reason=reason, flow_run_id=flow_run_id)
        if target is State.HIRED:  # checked 180 days after the start the file gives
            set_step(case, FOLLOW_UP_STEP, due=follow_up_due(outcome.start or clock.today()))
            session.add(case)
        return target.value

    return dict(import_rows(session, imp, table, lambda raw: _outcome_row(session, raw), apply))


def _outcome_row(session: Session, raw: dict[str, Any]) -> Outcome:
    """The outcome of one file row (not yet added), or every error of the row at once."""
    errors: list[tuple[str, str]] = []
    kind = _RESULTS.get(" ".join(str(raw.get("result") or "").split()).casefold())
    if kind is None:
        errors.append(
            (
                "result",
                "esito non riconosciuto (assunto / non selezionato; a 180 giorni: ancora occupato / "
                "cessato / non rintracciabile)",
            )
        )
    code = str(raw.get("case_code") or "").strip()
    case = session.exec(select(Case).where(Case.code == code)).first()
    wanted = State.HIRED if kind in FOLLOW_UP_KINDS else State.INTERVIEW
    if case is None or case.id is None:
        errors.append(("case_code", "pratica inesistente (usare il codice pratica, es. BG-2026-000123)"))
    elif case.state is not wanted:
        what = "assunta" if wanted is State.HIRED else "in colloquio"
        errors.append(("case_code", f"pratica non {what} (stato: {state_label(case.state)})"))
    company = str(raw.get("company") or "").strip() or None
    if company and session.get(Organisation, company) is None:
        errors.append(("company", "azienda sconosciuta (usare il codice azienda della rete, es. COMP-…)"))
    start = observed = None
    try:
        start = parse_date(raw["start"]) if raw.get("start") not in (None, "") else None
    except ValueError as exc:
        errors.append(("start", str(exc)))
    try:
        observed = parse_date(raw["observed_on"]) if raw.get("observed_on") not in (None, "") else None
    except ValueError as exc:
        errors.append(("observed_on", str(exc)))
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
        observed_on=observed,
    )
