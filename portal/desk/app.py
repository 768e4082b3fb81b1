"""The operators' desk ("scrivania"): where CPI operators and coordinators see people by name.

Prefect stays the engine and never sees a name; this app, mounted at ``/scrivania`` in the
partner portal's process (portal/app.py), shows identities to signed-in accounts, scoped to
their office and audited (docs/DESK.md). Server-rendered Jinja2 pages, autoescaped, no
JavaScript; every POST carries the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.accounts import ROLE_LABELS, Role
from models.clock import in_rome
from portal.common import environment, stylesheet
from portal.desk.forms_source import FormSource, PrefectForms
from portal.desk.labels import state_one
from portal.desk.security import SignedIn, csrf_ok, resume_session
from tasks.runtime.db import get_engine

PREFIX = "/scrivania"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "incontro_desk"
LOGIN_COOKIE = "incontro_desk_login"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class DeskRefusal(Exception):
    """A request the desk answers with an explanatory page (403, 404, 409, 429 ...)."""

    def __init__(self, status_code: int, title: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message, self.headers = status_code, title, message, headers or {}


class NeedLogin(Exception):
    """No (valid) session: the browser goes to the login page."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


@dataclass
class DeskContext:
    """What the routes share: the database, the templates and the forms' source."""

    engine: Engine | None
    env: Environment
    forms: FormSource

    def db(self) -> Engine:
        return self.engine or get_engine()


def _environment() -> Environment:
    env = environment(TEMPLATES)
    env.filters["day"] = lambda v: v.strftime("%d/%m/%Y") if isinstance(v, date) else "—"
    env.filters["moment"] = lambda v: in_rome(v).strftime("%d/%m/%Y %H:%M") if isinstance(v, datetime) else "—"
    env.filters["hour"] = lambda v: in_rome(v).strftime("%H:%M") if isinstance(v, datetime) else "—"
    env.filters["state"] = state_one
    env.globals["prefix"] = PREFIX
    return env


def desk_of(request: Request) -> DeskContext:
    ctx: DeskContext = request.app.state.desk
    return ctx


def db_session(request: Request) -> Iterator[Session]:
    """One database session per request; routes commit what they write (reads write audit rows)."""
    with Session(desk_of(request).db(), expire_on_commit=False) as session:
        yield session


DB = Annotated[Session, Depends(db_session)]


def signed_in(request: Request, session: DB) -> SignedIn:
    """The current account, or off to the login page."""
    found = resume_session(session, request.cookies.get(SESSION_COOKIE))
    if isinstance(found, SignedIn):
        request.state.me = found  # an error page of this request still shows the navigation
        return found
    session.commit()  # an expired session row is gone
    raise NeedLogin(expired=found == "expired")


User = Annotated[SignedIn, Depends(signed_in)]


#: Fields one POST may carry: an intake form has about 17 per case plus one per choice ticked,
#: and a busy office's day (or a week's form) has dozens of cases.
MAX_FIELDS = 5_000


async def posted(request: Request) -> dict[str, str]:
    """The submitted form (single values), size-capped."""
    form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=64 * 1024)
    return {k: v for k, v in form.items() if isinstance(v, str)}


Form = Annotated[dict[str, str], Depends(posted)]


def check_csrf(me: SignedIn, form: dict[str, str]) -> None:
    """Every POST of a signed-in page must carry this session's token (else 403, nothing done)."""
    if not csrf_ok(me.desk_session.csrf, form.get("csrf")):
        raise DeskRefusal(
            403,
            "Modulo non valido",
            "Il modulo non è più valido (pagina aperta da troppo tempo o da un'altra sessione). "
            "Ricaricate la pagina e ripetete l'operazione.",
        )


def actor(me: SignedIn) -> str:
    """How the audit log and case events name a desk account."""
    return f"scrivania:{me.user.username}"


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure except on this machine over plain http (``make serve``)."""
    return request.url.scheme == "https" or (request.url.hostname or "") not in LOCAL_HOSTS


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    env = desk_of(request).env
    me = context.pop("me", None)
    base: dict[str, Any] = {
        "me": me,
        "csrf": me.desk_session.csrf if me else "",
        "role_label": ROLE_LABELS.get(me.user.role, "") if me else "",
        "is_operator": bool(me and me.user.role is Role.OPERATOR),
        "notice": None,
        "error": None,
        "current": "",
    }
    base.update(context)
    return HTMLResponse(env.get_template(template).render(**base), status_code=status_code)


def create_desk_app(*, engine: Engine | None = None, forms: FormSource | None = None) -> FastAPI:
    """The desk as an app of its own, mounted at ``/scrivania`` by the portal (portal/app.py)."""
    from portal.desk import auth, caseload, moduli, sheet, today

    app = FastAPI(title="Incontro – scrivania degli operatori", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.desk = DeskContext(engine=engine, env=_environment(), forms=forms or PrefectForms())

    @app.exception_handler(DeskRefusal)
    async def refused(request: Request, exc: DeskRefusal) -> HTMLResponse:
        me = getattr(request.state, "me", None)
        response = render(request, "error.html", exc.status_code, me=me, title=exc.title, message=exc.message)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(NeedLogin)
    async def to_login(_request: Request, exc: NeedLogin) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/accedi" + ("?scaduta=1" if exc.expired else ""), status_code=303)

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/oggi", status_code=303)

    @app.get("/desk.css")
    def desk_css() -> Response:
        return stylesheet(TEMPLATES / "desk.css")

    for module in (auth, today, caseload, sheet, moduli):
        app.include_router(module.router)
    return app
