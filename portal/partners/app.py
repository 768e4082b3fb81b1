"""The partners' pages at ``/segnalazioni/`` (issue 20): a referring organisation (Caritas,
social services, associations, CPIA) refers one person per form and follows its referrals.

No accounts: the organisation opens the signed link the coordinators send to its address
(``incontro partner-link ORG``; tasks/mail/links.py ``sign_partner_link``, its own purpose and
key, with expiry). ``/segnalazioni/accesso/<token>`` checks it, keeps it in an HttpOnly cookie
scoped to these pages and sends the browser on without the token in the address bar; every page
checks the cookie again (signature, expiry, a referring organisation), so nothing here is open to
anonymous visitors. Every POST carries a form token bound to that link and to a SameSite cookie
(the portal's CSRF pattern); POSTs are rate limited per address and per organisation. Server-side
Italian errors next to each field; no JavaScript (the portal's CSP allows none).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.privacy_notice import load_privacy_notice
from models.cases import Case
from models.enums import State
from models.labels import label
from models.people import Organisation, Referral
from portal.common import (
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
from portal.partners.referral_form import (
    CONFIRM_DUPLICATE,
    FIELDS,
    LEVEL_CHOICES,
    REQUIRED,
    SEX_CHOICES,
    FormCheck,
    check_form,
    find_possible_duplicates,
    submit_referral,
)
from portal.partners.status import (
    EXPORT_PURPOSE,
    PAGE_SIZE,
    READ_PURPOSE,
    audit_reads,
    count_referrals,
    referral_rows,
    status_csv,
)
from tasks.mail.links import LinkError, PartnerLink, csrf_token, new_nonce, verify_partner_link
from tasks.referral.feedback import REFERRING  # the organisations that refer people
from tasks.runtime.db import get_engine, session_scope

PREFIX = "/segnalazioni"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "incontro_partner"
CSRF_COOKIE = "incontro_partner_form"
MAX_FORM_BYTES = 16_384
DIGEST_CHOICES: dict[str, str] = {"daily": "ogni giorno", "weekly": "ogni settimana"}
_log = logging.getLogger(__name__)


class PartnerRefusal(PortalRefusal):
    """A request answered with the partners' explanatory page; nothing is written."""


@dataclass(frozen=True)
class SignedIn:
    """The organisation whose link this browser holds (and the link, for the form tokens)."""

    token: str
    link: PartnerLink
    org_code: str
    org_name: str
    digest_frequency: str


def _environment() -> Environment:
    env = environment(TEMPLATES)
    env.filters["giorno"] = lambda value: value.strftime("%d/%m/%Y") if value else "—"
    return env


def _finish_after_commit(engine: Engine | None) -> Callable[[int], None]:
    """Announce the import's events (finish_import) after the response; when Prefect does not
    answer, the maintenance sweep finishes the import (docs/ARCHITECTURE.md#chaining)."""

    def finish(import_id: int) -> None:
        from tasks.files.imports import finish_import

        try:
            with session_scope(engine or get_engine()) as session:
                finish_import(session, import_id)
        except Exception as exc:  # the referral is stored; only its announcement waits
            _log.warning("referral import %s left for the sweep: %s", import_id, type(exc).__name__)

    return finish


def create_partners_app(
    *,
    engine: Engine | None = None,
    post_limit: tuple[int, float] = (30, 60.0),
    clock: Callable[[], float] = time.time,
    finish: Callable[[int], None] | None = None,
) -> FastAPI:
    """The partners' sub-app (mounted at :data:`PREFIX` by portal/app.py); ``finish`` announces an
    import once committed (default: :func:`tasks.files.imports.finish_import`)."""
    app = FastAPI(title="Incontro – segnalazioni degli enti", docs_url=None, redoc_url=None, openapi_url=None)
    env = _environment()
    limiter = RateLimiter(*post_limit)
    secure_cookie = secure_cookies()
    announce = finish or _finish_after_commit(engine)

    def db() -> Any:
        return session_scope(engine or get_engine())

    def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(prefix=PREFIX, **context), status_code=status_code)

    def with_form_cookie(response: HTMLResponse, nonce: str) -> HTMLResponse:
        set_form_cookie(response, CSRF_COOKIE, nonce, secure=secure_cookie, path=PREFIX)
        return response

    def signed_in(request: Request) -> SignedIn:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise PartnerRefusal(
                401,
                "Pagina riservata agli enti",
                "Queste pagine sono riservate agli enti che segnalano persone al progetto. Aprite il link "
                "ricevuto per email dall'indirizzo del vostro ente; se non lo avete, chiedetelo al coordinamento.",
            )
        link = _verified(token, clock())
        with db() as session:
            org = session.get(Organisation, link.org_code)
            if org is None or org.kind not in REFERRING:
                raise PartnerRefusal(
                    403,
                    "Ente non abilitato",
                    "Il link non corrisponde a un ente che segnala persone al progetto. Chiedete un nuovo link "
                    "al coordinamento.",
                )
            return SignedIn(token, link, org.code, org.name, org.digest_frequency)

    def guard_post(request: Request, who: SignedIn, form: dict[str, str]) -> None:
        keys = (client_key(request), f"org:{who.org_code}")
        check_rate(limiter, keys, title="Troppi invii", too_many="troppi moduli", refusal=PartnerRefusal)
        check_form_token(
            who.token,
            request,
            CSRF_COOKIE,
            form,
            now=clock(),
            then="Ricaricate la pagina e inviatelo di nuovo: i dati scritti vanno ripetuti.",
            refusal=PartnerRefusal,
        )

    def form_page(
        who: SignedIn,
        request: Request,
        check: FormCheck | None = None,
        duplicates: list[Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        nonce = request.cookies.get(CSRF_COOKIE) or new_nonce()
        response = page(
            "referral.html",
            status_code,
            who=who,
            csrf=csrf_token(who.token, nonce, now=clock()),
            fields=FIELDS,
            required=REQUIRED,
            sex_choices=SEX_CHOICES,
            level_choices=LEVEL_CHOICES,
            values=check.values if check else {},
            errors=check.errors if check else {},
            duplicates=duplicates or [],
            confirm_field=CONFIRM_DUPLICATE,
            notice=load_privacy_notice(),
            expires=datetime.fromtimestamp(who.link.expires_at, tz=UTC),
        )
        return with_form_cookie(response, nonce)

    @app.exception_handler(PartnerRefusal)
    async def refused(_request: Request, exc: PartnerRefusal) -> HTMLResponse:
        response = page("partner_error.html", exc.status_code, title=exc.title, message=exc.message)
        response.headers.update(exc.headers)
        return response

    @app.get("/segnalazioni.css")
    def partners_css() -> Response:
        return stylesheet(TEMPLATES / "segnalazioni.css")

    @app.get("/accesso/{token}")
    def sign_in(token: str) -> Response:
        link = _verified(token, clock())
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="lax",  # arriving from the email client is a cross-site navigation
            secure=secure_cookie,
            path=PREFIX,
            max_age=max(1, int(link.expires_at - clock())),
        )
        return response

    @app.post("/esci")
    def sign_out(request: Request, form: dict[str, str] = Depends(_form_fields)) -> Response:  # noqa: B008
        guard_post(request, signed_in(request), form)
        response = RedirectResponse(f"{PREFIX}/uscita", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @app.get("/uscita", response_class=HTMLResponse)
    def signed_out() -> HTMLResponse:
        return page(
            "partner_error.html",
            title="Siete usciti",
            message="Per tornare alle pagine delle segnalazioni riaprite il link ricevuto per email.",
        )

    @app.get("/", response_class=HTMLResponse)
    def referral_form(request: Request) -> HTMLResponse:
        return form_page(signed_in(request), request)

    @app.post("/", response_class=HTMLResponse)
    def referral_post(
        request: Request,
        background: BackgroundTasks,
        form: dict[str, str] = Depends(_form_fields),  # noqa: B008
    ) -> Response:
        who = signed_in(request)
        guard_post(request, who, form)
        check = check_form(form)
        if check.row is None:
            return form_page(who, request, check, status_code=422)
        with db() as session:
            duplicates = find_possible_duplicates(session, check.row, who.org_code)
            if duplicates and not form.get(CONFIRM_DUPLICATE):
                return form_page(who, request, check, duplicates, status_code=409)
            submitted, import_id = submit_referral(session, check, who.org_code, load_privacy_notice())
        background.add_task(announce, import_id)
        query = f"?pratica={submitted.case_code}" + ("&ripetuta=1" if submitted.repeated else "")
        return RedirectResponse(f"{PREFIX}/inviata{query}", status_code=303)

    @app.get("/inviata", response_class=HTMLResponse)
    def sent(request: Request, pratica: str = "", ripetuta: int = 0) -> HTMLResponse:
        who = signed_in(request)
        with db() as session:
            case = _own_case(session, who.org_code, pratica)
            office = _office_name(case.office_code) if case else None
        return page(
            "sent.html",
            who=who,
            case=case,
            stage=label(State(case.state)) if case else "",
            office=office,
            repeated=bool(ripetuta),
        )

    @app.get("/stato", response_class=HTMLResponse)
    def status(request: Request, pagina: int = 1) -> HTMLResponse:
        who = signed_in(request)
        with db() as session:
            total = count_referrals(session, who.org_code)
            pages = max(1, -(-total // PAGE_SIZE))
            current = min(max(1, pagina), pages)
            rows = referral_rows(session, who.org_code, page=current)
            audit_reads(session, who.org_code, rows, purpose=READ_PURPOSE, action="read")
        nonce = request.cookies.get(CSRF_COOKIE) or new_nonce()
        response = page(
            "status.html",
            who=who,
            rows=rows,
            total=total,
            page_number=current,
            pages=pages,
            digest_choices=DIGEST_CHOICES,
            csrf=csrf_token(who.token, nonce, now=clock()),
            saved=request.query_params.get("salvato") == "1",
        )
        return with_form_cookie(response, nonce)

    @app.get("/stato.csv")
    def status_export(request: Request) -> Response:
        who = signed_in(request)
        with db() as session:
            rows = referral_rows(session, who.org_code, page_size=None)
            audit_reads(session, who.org_code, rows, purpose=EXPORT_PURPOSE, action="export")
        return Response(
            status_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="stato-segnalazioni.csv"'},
        )

    @app.post("/riepilogo")
    def digest_choice(request: Request, form: dict[str, str] = Depends(_form_fields)) -> Response:  # noqa: B008
        who = signed_in(request)
        guard_post(request, who, form)
        choice = form.get("frequenza", "")
        if choice not in DIGEST_CHOICES:
            raise PartnerRefusal(
                400, "Scelta non valida", "Scegliete se ricevere il riepilogo ogni giorno o ogni settimana."
            )
        with db() as session:
            org = session.get(Organisation, who.org_code)
            assert org is not None
            org.digest_frequency = choice
            session.add(org)
        return RedirectResponse(f"{PREFIX}/stato?salvato=1", status_code=303)

    return app


def _verified(token: str, now: float) -> PartnerLink:
    try:
        return verify_partner_link(token, now=now)
    except LinkError as exc:
        raise PartnerRefusal(exc.status_code, exc.title, str(exc)) from None


def _own_case(session: Session, org_code: str, code: str) -> Case | None:
    """The case ``code`` when this organisation referred it (directly or merged into it); else None."""
    if not code or len(code) > 20:
        return None
    case = session.exec(select(Case).where(col(Case.code) == code)).first()
    if case is None:
        return None
    ids = [i for i in (case.id, case.merged_into_id) if i is not None]
    own = session.exec(
        select(Referral.id).where(col(Referral.referrer_code) == org_code, col(Referral.case_id).in_(ids))
    ).first()
    if own is None:
        return None
    if case.merged_into_id is not None:
        return session.get(Case, case.merged_into_id)
    return case


def _office_name(code: str | None) -> str | None:
    from config.data import load_offices

    return next((o.name for o in load_offices() if o.code == code), None)


_FORM_WORDS = FormWords(
    wrong_type="Inviate i dati con il modulo della pagina.",
    too_long="I dati inviati sono troppo lunghi.",
    unreadable="I dati inviati non sono leggibili.",
    repeated="Il modulo contiene campi ripetuti.",
)


async def _form_fields(request: Request) -> dict[str, str]:
    """The referral form as sent (not stripped: check_form reads the values as typed)."""
    return await form_fields(
        request, max_bytes=MAX_FORM_BYTES, max_fields=40, words=_FORM_WORDS, strip=False, refusal=PartnerRefusal
    )
