"""Signing in and out: the login form (its own CSRF token before any session), throttling, logout."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal.desk.app import (
    DB,
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    DeskRefusal,
    Form,
    User,
    check_csrf,
    render,
    secure_cookies,
)
from portal.desk.security import authenticate, close_session, login_form_token, login_token_ok, open_session, throttled

router = APIRouter()


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(request: Request, status_code: int = 200, **context: object) -> HTMLResponse:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", status_code, token=login_form_token(nonce), **context)
    response.set_cookie(
        LOGIN_COOKIE, nonce, httponly=True, samesite="lax", secure=secure_cookies(request), path=PREFIX, max_age=3600
    )
    return response


@router.get("/accedi", response_class=HTMLResponse)
def login_form(request: Request, scaduta: int = 0, uscito: int = 0) -> HTMLResponse:
    notice = None
    if scaduta:
        notice = "La sessione è scaduta per inattività: accedete di nuovo."
    elif uscito:
        notice = "Siete usciti dalla scrivania."
    return _login_page(request, notice=notice)


@router.post("/accedi", response_class=HTMLResponse)
def login(request: Request, session: DB, form: Form) -> Response:
    if not login_token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        raise DeskRefusal(
            403,
            "Modulo non valido",
            "Il modulo di accesso non è più valido o il browser non accetta i cookie tecnici. "
            "Ricaricate la pagina di accesso e riprovate.",
        )
    username = form.get("username", "").strip()
    wait = throttled(session, username, _client(request))
    if wait is not None:
        minutes = max(1, (wait.retry_after + 59) // 60)
        raise DeskRefusal(
            429,
            "Troppi tentativi",
            f"Troppi tentativi di accesso non riusciti. Per sicurezza l'accesso è sospeso: riprovate tra "
            f"{minutes} minuti o chiedete al coordinatore di reimpostare la password.",
            headers={"Retry-After": str(wait.retry_after)},
        )
    user = authenticate(session, username, form.get("password", ""), _client(request))
    if user is None:
        session.commit()
        return _login_page(
            request, 401, error="Nome utente o password non corretti (o account disattivato).", username=username
        )
    token, _row = open_session(session, user)
    session.commit()
    response = RedirectResponse(f"{PREFIX}/oggi", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies(request), path=PREFIX
    )
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/esci")
def logout(request: Request, session: DB, me: User, form: Form) -> RedirectResponse:
    check_csrf(me, form)
    close_session(session, request.cookies.get(SESSION_COOKIE))
    session.commit()
    response = RedirectResponse(f"{PREFIX}/accedi?uscito=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="lax", secure=secure_cookies(request))
    return response
