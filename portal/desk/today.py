"""Oggi: today's intake appointments of my office, with names, language and referrer; present/absent.

The mark is kept at the desk (``desk_attendance``) and pre-fills the office's intake form in
Moduli: the form's answer is what moves the case (Prefect stays the engine).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from models import clock
from models.accounts import Attendance
from models.cases import Case
from models.people import Organisation
from portal.desk.app import DB, PREFIX, DeskRefusal, Form, User, actor, check_csrf, render
from portal.desk.cases import audit_reads, first_referrers, load_case, office_scope, people_of
from portal.desk.labels import LANGUAGE_LABELS

router = APIRouter()


def _day_bounds() -> tuple[datetime, datetime]:
    """Today in Rome as an interval of UTC instants."""
    start = datetime.combine(clock.today(), time(0), tzinfo=clock.ROME).astimezone(UTC)
    return start, start + timedelta(days=1)


def appointments(session: Session, me: User) -> list[Case]:
    start, end = _day_bounds()
    return list(
        session.exec(
            select(Case)
            .where(office_scope(me.user), col(Case.intake_at) >= start, col(Case.intake_at) < end)
            .order_by(col(Case.intake_at), col(Case.code))
        ).all()
    )


@router.get("/oggi", response_class=HTMLResponse)
def today_page(request: Request, session: DB, me: User) -> HTMLResponse:
    cases = appointments(session, me)
    people = people_of(session, cases)
    referrers = first_referrers(session, cases)
    names = {o.code: o.name for o in session.exec(select(Organisation)).all()}
    marks = {
        a.case_id: a
        for a in session.exec(
            select(Attendance).where(
                col(Attendance.case_id).in_([c.id for c in cases]), Attendance.day == clock.today()
            )
        ).all()
    }
    rows = []
    for case in cases:
        person = people.get(case.person_key)
        languages = [LANGUAGE_LABELS.get(str(person.preferred_language), "")] if person else []
        languages += [lang for lang in (person.languages if person else []) if lang not in languages]
        rows.append(
            {
                "case": case,
                "name": f"{person.family_name} {person.given_names}".strip() if person else "—",
                "native": f"{person.native_family_name} {person.native_given_names}".strip() if person else "",
                "languages": ", ".join(x for x in languages if x) or "—",
                "referrer": names.get(referrers.get(case.id or 0, ""), "—"),
                "mark": marks.get(case.id or 0),
            }
        )
    audit_reads(session, actor(me), [c.code for c in cases], "scrivania: appuntamenti di oggi")
    session.commit()
    notice = "Presenza registrata." if request.query_params.get("fatto") else None
    return render(request, "today.html", me=me, rows=rows, day=clock.today(), current="oggi", notice=notice)


@router.post("/oggi/{code}/presenza")
def mark_attendance(code: str, session: DB, me: User, form: Form) -> RedirectResponse:
    check_csrf(me, form)
    case = load_case(session, me.user, code)
    if case is None or case.id is None:
        raise DeskRefusal(404, "Pratica non trovata", "Nessuna pratica con questo codice tra quelle del vostro CPI.")
    if form.get("presente") not in ("si", "no"):
        raise DeskRefusal(422, "Scelta mancante", "Indicate se la persona è presente o assente.")
    present = form["presente"] == "si"
    mark = session.exec(
        select(Attendance).where(Attendance.case_id == case.id, Attendance.day == clock.today())
    ).first() or Attendance(case_id=case.id, day=clock.today(), present=present, actor=me.user.username)
    mark.present, mark.actor, mark.at = present, me.user.username, clock.utcnow()
    session.add(mark)
    audit_reads(session, actor(me), [case.code], "scrivania: presenza al colloquio", action="attendance")
    session.commit()
    return RedirectResponse(f"{PREFIX}/oggi?fatto=1", status_code=303)
