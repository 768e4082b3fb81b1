"""Interest stage steps: company answers move cases; contacts released only with consent."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models import clock
from models.cases import Case
from models.clock import utcnow
from models.enums import ConsentPurpose, InterestAnswer, OutcomeKind, State
from models.exchange import Interest, Outcome, Vacancy
from models.people import Organisation, Person
from tasks.core.audit import audit_read
from tasks.core.consent import has_consent
from tasks.core.next_steps import FOLLOW_UP_STEP, follow_up_due, set_step
from tasks.core.partners import consenting_referrers
from tasks.core.transitions import transition
from tasks.files.imports import RowRejected, import_rows, start_import
from tasks.files.tabular import FileRejected
from tasks.mail.outbox import enqueue_email

ACTOR = "flow:interest"
_ANSWERS = {
    "interessato": InterestAnswer.INTERESTED,
    "interessata": InterestAnswer.INTERESTED,
    "interested": InterestAnswer.INTERESTED,
    "si": InterestAnswer.INTERESTED,
    "sì": InterestAnswer.INTERESTED,
    "colloquio": InterestAnswer.INTERVIEW,
    "interview": InterestAnswer.INTERVIEW,
    "no": InterestAnswer.NO,
    "non interessato": InterestAnswer.NO,
    "non interessata": InterestAnswer.NO,
}


def record_answer(
    session: Session,
    *,
    company_code: str,
    case_code: str,
    answer: InterestAnswer,
    reason: str | None = None,
    vacancy_code: str | None = None,
    channel: str = "operator",
) -> Interest:
    """Store (or update) one company's answer about one profile; processing happens in the flow."""
    case = session.exec(select(Case).where(Case.code == case_code)).first()
    if case is None or case.id is None:
        raise LookupError(f"pratica {case_code} inesistente")
    if session.get(Organisation, company_code) is None:
        raise LookupError(f"azienda {company_code} sconosciuta")
    vacancy_id = None
    if vacancy_code:
        vacancy = session.exec(select(Vacancy).where(Vacancy.code == vacancy_code)).first()
        vacancy_id = vacancy.id if vacancy else None
    row = session.exec(
        select(Interest).where(
            Interest.company_code == company_code, Interest.case_id == case.id, Interest.vacancy_id == vacancy_id
        )
    ).first()
    row = row or Interest(company_code=company_code, case_id=case.id, vacancy_id=vacancy_id, answer=answer)
    row.answer, row.reason, row.channel, row.processed, row.answered_at = answer, reason, channel, False, utcnow()
    session.add(row)
    return row


def ingest_interest_file(session: Session, path: Path, sender_code: str) -> dict[str, int]:
    """Confindustria's CSV/XLSX of company answers; bad rows are kept with their errors and
    reported to the sender."""
    imp, table = start_import(
        session, path, kind="interest", sender_code=sender_code, required=["company", "case_code", "answer"]
    )
    if table is None:
        return {"already_imported": 1}
    if not table.rows:
        raise FileRejected(f"{path.name}: nessuna riga di risposta")

    def apply(_number: int, answer: dict[str, Any]) -> str:
        record_answer(session, **answer)
        return "accepted"

    return dict(import_rows(session, imp, table, lambda raw: _answer_row(session, raw), apply))


def _answer_row(session: Session, raw: dict[str, Any]) -> dict[str, Any]:
    """One file row as :func:`record_answer` arguments, or every error of it at once."""
    errors: list[tuple[str, str]] = []
    answer = _ANSWERS.get(str(raw.get("answer") or "").strip().casefold())
    if answer is None:
        errors.append(("answer", "esito non riconosciuto (interessato / colloquio / no)"))
    company = str(raw.get("company") or "").strip()
    if session.get(Organisation, company) is None:
        errors.append(("company", "azienda sconosciuta (usare il codice azienda della rete, es. COMP-…)"))
    code = str(raw.get("case_code") or "").strip()
    if session.exec(select(Case.id).where(Case.code == code)).first() is None:
        errors.append(("case_code", "pratica inesistente (usare il codice profilo del lotto, es. BG-2026-000123)"))
    if errors:
        raise RowRejected(*errors[0], more=errors[1:])
    return {
        "company_code": company,
        "case_code": code,
        "answer": answer,
        "reason": str(raw.get("reason") or "").strip() or None,
        "vacancy_code": str(raw.get("vacancy_code") or "").strip() or None,
        "channel": "file",
    }


def process_answers(session: Session, *, flow_run_id: str | None = None) -> dict[str, list[str]]:
    """Move cases for every unprocessed answer and tell the CPI office and the referrer."""
    moved: dict[str, list[str]] = {"interest": [], "interview": [], "not_selected": [], "unchanged": []}
    for row in session.exec(
        select(Interest).where(col(Interest.processed).is_(False)).order_by(col(Interest.id))
    ).all():
        for what, code in process_answer(session, row, flow_run_id=flow_run_id):
            moved[what].append(code)
    return moved


def process_answer(session: Session, row: Interest, *, flow_run_id: str | None = None) -> list[tuple[str, str]]:
    """Move the case of one answer, tell the CPI and the referrer, mark it processed; returns
    (what happened, case code) pairs. An answer about a shortlisted profile not yet dispatched
    (a vacancy's shortlist takes the whole pool) first puts it in the dispatched pool."""
    moved: list[tuple[str, str]] = []
    case = session.get(Case, row.case_id)
    assert case is not None
    state = State(case.state)
    company = session.get(Organisation, row.company_code)
    assert company is not None
    if row.answer is InterestAnswer.NO:
        if state in (State.INTEREST, State.INTERVIEW):
            transition(
                session,
                case,
                State.NOT_SELECTED,
                actor=ACTOR,
                reason=f"company:{company.code}:no",
                flow_run_id=flow_run_id,
            )
            moved.append(("not_selected", case.code))
        else:
            moved.append(("unchanged", case.code))
    else:
        if row.vacancy_id is not None and state in (State.PROFILE_READY, State.POLICY):
            transition(
                session, case, State.DISPATCHED, actor=ACTOR, reason="vacancy-shortlist", flow_run_id=flow_run_id
            )
            state = State.DISPATCHED
        if state in (State.DISPATCHED, State.NOT_SELECTED):
            if state is State.NOT_SELECTED:
                transition(session, case, State.DISPATCHED, actor=ACTOR, reason="back-to-pool", flow_run_id=flow_run_id)
            transition(
                session, case, State.INTEREST, actor=ACTOR, reason=f"company:{company.code}", flow_run_id=flow_run_id
            )
            moved.append(("interest", case.code))
            state = State.INTEREST
        if row.answer is InterestAnswer.INTERVIEW and state is State.INTEREST:
            transition(
                session, case, State.INTERVIEW, actor=ACTOR, reason=f"company:{company.code}", flow_run_id=flow_run_id
            )
            moved.append(("interview", case.code))
        if state not in (State.INTEREST, State.INTERVIEW):
            moved.append(("unchanged", case.code))
        _notify_interest(session, case, company, row)
    row.processed = True
    session.add(row)
    return moved


class DecisionRefused(ValueError):
    """A company's decision that cannot be recorded (the message says why, in Italian)."""


def record_decision(
    session: Session, row: Interest, *, hired: bool, start: date | None = None, vacancy_code: str | None = None
) -> Outcome:
    """The company's decision after an interview: hire (checked 180 days after ``start``) or not
    selected, as an outcome of the position, moving the case (INTERVIEW → HIRED / NOT_SELECTED)."""
    case = session.get(Case, row.case_id)
    assert case is not None and case.id is not None
    if case.state in (State.HIRED, State.NOT_SELECTED):  # a form sent twice changes nothing
        raise DecisionRefused("l'esito di questo colloquio è già registrato")
    if case.state is not State.INTERVIEW:
        raise DecisionRefused("l'esito si registra dopo il colloquio: prima indicate il colloquio e la sua data")
    kind = OutcomeKind.HIRED if hired else OutcomeKind.NOT_SELECTED
    outcome = Outcome(
        case_id=case.id,
        kind=kind,
        company_code=row.company_code,
        start=start if hired else None,
        vacancy_code=vacancy_code,
    )
    session.add(outcome)
    target = State.HIRED if hired else State.NOT_SELECTED
    transition(session, case, target, actor=ACTOR, reason=f"company:{row.company_code}")
    if hired:  # checked 180 days after the start the company gave
        set_step(case, FOLLOW_UP_STEP, due=follow_up_due(start or clock.today()))
        session.add(case)
    return outcome


def _notify_interest(session: Session, case: Case, company: Organisation, row: Interest) -> None:
    context = {"case_code": case.code, "company_name": company.name, "answer": row.answer.value}
    office = session.get(Organisation, case.office_code) if case.office_code else None
    base = f"case:{case.code}:interest:{company.code}:{row.answer.value}"
    if office is not None:
        enqueue_email(
            session,
            key=f"{base}:office",
            kind="interest_notice",
            recipient=office.email,
            recipient_code=office.code,
            case_code=case.code,
            context=context,
        )
    for referrer in consenting_referrers(session, case.id):
        enqueue_email(
            session,
            key=f"{base}:referrer:{referrer.code}",
            kind="interest_notice",
            recipient=referrer.email,
            recipient_code=referrer.code,
            case_code=case.code,
            context=context,
            reply_to=office.email if office else None,
        )


def release_contacts(session: Session, *, only: list[int] | None = None) -> list[str]:
    """Send the candidate's contact to each interested company the candidate consented to (logged);
    ``only``: just these answers (a company's shortlist page releases as it records)."""
    released = []
    query = select(Interest).where(col(Interest.contact_released_at).is_(None), Interest.answer != InterestAnswer.NO)
    if only is not None:
        query = query.where(col(Interest.id).in_(only))
    rows = session.exec(query).all()
    for row in rows:
        case = session.get(Case, row.case_id)
        assert case is not None
        if not has_consent(session, case.person_key, ConsentPurpose.CONTACT_TO_COMPANY, row.company_code):
            continue
        person = session.exec(select(Person).where(Person.key == case.person_key)).one()
        company = session.get(Organisation, row.company_code)
        assert company is not None
        office = session.get(Organisation, case.office_code) if case.office_code else None
        enqueue_email(
            session,
            key=f"case:{case.code}:contact-release:{company.code}",
            kind="contact_release",
            recipient=company.email,
            recipient_code=company.code,
            case_code=case.code,
            person_key=case.person_key,
            consent_purpose=ConsentPurpose.CONTACT_TO_COMPANY.value,
            reply_to=office.email if office else None,
            context={
                "case_code": case.code,
                "company_name": company.name,
                "candidate": {
                    "name": f"{person.given_names} {person.family_name}",
                    "phone": person.phone or "",
                    "email": person.email or "",
                },
            },
        )
        row.contact_released_at = utcnow()
        session.add(row)
        audit_read(
            session,
            actor=ACTOR,
            case_code=case.code,
            action="contact_release",
            purpose=f"consented contact release to {company.code}",
        )
        released.append(case.code)
    return released
