"""Confindustria's batch page and the member companies' pages, mounted at ``/profili``.

Every page is opened by a signed, expiring, single-purpose link (tasks/mail/links.py) that
names only codes: Confindustria × batch (``/lotto/``), company × batch (``/azienda/``), company
× vacancy (``/posizione/``). Plain HTML forms without JavaScript, Italian labels only. Every
POST passes, in order: the rate limit (per address and per link), the link, the form token
(CSRF: signed, bound to the link and a SameSite cookie, time-limited) and then the rules of the
domain (tasks/dispatch.py, tasks/vacancies.py, tasks/interest.py). Case codes travel in form
bodies, never in URLs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import clock as business_clock
from models.cases import Case, Profile
from models.enums import InterestAnswer, OrgKind, State
from models.exchange import Interest, Outcome
from models.labels import label
from models.people import Organisation
from portal.app import NO_REASONS, answer_fields
from portal.common import (
    PortalRefusal,
    RateLimiter,
    check_form_token,
    check_rate,
    client_key,
    environment,
    secure_cookies,
    set_form_cookie,
)
from tasks.core.profiles import profile_row
from tasks.dispatch import BatchUnknown, batch_profiles, company_batch_profiles, company_shares, send_company_links
from tasks.interest import DecisionRefused, process_answer, record_answer, record_decision, release_contacts
from tasks.mail.links import (
    PURPOSE_BATCH,
    PURPOSE_COMPANY_BATCH,
    PURPOSE_SHORTLIST,
    AnswerLink,
    LinkError,
    csrf_token,
    new_nonce,
    sign_link,
    token_digest,
    verify_page_link,
)
from tasks.runtime.db import get_engine, session_scope
from tasks.vacancies import ShortlistEntry, ShortlistUnknown, company_shortlist

PREFIX = "/profili"
TEMPLATES = Path(__file__).resolve().parent / "templates"
CSRF_COOKIE = "incontro_profili"
ALL = "tutte"
#: What a company may do about one profile of its shortlist, by the form's ``azione``.
ACTIONS = ("colloquio", "no", "data", "assunta", "non_selezionata")
#: The public profile's fields a page shows, with their Italian labels (tasks/core/profiles.py).
SHOWN = (
    ("occupations", "Professioni"),
    ("skills", "Competenze"),
    ("experience_years", "Esperienza (anni)"),
    ("italian", "Italiano (QCER)"),
    ("licence", "Patente"),
    ("education", "Titolo di studio"),
    ("availability", "Disponibilità"),
    ("area", "Zona"),
)
#: The company's own answers, as it reads them on its pages.
ANSWER_WORDS: dict[str, str] = {
    InterestAnswer.INTERESTED.value: "interessati",
    InterestAnswer.INTERVIEW.value: "colloquio richiesto",
    InterestAnswer.NO.value: "non interessati",
}
#: Interview dates a company may give: from this many days ago to this many ahead.
INTERVIEW_PAST_DAYS, INTERVIEW_AHEAD_DAYS = 60, 180


@dataclass(frozen=True)
class ProfileView:
    """A profile as a page shows it: its code and its public fields by Italian label."""

    code: str
    fields: dict[str, str]


def profile_view(case: Case, profile: Profile) -> ProfileView:
    row = profile_row(case, profile)
    return ProfileView(case.code, {name: str(row[key]) if row[key] not in ("", None) else "—" for key, name in SHOWN})


def _environment() -> Environment:
    env = environment(TEMPLATES)
    env.filters["day"] = lambda value: value.strftime("%d/%m/%Y") if isinstance(value, date) else ""
    env.filters["label"] = lambda value: label(value) if value is not None else ""
    env.filters["said"] = lambda value: ANSWER_WORDS.get(getattr(value, "value", str(value)), "")
    return env


def create_companies_app(
    *,
    engine: Engine | None = None,
    post_limit: tuple[int, float] = (30, 60.0),
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The sub-app; ``post_limit`` is (sends, seconds) per client address and per link."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    env = _environment()
    limiter = RateLimiter(*post_limit)
    secure_cookie = secure_cookies()

    def db() -> Engine:
        return engine or get_engine()

    def page(template: str, status_code: int = 200, *, token: str, nonce: str | None = None, **ctx: Any) -> Response:
        nonce = nonce or new_nonce()
        body = env.get_template(template).render(csrf=csrf_token(token, nonce, now=clock()), token=token, **ctx)
        response = HTMLResponse(body, status_code=status_code)
        set_form_cookie(response, CSRF_COOKIE, nonce, secure=secure_cookie, path=PREFIX)
        return response

    @app.exception_handler(PortalRefusal)
    async def refused(_request: Request, exc: PortalRefusal) -> HTMLResponse:
        body = env.get_template("error.html").render(  # the portal's, inside this app's _base.html
            title=exc.title, message=exc.message, nothing_done="Nessuna operazione è stata registrata."
        )
        response = HTMLResponse(body, status_code=exc.status_code)
        response.headers.update(exc.headers)
        return response

    def guard_post(request: Request, token: str, purpose: str, form: dict[str, str]) -> AnswerLink:
        """Rate limit, link, then form token: nothing is read or written before all three pass."""
        keys = (client_key(request), f"link:{token_digest(token)}")
        check_rate(limiter, keys, title="Troppi tentativi", too_many="troppe richieste")
        link = _verified(token, purpose, clock())
        check_form_token(
            token, request, CSRF_COOKIE, form, now=clock(), then="Riaprite il link dall'email e ripetete l'operazione."
        )
        return link

    # ----------------------------------------------------------------- Confindustria's batch page

    @app.get("/lotto/{token}", response_class=HTMLResponse)
    def batch_page(token: str, inviate: int | None = None) -> Response:
        with session_scope(db()) as session:
            ctx = _batch_context(session, token, clock())
        return page("batch.html", token=token, sent_now=inviate, **ctx)

    @app.post("/lotto/{token}", response_class=HTMLResponse)
    def batch_send(token: str, request: Request, form: dict[str, str] = Depends(answer_fields)) -> Response:  # noqa: B008
        link = guard_post(request, token, PURPOSE_BATCH, form)
        with session_scope(db()) as session:
            ctx = _batch_context(session, token, clock())
            choice = form.get("azienda", "")
            codes = [s.company_code for s in ctx["shares"]]
            if choice != ALL and choice not in codes:
                return page(
                    "batch.html",
                    422,
                    token=token,
                    nonce=request.cookies.get(CSRF_COOKIE),
                    sent_now=None,
                    **(ctx | {"error": "Scegliete un'azienda dell'elenco oppure «tutte»."}),
                )
            wanted = codes if choice == ALL else [choice]
            sent = send_company_links(session, link.case_code, wanted, actor=f"portal:{link.company_code}")
        return RedirectResponse(f"{PREFIX}/lotto/{token}?inviate={len(sent)}", status_code=303)

    # ----------------------------------------------------------------- a company's profiles of a batch

    @app.get("/azienda/{token}", response_class=HTMLResponse)
    def company_batch(token: str) -> Response:
        with session_scope(db()) as session:
            link = _verified(token, PURPOSE_COMPANY_BATCH, clock())
            company = _company(session, link.company_code)
            try:
                pairs = company_batch_profiles(session, link.case_code, company.code)
            except BatchUnknown:
                raise _gone() from None
            answers = {
                row.case_id: row
                for row in session.exec(
                    select(Interest).where(Interest.company_code == company.code, Interest.vacancy_id == None)  # noqa: E711
                ).all()
            }
            rows = [
                {
                    "profile": profile_view(case, profile),
                    "answer": answers.get(case.id or 0),
                    "url": f"/r/{sign_link(company.code, case.code, now=clock())}",
                }
                for case, profile in pairs
            ]
        return page("company_batch.html", token=token, company=company, batch_code=link.case_code, rows=rows)

    # ----------------------------------------------------------------- a vacancy's shortlist

    @app.get("/posizione/{token}", response_class=HTMLResponse)
    def shortlist_page(token: str, fatto: str | None = None) -> Response:
        with session_scope(db()) as session:
            ctx = _shortlist_context(session, token, clock())
        return page("shortlist.html", token=token, done=fatto, **ctx)

    @app.post("/posizione/{token}", response_class=HTMLResponse)
    def shortlist_answer(token: str, request: Request, form: dict[str, str] = Depends(answer_fields)) -> Response:  # noqa: B008
        link = guard_post(request, token, PURPOSE_SHORTLIST, form)
        with session_scope(db()) as session:
            ctx = _shortlist_context(session, token, clock())
            entry = next((e for e in ctx["entries"] if e.case.code == form.get("profilo")), None)
            error = (
                "Il profilo indicato non è tra quelli proposti per questa posizione."
                if entry is None
                else apply_answer(session, link, entry, form)
            )
            if error is not None:
                if entry is None:
                    ctx["page_error"] = error
                ctx["errors"] = {form.get("profilo", ""): error}
                ctx["chosen"] = {form.get("profilo", ""): form}  # what was chosen stays chosen
                return page(
                    "shortlist.html", 422, token=token, nonce=request.cookies.get(CSRF_COOKIE), done=None, **ctx
                )
        return RedirectResponse(f"{PREFIX}/posizione/{token}?fatto={form.get('azione')}", status_code=303)

    return app


def _verified(token: str, purpose: str, now: float) -> AnswerLink:
    try:
        return verify_page_link(token, purpose, now=now)
    except LinkError as exc:
        raise PortalRefusal(exc.status_code, exc.title, str(exc)) from None


def _gone() -> PortalRefusal:
    return PortalRefusal(
        404,
        "Pagina non disponibile",
        "Questa pagina non è disponibile: usate il link ricevuto per email, senza modificarlo.",
    )


def _company(session: Session, code: str) -> Organisation:
    company = session.get(Organisation, code)
    if company is None or company.kind is not OrgKind.COMPANY:
        raise PortalRefusal(
            403,
            "Link non destinato a un'azienda",
            "Questo link non corrisponde a nessuna azienda registrata. Scrivete a Confindustria Bergamo.",
        )
    return company


def _batch_context(session: Session, token: str, now: float) -> dict[str, Any]:
    link = _verified(token, PURPOSE_BATCH, now)
    org = session.get(Organisation, link.company_code)
    if org is None or org.kind is not OrgKind.CONFINDUSTRIA:
        raise _gone()
    try:
        pairs = batch_profiles(session, link.case_code)
        shares = company_shares(session, link.case_code)
    except BatchUnknown:
        raise _gone() from None
    return {
        "batch_code": link.case_code,
        "profiles": [profile_view(c, p) for c, p in pairs],
        "shares": shares,
        "pending": sum(1 for s in shares if s.sent_at is None),
        "expires": datetime.fromtimestamp(link.expires_at, tz=UTC),
        "error": None,
    }


def _shortlist_context(session: Session, token: str, now: float) -> dict[str, Any]:
    link = _verified(token, PURPOSE_SHORTLIST, now)
    company = _company(session, link.company_code)
    try:
        vacancy, entries = company_shortlist(session, link.case_code, company.code)
    except ShortlistUnknown:
        raise _gone() from None
    outcomes = {
        o.case_id: o
        for o in session.exec(
            select(Outcome).where(Outcome.vacancy_code == vacancy.code, Outcome.company_code == company.code)
        ).all()
    }
    return {
        "company": company,
        "vacancy": vacancy,
        "entries": entries,
        "views": {e.case.code: profile_view(e.case, e.profile) for e in entries},
        "outcomes": {e.case.code: outcomes.get(e.case.id or 0) for e in entries},
        "reasons": NO_REASONS,
        "errors": {},
        "page_error": None,
        "chosen": {},
        "today": business_clock.today(),
        "expires": datetime.fromtimestamp(link.expires_at, tz=UTC),
    }


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def apply_answer(session: Session, link: AnswerLink, entry: ShortlistEntry, form: dict[str, str]) -> str | None:
    """Record one action of the company about one profile of its shortlist (the page's form fields:
    ``azione``, ``motivo``, ``data``); the Italian error, or None when done."""
    action = form.get("azione", "")
    if action not in ACTIONS:
        return "Scegliete una delle risposte proposte."
    state = State(entry.case.state)
    given = (form.get("data") or "").strip()
    day = _day(given)
    if given and day is None:
        return "La data non è valida: scrivetela come gg/mm/aaaa o sceglietela dal calendario."
    today = business_clock.today()
    if action in ("colloquio", "data") and day is not None:
        if not (today.toordinal() - INTERVIEW_PAST_DAYS <= day.toordinal() <= today.toordinal() + INTERVIEW_AHEAD_DAYS):
            return "La data del colloquio è troppo lontana da oggi: controllatela."
    if action in ("colloquio", "no"):
        if state in (State.HIRED, State.CLOSED, State.WITHDRAWN, State.ERASED):
            return "La selezione per questo profilo è conclusa: la risposta non si può più cambiare."
        reason = form.get("motivo") or None
        if action == "no" and reason not in NO_REASONS:
            return "Per rispondere «non interessati» scegliete il motivo dall'elenco."
        answer = InterestAnswer.INTERVIEW if action == "colloquio" else InterestAnswer.NO
        row = record_answer(
            session,
            company_code=link.company_code,
            case_code=entry.case.code,
            answer=answer,
            reason=reason if answer is InterestAnswer.NO else None,
            vacancy_code=link.case_code,
            channel="portal",
        )
        if answer is InterestAnswer.INTERVIEW:
            row.interview_on = day
        session.flush()
        process_answer(session, row)
        if answer is InterestAnswer.INTERVIEW and row.id is not None:
            release_contacts(session, only=[row.id])
        return None
    current = entry.interest
    if current is None or current.answer is not InterestAnswer.INTERVIEW:
        return "Prima indicate che volete fare un colloquio con questa persona."
    if action == "data":
        if day is None:
            return "Indicate la data del colloquio."
        current.interview_on = day
        session.add(current)
        return None
    try:
        record_decision(session, current, hired=action == "assunta", start=day, vacancy_code=link.case_code)
    except DecisionRefused as exc:
        return str(exc)
    return None
