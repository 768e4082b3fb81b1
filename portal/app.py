"""The partner page: a company opens its signed link, sees the pseudonymous profile and answers.

Plain HTML forms (no JavaScript), Italian first. A valid answer writes or updates the Interest
row through :func:`tasks.interest.record_answer` and queues ``incontro.interest.recorded``
(resource ``incontro.interest.<id>``, case and company codes only), which triggers the interest
flow once the transaction commits. Guards, in order: rate limit, link signature and expiry,
form token (CSRF: a signed value bound to the link and to a SameSite cookie), then the case
(still open to answers, profile still shared with consent) and the company the link names.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.cases import Case, Profile
from models.enums import ConsentPurpose, InterestAnswer, OrgKind, State
from models.exchange import Interest, Vacancy
from models.people import Organisation
from portal.common import (
    TEMPLATES,
    FormWords,
    PortalRefusal,
    RateLimiter,
    check_form_token,
    check_rate,
    client_key,
    environment,
    form_fields,
    secure_cookies,
    set_form_cookie,
    stylesheet,
)
from tasks.core.consent import has_consent
from tasks.core.profiles import profile_row
from tasks.interest import record_answer
from tasks.mail.links import (
    AnswerLink,
    LinkError,
    csrf_token,
    new_nonce,
    token_digest,
    verify_link,
)
from tasks.runtime.db import get_engine, session_scope
from tasks.runtime.event_names import INTEREST_RECORDED
from tasks.runtime.events import EventSpec, queue_event

CSRF_COOKIE = "incontro_form"
MAX_FORM_BYTES = 4096

#: States in which a company may (still) answer or change its answer about a dispatched profile.
ANSWERABLE: frozenset[State] = frozenset({State.DISPATCHED, State.INTEREST, State.INTERVIEW})

#: Form value → stored answer, with the label the company reads.
ANSWERS: dict[str, tuple[InterestAnswer, str]] = {
    "interessato": (InterestAnswer.INTERESTED, "Siamo interessati al profilo"),
    "colloquio": (InterestAnswer.INTERVIEW, "Vogliamo fissare un colloquio"),
    "no": (InterestAnswer.NO, "Non siamo interessati"),
}
ANSWER_LABELS: dict[InterestAnswer, str] = {
    InterestAnswer.INTERESTED: "interessati",
    InterestAnswer.INTERVIEW: "colloquio",
    InterestAnswer.NO: "non interessati",
}
#: Typed reasons for "no" (stored as the code: no free text, so nothing personal is typed in).
NO_REASONS: dict[str, str] = {
    "profilo_non_adatto": "Il profilo non corrisponde alla mansione",
    "posizione_coperta": "La posizione è già stata coperta",
    "italiano_insufficiente": "Livello di italiano non sufficiente per la mansione",
    "patente_mancante": "Manca la patente richiesta",
    "distanza": "La sede di lavoro è troppo lontana dalla zona indicata",
    "altro": "Altro motivo",
}
_SHOWN_FIELDS = (
    ("occupations", "Professioni"),
    ("italian", "Italiano (QCER)"),
    ("licence", "Patente"),
    ("area", "Zona"),
)

_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class Target:
    """What a verified link points at, loaded from the database."""

    link: AnswerLink
    case: Case
    company: Organisation
    vacancy: Vacancy | None
    profile: dict[str, str]
    current: Interest | None


def create_app(
    *,
    engine: Engine | None = None,
    post_limit: tuple[int, float] = (20, 60.0),
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The portal app; ``engine`` defaults to the configured database, ``post_limit`` is
    (answers, seconds) per client address and per link, ``clock`` gives link/form time."""
    app = FastAPI(title="Incontro – risposte delle aziende", docs_url=None, redoc_url=None, openapi_url=None)
    from portal.desk.app import PREFIX as DESK_PREFIX
    from portal.desk.app import create_desk_app

    app.mount(DESK_PREFIX, create_desk_app(engine=engine))  # the operators' desk (docs/DESK.md)
    from portal.partners.app import PREFIX as PARTNERS_PREFIX
    from portal.partners.app import create_partners_app

    app.mount(PARTNERS_PREFIX, create_partners_app(engine=engine, clock=clock))  # referrers' pages (issue 20)
    from portal.companies.app import PREFIX as COMPANIES_PREFIX
    from portal.companies.app import create_companies_app

    # Confindustria's batch page and the companies' pages (issue 20)
    app.mount(COMPANIES_PREFIX, create_companies_app(engine=engine, post_limit=post_limit, clock=clock))
    env = environment(TEMPLATES)
    limiter = RateLimiter(*post_limit)
    secure_cookie = secure_cookies()

    def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(**context), status_code=status_code)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Pages hold a credential in their URL: never cache, frame or leak them via Referer."""
        response = await call_next(request)
        response.headers.update(
            {
                "Content-Security-Policy": _CSP,
                "X-Content-Type-Options": "nosniff",
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
                "Cross-Origin-Opener-Policy": "same-origin",
                "Cross-Origin-Resource-Policy": "same-origin",
                "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            }
        )
        if secure_cookie:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    @app.exception_handler(PortalRefusal)
    async def refused(_request: Request, exc: PortalRefusal) -> HTMLResponse:
        response = page("error.html", exc.status_code, title=exc.title, message=exc.message)
        response.headers.update(exc.headers)
        return response

    @app.get("/", response_class=HTMLResponse)
    def home() -> HTMLResponse:
        return page("home.html")

    @app.get("/salute", response_class=PlainTextResponse)
    def health() -> PlainTextResponse:
        """For the reverse proxy's health check (no database round trip)."""
        return PlainTextResponse("ok")

    @app.get("/portal.css")
    def portal_css() -> Response:
        return stylesheet(TEMPLATES / "portal.css")

    @app.get("/r/{token}", response_class=HTMLResponse)
    def answer_form(token: str) -> HTMLResponse:
        with session_scope(engine or get_engine()) as session:
            target = _load(session, token, clock())
        nonce = new_nonce()
        response = page("answer.html", **_form_context(target, token, csrf_token(token, nonce, now=clock())))
        set_form_cookie(response, CSRF_COOKIE, nonce, secure=secure_cookie, path="/r/")
        return response

    @app.post("/r/{token}", response_class=HTMLResponse)
    def answer_post(token: str, request: Request, form: dict[str, str] = Depends(answer_fields)) -> Response:  # noqa: B008
        keys = (client_key(request), f"link:{token_digest(token)}")
        check_rate(limiter, keys, title="Troppi tentativi", too_many="troppe risposte")
        _verified(token, clock())  # a broken or expired link explains itself before the form does
        check_form_token(
            token,
            request,
            CSRF_COOKIE,
            form,
            now=clock(),
            then="Riaprite il link dall'email e inviate di nuovo la risposta.",
        )
        with session_scope(engine or get_engine()) as session:
            target = _load(session, token, clock())
            choice = ANSWERS.get(form.get("answer", ""))
            reason = form.get("reason") or None
            error = None
            if choice is None:
                error = "Scegliete una delle tre risposte."
            elif choice[0] is InterestAnswer.NO and reason not in NO_REASONS:
                error = "Per rispondere «non interessati» indicate il motivo."
            if error is not None or choice is None:
                nonce = request.cookies.get(CSRF_COOKIE) or new_nonce()
                ctx = _form_context(target, token, csrf_token(token, nonce, now=clock()))
                ctx.update(error=error, chosen=form.get("answer"))
                return page("answer.html", 422, **ctx)
            answer = choice[0]
            reason = reason if answer is InterestAnswer.NO else None
            current = target.current
            if current is not None and current.answer is answer and current.reason == reason:
                return RedirectResponse(f"/r/{token}/conferma?invariata=1", status_code=303)
            row = record_answer(
                session,
                company_code=target.company.code,
                case_code=target.case.code,
                answer=answer,
                reason=reason,
                vacancy_code=target.vacancy.code if target.vacancy else None,
                channel="portal",
            )
            session.flush()
            queue_event(
                session,
                EventSpec(
                    name=INTEREST_RECORDED,
                    resource_id=f"incontro.interest.{row.id}",
                    labels={"incontro.case": target.case.code, "incontro.company": target.company.code},
                    payload={"case_code": target.case.code, "company_code": target.company.code},
                ),
            )
        return RedirectResponse(f"/r/{token}/conferma", status_code=303)

    @app.get("/r/{token}/conferma", response_class=HTMLResponse)
    def confirmation(token: str, invariata: int = 0) -> Response:
        with session_scope(engine or get_engine()) as session:
            target = _load(session, token, clock(), for_confirmation=True)
        if target.current is None:
            return RedirectResponse(f"/r/{token}", status_code=303)
        return page(
            "done.html",
            token=token,
            target=target,
            answer_label=ANSWER_LABELS[target.current.answer],
            reason_label=NO_REASONS.get(target.current.reason or "", ""),
            unchanged=bool(invariata),
            open_to_change=State(target.case.state) in ANSWERABLE,
        )

    return app


_ANSWER_WORDS = FormWords(
    wrong_type="Inviate la risposta con il modulo della pagina.",
    too_long="La risposta inviata è troppo lunga.",
    unreadable="La risposta inviata non è leggibile.",
    repeated="La risposta contiene campi ripetuti.",
)


async def answer_fields(request: Request) -> dict[str, str]:
    """The answer form of a portal page (also the companies' pages'): small, at most 10 fields."""
    return await form_fields(request, max_bytes=MAX_FORM_BYTES, max_fields=10, words=_ANSWER_WORDS)


def _verified(token: str, now: float) -> AnswerLink:
    try:
        return verify_link(token, now=now)
    except LinkError as exc:
        raise PortalRefusal(exc.status_code, exc.title, str(exc)) from None


def _load(session: Session, token: str, now: float, *, for_confirmation: bool = False) -> Target:
    """Verify the link and load what it names; refuse with a page when it cannot be answered."""
    link = _verified(token, now)
    company = session.get(Organisation, link.company_code)
    if company is None or company.kind is not OrgKind.COMPANY:
        raise PortalRefusal(
            403,
            "Link non destinato a un'azienda",
            "Questo link non corrisponde a nessuna azienda registrata. Usate il link ricevuto per la vostra "
            "azienda oppure scrivete a Confindustria Bergamo.",
        )
    vacancy = None
    if link.vacancy_code is not None:
        vacancy = session.exec(select(Vacancy).where(Vacancy.code == link.vacancy_code)).first()
        if vacancy is None or vacancy.company_code != company.code:
            raise PortalRefusal(
                403,
                "Posizione di un'altra azienda",
                "La posizione indicata nel link non appartiene alla vostra azienda o non è più aperta.",
            )
    case = session.exec(select(Case).where(Case.code == link.case_code)).first()
    profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first() if case else None
    if (
        case is None
        or profile is None
        or not has_consent(session, case.person_key, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA)
    ):
        raise PortalRefusal(
            410,
            "Profilo non più disponibile",
            "Questo profilo non è più disponibile per le aziende. Non è necessario fare altro.",
        )
    current = session.exec(
        select(Interest).where(
            Interest.company_code == company.code,
            Interest.case_id == case.id,
            Interest.vacancy_id == (vacancy.id if vacancy else None),
        )
    ).first()
    state = State(case.state)
    if state not in ANSWERABLE and not (for_confirmation and current is not None):
        closed = state in (State.CLOSED, State.WITHDRAWN, State.ERASED)
        raise PortalRefusal(
            409,
            "Pratica chiusa" if closed else "Selezione già conclusa",
            (
                "La ricerca di lavoro per questo profilo è chiusa: la risposta non è più necessaria."
                if closed
                else "Per questo profilo la selezione è andata avanti e le risposte da questo link sono chiuse. "
                "Per comunicazioni rivolgetevi al Centro per l'Impiego indicato da Confindustria Bergamo."
            ),
        )
    row = profile_row(case, profile)
    shown = {label: str(row[field] or "—") for field, label in _SHOWN_FIELDS}
    return Target(link=link, case=case, company=company, vacancy=vacancy, profile=shown, current=current)


def _form_context(target: Target, token: str, csrf: str) -> dict[str, Any]:
    return {
        "token": token,
        "target": target,
        "csrf": csrf,
        "answers": [(value, label) for value, (_a, label) in ANSWERS.items()],
        "reasons": NO_REASONS,
        "current_value": next(
            (v for v, (a, _l) in ANSWERS.items() if target.current and target.current.answer is a), None
        ),
        "current_label": ANSWER_LABELS[target.current.answer] if target.current else None,
        "expires": datetime.fromtimestamp(target.link.expires_at, tz=UTC),
        "error": None,
        "chosen": None,
    }
