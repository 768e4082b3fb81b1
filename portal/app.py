"""The partner page: a company opens its signed link, sees the pseudonymous profile and answers.

Plain HTML forms (no JavaScript), Italian first. A valid answer writes or updates the Interest
row through :func:`tasks.interest.record_answer` and queues ``incontro.interest.recorded``
(resource ``incontro.interest.<id>``, case and company codes only), which triggers the interest
flow once the transaction commits. Guards, in order: rate limit, link signature and expiry,
form token (CSRF: a signed value bound to the link and to a SameSite cookie), then the case
(still open to answers, profile still shared with consent) and the company the link names.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import get_settings
from models.cases import Case, Profile
from models.enums import ConsentPurpose, InterestAnswer, OrgKind, State
from models.exchange import Interest, Vacancy
from models.people import Organisation
from tasks.core.consent import has_consent
from tasks.core.profiles import profile_row
from tasks.interest import record_answer
from tasks.mail.formatting import format_datetime_long
from tasks.mail.links import (
    AnswerLink,
    LinkError,
    check_csrf,
    csrf_token,
    new_nonce,
    token_digest,
    verify_link,
)
from tasks.runtime.db import get_engine, session_scope
from tasks.runtime.event_names import INTEREST_RECORDED
from tasks.runtime.events import EventSpec, queue_event

TEMPLATES = Path(__file__).resolve().parent / "templates"
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


class PortalRefusal(Exception):
    """A request the portal answers with an explanatory page; nothing is written."""

    def __init__(self, status_code: int, title: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message, self.headers = status_code, title, message, headers or {}


class RateLimiter:
    """Sliding-window counter per key, in memory (one portal process; a proxy limits globally)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one request; return the seconds to wait when ``key`` is over its limit."""
        now = self.clock()
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle keys so a flood of addresses cannot grow memory
                self._hits = {k: q for k, q in self._hits.items() if q and q[-1] > now - self.window}
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1.0, hits[0] + self.window - now)
            hits.append(now)
            return None


@dataclass
class Target:
    """What a verified link points at, loaded from the database."""

    link: AnswerLink
    case: Case
    company: Organisation
    vacancy: Vacancy | None
    profile: dict[str, str]
    current: Interest | None


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined, trim_blocks=True
    )
    env.filters["when"] = lambda value: format_datetime_long(value) if isinstance(value, datetime) else ""
    return env


def create_app(
    *,
    engine: Engine | None = None,
    post_limit: tuple[int, float] = (20, 60.0),
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The portal app; ``engine`` defaults to the configured database, ``post_limit`` is
    (answers, seconds) per client address and per link, ``clock`` gives link/form time."""
    app = FastAPI(title="Incontro – risposte delle aziende", docs_url=None, redoc_url=None, openapi_url=None)
    env = _environment()
    limiter = RateLimiter(*post_limit)
    secure_cookie = urlsplit(get_settings().portal_base_url).scheme == "https"

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
    def stylesheet() -> Response:
        css = (TEMPLATES / "portal.css").read_text(encoding="utf-8")
        return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/r/{token}", response_class=HTMLResponse)
    def answer_form(token: str) -> HTMLResponse:
        with session_scope(engine or get_engine()) as session:
            target = _load(session, token, clock())
        nonce = new_nonce()
        response = page("answer.html", **_form_context(target, token, csrf_token(token, nonce, now=clock())))
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=secure_cookie, path="/r/", max_age=7200
        )
        return response

    @app.post("/r/{token}", response_class=HTMLResponse)
    def answer_post(token: str, request: Request, form: dict[str, str] = Depends(_form_fields)) -> Response:  # noqa: B008
        client = request.client.host if request.client else "unknown"
        for key in (f"ip:{client}", f"link:{token_digest(token)}"):
            wait = limiter.hit(key)
            if wait is not None:
                raise PortalRefusal(
                    429,
                    "Troppi tentativi",
                    f"Avete inviato troppe risposte in poco tempo. Riprovate tra {int(wait) + 1} secondi.",
                    headers={"Retry-After": str(int(wait) + 1)},
                )
        _verified(token, clock())  # a broken or expired link explains itself before the form does
        if not check_csrf(token, request.cookies.get(CSRF_COOKIE), form.get("csrf"), now=clock()):
            raise PortalRefusal(
                403,
                "Modulo scaduto",
                "Il modulo non è più valido (è rimasto aperto troppo a lungo oppure il browser non accetta "
                "i cookie tecnici). Riaprite il link dall'email e inviate di nuovo la risposta.",
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


async def _form_fields(request: Request) -> dict[str, str]:
    """The url-encoded form, size-capped; a repeated field is refused rather than guessed."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise PortalRefusal(415, "Modulo non valido", "Inviate la risposta con il modulo della pagina.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PortalRefusal(413, "Modulo non valido", "La risposta inviata è troppo lunga.")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise PortalRefusal(400, "Modulo non valido", "La risposta inviata non è leggibile.") from None
    if any(len(values) != 1 for values in parsed.values()):
        raise PortalRefusal(400, "Modulo non valido", "La risposta contiene campi ripetuti.")
    return {name: values[0].strip() for name, values in parsed.items()}


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
