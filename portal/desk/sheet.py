"""Scheda: one case with the person's identity and contacts, the referrer, the timeline in words,
consents per purpose and recipient, notes, the next step, and closing with a reason.

Every view writes an audit row; every change is audited with the account that made it. A
consent to give the contacts to a company releases them at once to that company when it has
asked (tasks/interest.py: ``release_contacts``, the interest stage's own step): the email is
queued in the same transaction and leaves with the next drain of the outbox.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from config.next_steps import load_next_steps
from models import clock
from models.accounts import CaseNote, Role
from models.cases import Case, CaseEvent
from models.enums import ConsentPurpose, InterestAnswer, OrgKind
from models.exchange import Interest
from models.ops import AuditLog
from models.people import Consent, Organisation, Person, Referral
from models.state_machine import OPEN
from portal.desk.app import DB, PREFIX, DeskRefusal, Form, SignedIn, User, actor, check_csrf, render
from portal.desk.cases import audit_reads, load_case
from portal.desk.labels import (
    CHANNELS,
    LANGUAGE_LABELS,
    PURPOSE_LABELS,
    actor_label,
    consent_source_label,
    reason_label,
)
from tasks.core.closure import CLOSURE_LABELS, OPERATOR_REASONS, ClosureRefused, close_cases
from tasks.core.consent import grant_consent, withdraw
from tasks.core.next_steps import owner_label, set_step, step_label

router = APIRouter()
NOTE_MAX = 2000
MESSAGES = {
    "consenso": "Consenso registrato.",
    "recapiti": "Consenso registrato: i recapiti sono stati messi in invio all'azienda (email in coda).",
    "revoca": "Consenso revocato: da ora nulla viene più comunicato per questo scopo.",
    "nota": "Nota salvata.",
    "passo": "Prossimo passo aggiornato.",
    "chiusa": "Pratica chiusa. L'ente che ha segnalato la persona riceve l'avviso via email.",
}


def _case_or_404(session: Session, me: SignedIn, code: str) -> Case:
    case = load_case(session, me.user, code)
    if case is None or case.id is None:
        raise DeskRefusal(
            404, "Pratica non trovata", "Nessuna pratica con questo codice tra quelle che potete consultare."
        )
    return case


def _interested_companies(session: Session, case: Case) -> list[Organisation]:
    """Companies that asked about this profile (the recipients a contact consent is for)."""
    codes = session.exec(
        select(Interest.company_code).where(Interest.case_id == case.id, Interest.answer != InterestAnswer.NO)
    ).all()
    if not codes:
        return []
    return list(
        session.exec(
            select(Organisation).where(col(Organisation.code).in_(set(codes)), Organisation.kind == OrgKind.COMPANY)
        ).all()
    )


def _consent_rows(session: Session, case: Case, names: dict[str, str]) -> list[dict[str, Any]]:
    now = clock.utcnow().replace(tzinfo=None)
    rows = []
    for c in session.exec(
        select(Consent).where(Consent.person_key == case.person_key).order_by(col(Consent.purpose), col(Consent.id))
    ).all():
        expired = c.expires_at is not None and c.expires_at.replace(tzinfo=None) <= now
        status = "revocato" if c.withdrawn_at else ("scaduto" if expired else "valido")
        rows.append(
            {
                "row": c,
                "purpose": PURPOSE_LABELS.get(ConsentPurpose(c.purpose), "altro scopo"),
                "recipient": "destinatario previsto" if c.recipient_code == "*" else names.get(c.recipient_code, "—"),
                "source": consent_source_label(c.source),
                "status": status,
                "valid": status == "valido",
            }
        )
    return rows


@router.get("/pratiche/{code}", response_class=HTMLResponse)
def sheet(request: Request, code: str, session: DB, me: User) -> HTMLResponse:
    case = _case_or_404(session, me, code)
    person = session.exec(select(Person).where(Person.key == case.person_key)).first()
    names = {o.code: o.name for o in session.exec(select(Organisation)).all()}
    referrals = session.exec(select(Referral).where(Referral.case_id == case.id).order_by(col(Referral.id))).all()
    events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))).all()
    notes = session.exec(select(CaseNote).where(CaseNote.case_id == case.id).order_by(col(CaseNote.id))).all()
    accesses = []
    if me.user.role is Role.PRIVACY_OFFICER:
        accesses = list(
            session.exec(
                select(AuditLog).where(AuditLog.case_code == case.code).order_by(col(AuditLog.id).desc()).limit(50)
            ).all()
        )
    audit_reads(session, actor(me), [case.code], "scrivania: scheda della pratica")
    session.commit()
    timeline = [
        {
            "at": e.at,
            "to": e.to_state,
            "from": e.from_state,
            "who": actor_label(e.actor),
            "why": reason_label(e.reason),
        }
        for e in events
    ]
    recipients = [("*", "destinatario previsto dallo scopo")] + [
        (o.code, o.name) for o in _interested_companies(session, case)
    ]
    steps = sorted(((c, s.label) for c, s in load_next_steps().steps.items()), key=lambda x: x[1])
    return render(
        request,
        "sheet.html",
        me=me,
        case=case,
        person=person,
        language=LANGUAGE_LABELS.get(str(person.preferred_language), "") if person else "",
        office=names.get(case.office_code or "", "—"),
        referrals=[{"name": names.get(r.referrer_code, "—"), "at": r.received_at} for r in referrals],
        timeline=timeline,
        consents=_consent_rows(session, case, names),
        purposes=list(PURPOSE_LABELS.items()),
        recipients=recipients,
        channels=list(CHANNELS.items()),
        notes=notes,
        step=step_label(case.next_step) if case.next_step else "nessuno",
        owner=owner_label(case.owner, names) if case.owner else "—",
        steps=steps,
        is_open=case.state in OPEN,
        can_close=me.user.role is not Role.PRIVACY_OFFICER and case.state in OPEN,
        reasons=[(r.value, CLOSURE_LABELS[r]) for r in OPERATOR_REASONS],
        accesses=[{"at": a.at, "who": actor_label(a.actor), "why": a.purpose} for a in accesses],
        today=clock.today(),
        notice=MESSAGES.get(request.query_params.get("fatto", "")),
        current="pratiche",
    )


def _back(code: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/pratiche/{code}?fatto={done}", status_code=303)


def _given_at(value: str) -> datetime:
    """The day the person gave the consent (today by default), at noon Rome time; never future."""
    if not value:
        return clock.utcnow()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise DeskRefusal(422, "Data non valida", "Indicate la data del consenso nel formato gg/mm/aaaa.") from None
    if day > clock.today():
        raise DeskRefusal(422, "Data non valida", "La data del consenso non può essere futura.")
    return datetime.combine(day, time(12), tzinfo=clock.ROME).astimezone(UTC)


@router.post("/pratiche/{code}/consensi")
def record_consent(code: str, session: DB, me: User, form: Form) -> RedirectResponse:
    check_csrf(me, form)
    case = _case_or_404(session, me, code)
    try:
        purpose = ConsentPurpose(form.get("scopo", ""))
    except ValueError:
        raise DeskRefusal(422, "Scopo mancante", "Scegliete lo scopo del consenso.") from None
    channel = form.get("canale", "")
    if channel not in CHANNELS:
        raise DeskRefusal(422, "Modalità mancante", "Indicate come è stato raccolto il consenso.")
    recipient = form.get("destinatario") or "*"
    companies = {o.code for o in _interested_companies(session, case)}
    if recipient != "*" and recipient not in companies:
        raise DeskRefusal(422, "Destinatario non valido", "Scegliete un'azienda che ha chiesto del profilo.")
    if purpose is ConsentPurpose.CONTACT_TO_COMPANY and recipient == "*":
        raise DeskRefusal(
            422,
            "Azienda mancante",
            "Il consenso a comunicare i recapiti vale per una sola azienda: sceglietela nell'elenco.",
        )
    row = grant_consent(
        session, case.person_key, purpose, recipient=recipient, source=f"scrivania:{channel}:{me.user.username}"
    )
    row.given_at = _given_at(form.get("data", ""))
    session.add(row)
    audit_reads(
        session,
        actor(me),
        [case.code],
        f"consenso registrato: {PURPOSE_LABELS[purpose]} ({recipient})",
        action="consent_recorded",
    )
    done = "consenso"
    if purpose is ConsentPurpose.CONTACT_TO_COMPANY:
        from tasks.interest import release_contacts

        session.flush()
        if case.code in release_contacts(session):
            done = "recapiti"
    session.commit()
    return _back(case.code, done)


@router.post("/pratiche/{code}/consensi/revoca")
def withdraw_consent(code: str, session: DB, me: User, form: Form) -> RedirectResponse:
    check_csrf(me, form)
    case = _case_or_404(session, me, code)
    consent_id = form.get("consenso", "")
    row = session.get(Consent, int(consent_id)) if consent_id.isdigit() else None
    if row is None or row.person_key != case.person_key or row.withdrawn_at is not None:
        raise DeskRefusal(404, "Consenso non trovato", "Il consenso indicato non è tra quelli validi della pratica.")
    withdraw(session, case.person_key, ConsentPurpose(row.purpose), row.recipient_code)
    audit_reads(
        session,
        actor(me),
        [case.code],
        f"consenso revocato: {PURPOSE_LABELS[ConsentPurpose(row.purpose)]} ({row.recipient_code})",
        action="consent_withdrawn",
    )
    session.commit()
    return _back(case.code, "revoca")


@router.post("/pratiche/{code}/note")
def add_note(code: str, session: DB, me: User, form: Form) -> RedirectResponse:
    check_csrf(me, form)
    case = _case_or_404(session, me, code)
    text = form.get("testo", "").strip()
    if not text:
        raise DeskRefusal(422, "Nota vuota", "Scrivete il testo della nota.")
    if len(text) > NOTE_MAX:
        raise DeskRefusal(422, "Nota troppo lunga", f"La nota può avere al massimo {NOTE_MAX} caratteri.")
    assert case.id is not None
    session.add(CaseNote(case_id=case.id, author=me.user.username, text=text))
    audit_reads(session, actor(me), [case.code], "nota aggiunta alla pratica", action="note_added")
    session.commit()
    return _back(case.code, "nota")


@router.post("/pratiche/{code}/passo")
def change_step(code: str, session: DB, me: User, form: Form) -> RedirectResponse:
    check_csrf(me, form)
    case = _case_or_404(session, me, code)
    if case.state not in OPEN:
        raise DeskRefusal(409, "Pratica chiusa", "Una pratica chiusa non ha un prossimo passo.")
    step = form.get("passo", "")
    if step not in load_next_steps().steps:
        raise DeskRefusal(422, "Passo non valido", "Scegliete il prossimo passo dall'elenco.")
    due = None
    if form.get("scadenza"):
        try:
            due = date.fromisoformat(form["scadenza"])
        except ValueError:
            raise DeskRefusal(422, "Data non valida", "Indicate la scadenza nel formato gg/mm/aaaa.") from None
        if due < clock.today():
            raise DeskRefusal(422, "Data non valida", "La scadenza non può essere già passata.")
    set_step(case, step, due=due)
    case.updated_at = clock.utcnow()
    session.add(case)
    audit_reads(session, actor(me), [case.code], f"prossimo passo: {step_label(step)}", action="step_set")
    session.commit()
    return _back(case.code, "passo")


@router.post("/pratiche/{code}/chiusura")
def close(code: str, session: DB, me: User, form: Form) -> RedirectResponse:
    check_csrf(me, form)
    case = _case_or_404(session, me, code)
    if me.user.role is Role.PRIVACY_OFFICER:
        raise DeskRefusal(
            403, "Operazione non consentita", "La chiusura delle pratiche spetta al CPI o ai coordinatori."
        )
    try:
        close_cases(session, [case.code], form.get("motivo", ""), note=form.get("nota") or None, actor=actor(me))
    except ClosureRefused as exc:  # nothing moved (all or nothing); the request's session is discarded
        raise DeskRefusal(422, "Pratica non chiusa", str(exc)) from None
    from tasks.mail.closure_notice import tell_referrers

    tell_referrers(session, [case.code])
    session.commit()
    return _back(case.code, "chiusa")
