"""The desk's guards through FastAPI's test client on a real migrated SQLite database: no
session → login; missing or forged CSRF → 403 and nothing written; another office's case → 404;
ten failed logins → throttled; names and notes escaped; cookie flags; idle timeout; reads audited."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import clock
from models.accounts import CaseNote, DeskSession, LoginAttempt, Role
from models.cases import Case
from models.enums import ConsentPurpose, State
from models.ops import AuditLog
from portal.app import create_app
from portal.desk.security import add_user, disable_user
from tasks.files.normalize import normalize_name
from tests.factories import make_case, seed_partners

with warnings.catch_warnings():  # Starlette prefers the httpx2 fork, which is not in the lock
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

PASSWORD = "Bergamo-sportello-2026"


@pytest.fixture
def desk(session: Session) -> dict[str, Case]:
    """Two CPI offices with one case each and an operator at Bergamo."""
    seed_partners(session)
    add_user(session, username="m.rossi", password=PASSWORD, role=Role.OPERATOR, office_code="CPI-BG")
    add_user(session, username="coord", password=PASSWORD, role=Role.COORDINATOR, office_code=None)
    session.commit()
    mine = make_case(
        session,
        state=State.INTAKE_SCHEDULED,
        family_name="Kovalenko",
        given_names="Olena",
        name_norm=normalize_name("Kovalenko Olena"),
        phone="+393331234567",
    )
    other = make_case(
        session,
        office="CPI-TRE",
        family_name="Bondar",
        given_names="Iryna",
        name_norm=normalize_name("Bondar Iryna"),
    )
    return {"mine": mine, "other": other}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="http://127.0.0.1", follow_redirects=False) as c:
        yield c


def _all(session: Session, model: type[Any]) -> list[Any]:
    """Every row of ``model``, read in a session of its own that ends at once (on SQLite every
    transaction takes the write lock: the test's session must not hold one while the app works)."""
    with Session(session.get_bind()) as fresh:
        return list(fresh.exec(select(model)).all())


def _login_token(client: TestClient) -> str:
    page = client.get("/scrivania/accedi")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def _login(client: TestClient, username: str = "m.rossi", password: str = PASSWORD) -> str:
    """Sign in; returns the session's CSRF token as the next page carries it."""
    response = client.post(
        "/scrivania/accedi", data={"csrf": _login_token(client), "username": username, "password": password}
    )
    assert response.status_code == 303, response.text
    page = client.get("/scrivania/pratiche")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


@pytest.mark.parametrize("path", ["/scrivania/oggi", "/scrivania/pratiche", "/scrivania/moduli", "/scrivania/"])
def test_without_a_session_every_page_sends_to_the_login(client: TestClient, desk: dict[str, Case], path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/scrivania/")
    assert client.get(f"/scrivania/pratiche/{desk['mine'].code}").headers["location"] == "/scrivania/accedi"


def test_a_post_without_a_session_changes_nothing(client: TestClient, desk: dict[str, Case], session: Session) -> None:
    response = client.post(f"/scrivania/pratiche/{desk['mine'].code}/note", data={"testo": "nota"})
    assert response.status_code == 303 and response.headers["location"] == "/scrivania/accedi"
    assert _all(session, CaseNote) == []


@pytest.mark.parametrize("token", [None, "forged-token-123", ""])
def test_missing_or_forged_csrf_is_refused(
    client: TestClient, desk: dict[str, Case], session: Session, token: str | None
) -> None:
    _login(client)
    data = {"testo": "Ha portato il permesso di soggiorno"}
    if token is not None:
        data["csrf"] = token
    response = client.post(f"/scrivania/pratiche/{desk['mine'].code}/note", data=data)
    assert response.status_code == 403
    assert "Modulo non valido" in response.text
    assert _all(session, CaseNote) == []


def test_the_token_of_another_session_is_refused(client: TestClient, desk: dict[str, Case], session: Session) -> None:
    with TestClient(create_app(), base_url="http://127.0.0.1", follow_redirects=False) as other:
        theirs = _login(other, "coord")
    _login(client)
    response = client.post(f"/scrivania/pratiche/{desk['mine'].code}/note", data={"csrf": theirs, "testo": "x"})
    assert response.status_code == 403
    assert _all(session, CaseNote) == []


def test_the_login_form_needs_its_token(client: TestClient, desk: dict[str, Case], session: Session) -> None:
    client.get("/scrivania/accedi")
    response = client.post("/scrivania/accedi", data={"username": "m.rossi", "password": PASSWORD})
    assert response.status_code == 403
    assert "incontro_desk" not in response.headers.get("set-cookie", "").split("=")[0]
    assert _all(session, DeskSession) == []


def test_a_valid_token_with_the_right_csrf_is_accepted(
    client: TestClient, desk: dict[str, Case], session: Session
) -> None:
    csrf = _login(client)
    response = client.post(
        f"/scrivania/pratiche/{desk['mine'].code}/note", data={"csrf": csrf, "testo": "Richiamare lunedì"}
    )
    assert response.status_code == 303
    assert [n.text for n in _all(session, CaseNote)] == ["Richiamare lunedì"]


def test_another_offices_case_is_not_found(client: TestClient, desk: dict[str, Case], session: Session) -> None:
    csrf = _login(client)
    other = desk["other"].code
    page = client.get(f"/scrivania/pratiche/{other}")
    assert page.status_code == 404
    assert "Bondar" not in page.text
    assert client.post(f"/scrivania/pratiche/{other}/note", data={"csrf": csrf, "testo": "x"}).status_code == 404
    assert client.post(f"/scrivania/oggi/{other}/presenza", data={"csrf": csrf, "presente": "si"}).status_code == 404
    search = client.post("/scrivania/pratiche", data={"csrf": csrf, "q": "Bondar"})
    assert "Iryna" not in search.text and other not in search.text and "Nessuna pratica trovata" in search.text
    assert _all(session, CaseNote) == []
    assert client.get(f"/scrivania/pratiche/{desk['mine'].code}").status_code == 200


def test_a_coordinator_sees_every_office(client: TestClient, desk: dict[str, Case]) -> None:
    _login(client, "coord")
    page = client.get(f"/scrivania/pratiche/{desk['other'].code}")
    assert page.status_code == 200 and "Bondar" in page.text


def test_ten_failed_logins_throttle_even_the_right_password(
    client: TestClient, desk: dict[str, Case], session: Session
) -> None:
    token = _login_token(client)
    for _ in range(10):
        response = client.post(
            "/scrivania/accedi", data={"csrf": token, "username": "m.rossi", "password": "sbagliata-123456"}
        )
        assert response.status_code == 401
        assert "non corretti" in response.text
    response = client.post("/scrivania/accedi", data={"csrf": token, "username": "m.rossi", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Troppi tentativi" in response.text
    assert _all(session, DeskSession) == []
    with time_machine.travel(clock.utcnow() + timedelta(minutes=16)):
        assert (
            client.post(
                "/scrivania/accedi", data={"csrf": token, "username": "m.rossi", "password": PASSWORD}
            ).status_code
            == 303
        )


def test_guessing_many_accounts_from_one_address_is_throttled(
    client: TestClient, desk: dict[str, Case], session: Session
) -> None:
    token = _login_token(client)
    for n in range(10):
        client.post("/scrivania/accedi", data={"csrf": token, "username": f"utente{n}", "password": "x" * 12})
    response = client.post("/scrivania/accedi", data={"csrf": token, "username": "m.rossi", "password": PASSWORD})
    assert response.status_code == 429
    assert len(_all(session, LoginAttempt)) == 10


def test_script_in_a_name_or_note_is_escaped(client: TestClient, session: Session) -> None:
    seed_partners(session)
    add_user(session, username="m.rossi", password=PASSWORD, role=Role.OPERATOR, office_code="CPI-BG")
    session.commit()
    payload = "<script>alert('x')</script>"
    case = make_case(session, family_name=payload, given_names='<img src=x onerror="alert(1)">', name_norm="script")
    csrf = _login(client)
    client.post(f"/scrivania/pratiche/{case.code}/note", data={"csrf": csrf, "testo": "<b>grassetto</b>" + payload})
    for page in (
        client.get(f"/scrivania/pratiche/{case.code}"),
        client.post("/scrivania/pratiche", data={"csrf": csrf}),
    ):
        assert page.status_code == 200
        assert "<script>" not in page.text and "<img" not in page.text and "<b>" not in page.text
        assert "&lt;script&gt;" in page.text
    assert "&lt;b&gt;grassetto&lt;/b&gt;" in client.get(f"/scrivania/pratiche/{case.code}").text


def _cookie(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return next(h for h in headers if h.startswith(f"{name}="))


def test_session_cookie_flags_on_this_machine(client: TestClient, desk: dict[str, Case]) -> None:
    response = client.post(
        "/scrivania/accedi", data={"csrf": _login_token(client), "username": "m.rossi", "password": PASSWORD}
    )
    cookie = _cookie(response, "incontro_desk").lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/scrivania" in cookie
    assert "secure" not in cookie  # plain http on 127.0.0.1 (`make serve`)


def test_session_cookie_is_secure_anywhere_else(engine: Engine, desk: dict[str, Case]) -> None:
    with TestClient(create_app(), base_url="https://scrivania.provincia.bergamo.example", follow_redirects=False) as c:
        response = c.post(
            "/scrivania/accedi", data={"csrf": _login_token(c), "username": "m.rossi", "password": PASSWORD}
        )
    cookie = _cookie(response, "incontro_desk").lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_idle_session_expires(client: TestClient, desk: dict[str, Case], session: Session) -> None:
    _login(client)
    with time_machine.travel(clock.utcnow() + timedelta(minutes=31)):
        response = client.get("/scrivania/pratiche")
    assert response.status_code == 303 and response.headers["location"] == "/scrivania/accedi?scaduta=1"
    assert _all(session, DeskSession) == []


def test_activity_keeps_the_session_open(client: TestClient, desk: dict[str, Case]) -> None:
    _login(client)
    start = clock.utcnow()
    for minutes in (20, 40, 60):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get("/scrivania/pratiche").status_code == 200


def test_logout_ends_the_session(client: TestClient, desk: dict[str, Case], session: Session) -> None:
    csrf = _login(client)
    assert client.post("/scrivania/esci", data={}).status_code == 403  # logout needs the token too
    response = client.post("/scrivania/esci", data={"csrf": csrf})
    assert response.status_code == 303
    assert _all(session, DeskSession) == []
    assert client.get("/scrivania/pratiche").status_code == 303


def test_a_disabled_account_is_signed_out(client: TestClient, desk: dict[str, Case], session: Session) -> None:
    _login(client)
    disable_user(session, "m.rossi")
    session.commit()
    assert client.get("/scrivania/pratiche").status_code == 303
    token = _login_token(client)
    response = client.post("/scrivania/accedi", data={"csrf": token, "username": "m.rossi", "password": PASSWORD})
    assert response.status_code == 401


def test_reading_a_case_is_audited(client: TestClient, desk: dict[str, Case], session: Session) -> None:
    _login(client)
    client.get(f"/scrivania/pratiche/{desk['mine'].code}")
    rows = [r for r in _all(session, AuditLog) if r.case_code == desk["mine"].code]
    assert any(r.actor == "scrivania:m.rossi" and "scheda" in r.purpose for r in rows)
    assert any("ricerca" in r.purpose for r in rows)  # the caseload list showed the name too


def test_pages_carry_no_personal_data_in_urls(client: TestClient, desk: dict[str, Case]) -> None:
    csrf = _login(client)
    page = client.post("/scrivania/pratiche", data={"csrf": csrf, "q": "Kovalenko"})
    assert "Kovalenko" in page.text
    assert not re.search(r'href="[^"]*Kovalenko', page.text)
    assert 'method="post" action="/scrivania/pratiche"' in page.text


def test_consent_for_a_company_needs_that_company_to_have_asked(
    client: TestClient, desk: dict[str, Case], session: Session
) -> None:
    csrf = _login(client)
    response = client.post(
        f"/scrivania/pratiche/{desk['mine'].code}/consensi",
        data={
            "csrf": csrf,
            "scopo": ConsentPurpose.CONTACT_TO_COMPANY.value,
            "destinatario": "COMP-OFFICINE-VALSERIANA",
            "canale": "presenza",
        },
    )
    assert response.status_code == 422


@pytest.mark.parametrize("key", [None, "incontro-desk-development-key", "corta-e-non-segreta"])
def test_production_refuses_the_development_desk_key(key: str | None) -> None:
    from pydantic import ValidationError

    from config.settings import Settings

    values: dict[str, Any] = {
        "environment": "production",
        "portal_secret": "k3J9-portale-segreto-vero-2026-abcdefgh",
        "prefect_auth_string": "incontro:Zq8-prefect-segreto-vero-2026",
    }
    if key is not None:
        values["desk_secret_key"] = key
    with pytest.raises(ValidationError, match="INCONTRO_DESK_SECRET_KEY"):
        Settings(_env_file=None, **values)  # type: ignore[call-arg]
    values["desk_secret_key"] = "w7Rk2pQ9-scrivania-segreto-vero-di-produzione"
    assert Settings(_env_file=None, **values).environment == "production"  # type: ignore[call-arg]
