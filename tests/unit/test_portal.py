"""The partner page through FastAPI's test client, on a real migrated SQLite database:
valid, tampered, expired, replayed (case moved on), wrong company, closed case, CSRF, rate limit;
plus the signing key, the links put in the dispatch email and the pages' privacy and headers."""

from __future__ import annotations

import base64
import html
import json
import re
import stat
import time
import warnings
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import get_settings
from models.cases import Case
from models.enums import ConsentPurpose, InterestAnswer, State
from models.exchange import Interest, Vacancy
from models.ops import Outbox
from models.people import Person
from portal.app import create_app
from portal.common import RateLimiter
from tasks.core.consent import withdraw
from tasks.core.transitions import transition
from tasks.dispatch import companies_for, dispatch_profiles
from tasks.interest import process_answers
from tasks.mail import links
from tasks.mail.links import (
    LinkExpired,
    LinkInvalid,
    PortalKeyError,
    answer_url,
    portal_key,
    sign_link,
    verify_link,
)
from tasks.mail.templates import render_email
from tasks.runtime import events
from tests.factories import SHAREABLE, make_case, seed_partners

with warnings.catch_warnings():  # Starlette 1.10 prefers the httpx2 fork, which is not in the lock
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

COMPANY = "COMP-OFFICINE-VALSERIANA"  # sectors include 7212 (welders), the factory's default profile
OTHER = "COMP-GOMMA-ISOLA"


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[events.EventSpec]:
    """Events as they leave for Prefect after commit (the network hop is the only thing cut)."""
    out: list[events.EventSpec] = []
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


@pytest.fixture
def dispatched(session: Session) -> Case:
    seed_partners(session)
    return make_case(session, state=State.DISPATCHED, consents=SHAREABLE, profile={}, phone="+39 333 1234567")


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


def _path(company: str, case: str, vacancy: str | None = None, **kw: Any) -> str:
    return f"/r/{sign_link(company, case, vacancy, **kw)}"


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def _answer(client: TestClient, path: str, answer: str, reason: str = "", csrf: str | None = None) -> Any:
    token = csrf if csrf is not None else _csrf(client, path)
    return client.post(path, data={"csrf": token, "answer": answer, "reason": reason})


def _interests(engine: Engine) -> list[Interest]:
    with Session(engine) as s:
        return list(s.exec(select(Interest)).all())


def _state(engine: Engine, case: Case) -> State:
    with Session(engine) as s:
        row = s.get(Case, case.id)
        assert row is not None
        return State(row.state)


def _move(engine: Engine, case: Case, *targets: State, reason: str | None = None) -> None:
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Case, case.id)
        assert row is not None
        for target in targets:
            transition(s, row, target, actor="test", reason=reason)
        s.commit()


def _recorded(emitted: list[events.EventSpec]) -> list[events.EventSpec]:
    """Only the answers announced (case transitions made by the test emit their own events)."""
    return [e for e in emitted if e.name == "incontro.interest.recorded"]


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


# ------------------------------------------------------------------------------- valid link


def test_valid_link_shows_the_profile_and_nothing_personal(
    engine: Engine, dispatched: Case, client: TestClient
) -> None:
    page = client.get(_path(COMPANY, dispatched.code))
    assert page.status_code == 200
    body = page.text
    assert '<html lang="it">' in body and dispatched.code in body and "Officine Meccaniche Valseriana" in body
    text = _text(body)
    assert "7212" in text and "A2" in text and "Patente B" in text and "Bergamo" in text
    with Session(engine) as s:
        person = s.exec(select(Person).where(Person.key == dispatched.person_key)).one()
    for value in (person.family_name, person.given_names, person.email, person.phone, "1990"):
        assert value and value not in body  # no identifier of the candidate on the page
    for value in ("interessato", "colloquio", "no"):  # every radio has its label (works without JS)
        assert f'id="risposta-{value}"' in body and f'for="risposta-{value}"' in body
    assert "<script" not in body and 'for="motivo"' in body and "<legend>" in body
    headers = page.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
    cookie = headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/portal.css").headers["content-type"].startswith("text/css")
    assert client.get("/salute").text == "ok"
    assert "link personali" in client.get("/").text


def test_answer_colloquio_records_interest_emits_event_and_confirms(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    path = _path(COMPANY, dispatched.code)
    response = _answer(client, path, "colloquio")
    assert response.status_code == 303 and response.headers["location"] == f"{path}/conferma"
    (row,) = _interests(engine)
    assert (row.company_code, row.case_id, row.answer, row.channel, row.processed) == (
        COMPANY,
        dispatched.id,
        InterestAnswer.INTERVIEW,
        "portal",
        False,
    )
    assert [(e.name, e.resource_id, e.labels, e.payload) for e in _recorded(emitted)] == [
        (
            "incontro.interest.recorded",
            f"incontro.interest.{row.id}",
            {"incontro.case": dispatched.code, "incontro.company": COMPANY},
            {"case_code": dispatched.code, "company_code": COMPANY},
        )
    ]
    done = client.get(response.headers["location"])
    assert done.status_code == 200
    text = _text(done.text)
    assert "Risposta registrata" in text and "colloquio" in text and dispatched.code in text
    assert "Modifica la risposta" in text
    assert _state(engine, dispatched) is State.DISPATCHED  # the interest flow moves the case, not the page


def test_company_changes_its_answer_until_the_case_moves_on(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    path = _path(COMPANY, dispatched.code)
    assert _answer(client, path, "interessato").status_code == 303
    assert _answer(client, path, "no", "posizione_coperta").status_code == 303
    (row,) = _interests(engine)
    assert (row.answer, row.reason) == (InterestAnswer.NO, "posizione_coperta")
    assert len(_recorded(emitted)) == 2
    # the same answer again (a double click, a reload) writes and announces nothing
    again = _answer(client, path, "no", "posizione_coperta")
    assert again.headers["location"].endswith("/conferma?invariata=1")
    assert len(_recorded(emitted)) == 2 and _interests(engine)[0].answered_at == row.answered_at
    assert "non è cambiato nulla" in client.get(again.headers["location"]).text
    # the form shows the answer already given
    assert 'value="no" checked' in client.get(path).text
    # the flow moves the case; in INTEREST/INTERVIEW the company may still change its mind
    assert _answer(client, path, "colloquio").status_code == 303
    with Session(engine, expire_on_commit=False) as s:
        assert process_answers(s)["interview"] == [dispatched.code]
        s.commit()
    assert _state(engine, dispatched) is State.INTERVIEW
    assert _answer(client, path, "interessato").status_code == 303
    assert _interests(engine)[0].answer is InterestAnswer.INTERESTED


@pytest.mark.parametrize("moved_on", [State.HIRED, State.NOT_SELECTED])
def test_link_used_after_the_case_moved_on_changes_nothing(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec], moved_on: State
) -> None:
    path = _path(COMPANY, dispatched.code)
    csrf = _csrf(client, path)  # the form was open while the selection went ahead
    assert _answer(client, path, "colloquio", csrf=csrf).status_code == 303
    _move(engine, dispatched, State.INTEREST, State.INTERVIEW, moved_on)
    before = [(i.answer, i.answered_at) for i in _interests(engine)]
    count = len(_recorded(emitted))
    replay = _answer(client, path, "no", "altro", csrf=csrf)
    assert replay.status_code == 409
    assert "Selezione già conclusa" in replay.text and "Nessuna risposta è stata registrata" in replay.text
    assert client.get(path).status_code == 409
    assert [(i.answer, i.answered_at) for i in _interests(engine)] == before and len(_recorded(emitted)) == count
    done = client.get(f"{path}/conferma")  # the confirmation stays readable, without the change link
    assert done.status_code == 200 and "non si può più modificare" in done.text


def test_closed_case_gets_a_clear_page_and_nothing_is_written(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    path = _path(COMPANY, dispatched.code)
    csrf = _csrf(client, path)
    _move(engine, dispatched, State.CLOSED, reason="found_job_alone")
    page = client.get(path)
    assert page.status_code == 409 and "Pratica chiusa" in page.text
    post = _answer(client, path, "colloquio", csrf=csrf)
    assert post.status_code == 409 and _interests(engine) == [] and _recorded(emitted) == []
    assert client.get(f"{path}/conferma").status_code == 409


def test_withdrawn_consent_hides_the_profile(engine: Engine, dispatched: Case, client: TestClient) -> None:
    with Session(engine) as s:
        withdraw(s, dispatched.person_key, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA)
        s.commit()
    page = client.get(_path(COMPANY, dispatched.code))
    assert page.status_code == 410 and "non è più disponibile" in page.text and "7212" not in page.text


def test_link_never_answered_has_no_confirmation(dispatched: Case, client: TestClient) -> None:
    path = _path(COMPANY, dispatched.code)
    response = client.get(f"{path}/conferma")
    assert response.status_code == 303 and response.headers["location"] == path


# --------------------------------------------------------------------- tampered and expired


def _reencode(token: str, **changes: Any) -> str:
    version, body, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    new = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{version}.{new}.{mac}"


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flip_mac(token: str, bits: int) -> str:
    """The token with ``bits`` of the signature's last character flipped.

    That character carries 4 bits of the MAC and 2 spare bits that decoders ignore, so flipping
    0b000100 changes the signature and 0b000001 only its spelling.
    """
    last = _B64URL.index(token[-1])
    return token[:-1] + _B64URL[last ^ bits]


def test_link_signature_is_accepted_only_as_issued() -> None:
    """Every other spelling of the last character is refused, even those decoding to the same MAC."""
    token = sign_link(COMPANY, "BG-2026-000001", key=b"s" * 32)
    assert verify_link(token, key=b"s" * 32).case_code == "BG-2026-000001"
    same_bytes = [t for t in (_flip_mac(token, b) for b in (1, 2, 3)) if _unmac(t) == _unmac(token)]
    assert len(same_bytes) == 3  # the decoder really cannot tell them apart
    for ch in _B64URL.replace(token[-1], "") + "+/=":
        with pytest.raises(LinkInvalid):
            verify_link(token[:-1] + ch, key=b"s" * 32)


def _unmac(token: str) -> bytes:
    return links._unb64(token.rsplit(".", 1)[1])


def test_tampered_links_get_a_clear_page_and_change_nothing(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    token = sign_link(COMPANY, dispatched.code)
    with Session(engine, expire_on_commit=False) as s:
        other_case = make_case(s, state=State.DISPATCHED, consents=SHAREABLE, profile={})
    forged = [
        _flip_mac(token, 0b000100),  # signature changed
        _flip_mac(token, 0b000001),  # signature respelled: same bytes once decoded, other text
        _reencode(token, k=other_case.code),  # another profile, same signature
        _reencode(token, c=OTHER),  # another company, same signature
        _reencode(token, e=int(time.time()) + 10**8),  # longer life, same signature
        "v2" + token[2:],  # unknown version
        token.rsplit(".", 1)[0],  # signature cut off
        sign_link(COMPANY, dispatched.code, key=b"k" * 32),  # signed with someone else's key
        "x" * 600,  # oversized
        "v1.@@@.@@@",
    ]
    valid_csrf = _csrf(client, f"/r/{token}")
    for bad in forged:
        page = client.get(f"/r/{bad}")
        assert page.status_code == 400, bad
        assert "Link non valido" in page.text and "modificato" in page.text
        post = client.post(f"/r/{bad}", data={"csrf": valid_csrf, "answer": "colloquio", "reason": ""})
        assert post.status_code == 400 and "Nessuna risposta è stata registrata" in post.text
    assert _interests(engine) == [] and _recorded(emitted) == []
    with pytest.raises(LinkInvalid):
        verify_link(_reencode(token, p="admin"))


def test_expired_link_gets_a_clear_page_and_changes_nothing(
    engine: Engine, dispatched: Case, emitted: list[events.EventSpec]
) -> None:
    ttl = get_settings().portal_link_ttl_days * 86400
    old = _path(COMPANY, dispatched.code, now=time.time() - ttl - 1)
    with TestClient(create_app(), follow_redirects=False) as client:
        page = client.get(old)
        assert page.status_code == 410 and "Link scaduto" in page.text
        assert _answer(client, old, "colloquio", csrf="0.x").status_code == 410
    # a form opened just before expiry and sent just after: refused too
    issued = time.time()
    clock = {"now": issued + ttl - 60}
    fresh = _path(COMPANY, dispatched.code, now=issued)
    with TestClient(create_app(clock=lambda: clock["now"]), follow_redirects=False) as client:
        csrf = _csrf(client, fresh)
        clock["now"] = issued + ttl + 1
        assert _answer(client, fresh, "colloquio", csrf=csrf).status_code == 410
    assert _interests(engine) == [] and _recorded(emitted) == []
    with pytest.raises(LinkExpired):
        verify_link(sign_link(COMPANY, dispatched.code, now=issued), now=issued + ttl)


# ---------------------------------------------------------------------------- wrong company


def test_wrong_company_is_refused(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    for company in ("CARITAS-BG", "COMP-INESISTENTE"):  # validly signed, but not a registered company
        page = client.get(_path(company, dispatched.code))
        assert page.status_code == 403 and "non corrisponde a nessuna azienda" in page.text
    # a form opened on company A's link cannot answer through company B's link
    mine, theirs = _path(COMPANY, dispatched.code), _path(OTHER, dispatched.code)
    assert _answer(client, theirs, "colloquio", csrf=_csrf(client, mine)).status_code == 403
    # a vacancy of another company
    with Session(engine) as s:
        s.add(Vacancy(code="VAC-T-1", company_code=OTHER, title="Addetto stampaggio"))
        s.commit()
    page = client.get(_path(COMPANY, dispatched.code, "VAC-T-1"))
    assert page.status_code == 403 and "un'altra azienda" in _text(page.text)
    assert _interests(engine) == [] and _recorded(emitted) == []


def test_vacancy_link_records_the_answer_for_that_vacancy(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    with Session(engine) as s:
        s.add(Vacancy(code="VAC-T-2", company_code=COMPANY, title="Saldatore a filo"))
        s.commit()
    path = _path(COMPANY, dispatched.code, "VAC-T-2")
    assert "Saldatore a filo" in client.get(path).text
    assert _answer(client, path, "interessato").status_code == 303
    (row,) = _interests(engine)
    assert row.vacancy_id is not None and row.answer is InterestAnswer.INTERESTED and len(_recorded(emitted)) == 1


# ------------------------------------------------------------------------- CSRF and the form


def test_post_without_a_valid_form_token_is_refused(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    path = _path(COMPANY, dispatched.code)
    csrf = _csrf(client, path)
    missing = client.post(path, data={"answer": "colloquio"})
    assert missing.status_code == 403 and "Modulo scaduto" in missing.text
    forged = csrf[:-1] + ("A" if csrf[-1] != "A" else "B")  # always a different value
    assert client.post(path, data={"csrf": forged, "answer": "colloquio"}).status_code == 403
    client.cookies.clear()  # token without its cookie (a cross-site post carries no SameSite cookie)
    assert client.post(path, data={"csrf": csrf, "answer": "colloquio"}).status_code == 403
    assert _interests(engine) == [] and _recorded(emitted) == []


def test_form_token_goes_stale(engine: Engine, dispatched: Case) -> None:
    clock = {"now": time.time()}
    path = _path(COMPANY, dispatched.code)
    with TestClient(create_app(clock=lambda: clock["now"]), follow_redirects=False) as client:
        csrf = _csrf(client, path)
        clock["now"] += links.CSRF_MAX_AGE + 1
        assert _answer(client, path, "colloquio", csrf=csrf).status_code == 403
    assert _interests(engine) == []


def test_bad_form_input_is_explained_and_nothing_written(
    engine: Engine, dispatched: Case, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    path = _path(COMPANY, dispatched.code)
    csrf = _csrf(client, path)
    none = client.post(path, data={"csrf": csrf, "answer": ""})
    assert none.status_code == 422 and "Scegliete una delle tre risposte" in none.text and 'role="alert"' in none.text
    no_reason = client.post(path, data={"csrf": csrf, "answer": "no", "reason": ""})
    assert no_reason.status_code == 422 and "indicate il motivo" in no_reason.text
    assert 'value="no" checked' in no_reason.text  # the company's choice is kept
    bogus = client.post(path, data={"csrf": csrf, "answer": "no", "reason": "<script>x</script>"})
    assert bogus.status_code == 422 and "<script>x" not in bogus.text
    twice = client.post(
        path,
        content=f"csrf={csrf}&answer=no&answer=colloquio".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400 and "campi ripetuti" in twice.text
    as_json = client.post(path, json={"csrf": csrf, "answer": "colloquio"})
    assert as_json.status_code == 415
    huge = client.post(path, data={"csrf": csrf, "answer": "colloquio", "pad": "x" * 5000})
    assert huge.status_code == 413
    assert _interests(engine) == [] and _recorded(emitted) == []


# ------------------------------------------------------------------------------ rate limiting


def test_rate_limit_on_the_form_post(engine: Engine, dispatched: Case, emitted: list[events.EventSpec]) -> None:
    path = _path(COMPANY, dispatched.code)
    with TestClient(create_app(post_limit=(3, 60.0)), follow_redirects=False) as client:
        csrf = _csrf(client, path)
        answers = ["interessato", "colloquio", "interessato", "colloquio"]
        codes = [_answer(client, path, a, csrf=csrf).status_code for a in answers]
        assert codes == [303, 303, 303, 429]
        limited = _answer(client, path, "no", "altro", csrf=csrf)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "Troppi tentativi" in limited.text
    assert _interests(engine)[0].answer is InterestAnswer.INTERESTED and len(_recorded(emitted)) == 3


def test_rate_limiter_window_slides() -> None:
    now = {"t": 1000.0}
    limiter = RateLimiter(2, 10.0, clock=lambda: now["t"])
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == pytest.approx(10.0)
    assert limiter.hit("b") is None  # keys are independent
    now["t"] += 10.0
    assert limiter.hit("a") is None


# --------------------------------------------------------------------------------- the key


def test_dev_key_is_created_once_per_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    path = get_settings().var_dir / "portal.key"
    assert not path.exists()
    token = sign_link(COMPANY, "BG-2026-000001")
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    links._key_file.cache_clear()  # another process reading the same var/ verifies it
    assert verify_link(token).case_code == "BG-2026-000001"
    other_var = path.parent.parent / "other-var"
    monkeypatch.setenv("INCONTRO_VAR_DIR", str(other_var))
    get_settings.cache_clear()
    with pytest.raises(LinkInvalid):  # another installation, another key
        verify_link(token)
    third_var = path.parent.parent / "third-var"
    monkeypatch.setenv("INCONTRO_VAR_DIR", str(third_var))
    monkeypatch.setenv("INCONTRO_PORTAL_SECRET", "s" * 40)
    get_settings.cache_clear()
    assert portal_key() == b"s" * 40 and not (third_var / "portal.key").exists()  # a set secret wins


def test_key_problems_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCONTRO_PORTAL_SECRET", "corto")
    get_settings.cache_clear()
    with pytest.raises(PortalKeyError, match="troppo corto"):
        portal_key()
    monkeypatch.delenv("INCONTRO_PORTAL_SECRET")
    get_settings.cache_clear()
    path = get_settings().var_dir / "portal.key"
    path.parent.mkdir(parents=True)
    path.write_text("non esadecimale\n")
    links._key_file.cache_clear()
    with pytest.raises(PortalKeyError, match=r"portal\.key: chiave del portale illeggibile"):
        portal_key()
    settings = get_settings().model_copy(update={"environment": "production"})
    with pytest.raises(PortalKeyError, match="INCONTRO_PORTAL_SECRET"):
        portal_key(settings)


# --------------------------------------------------------------------- links in the dispatch


def test_companies_for_ranks_unit_then_minor_then_major_group() -> None:
    sectors = {"A": ["7212"], "B": ["7214", "8211"], "C": ["7"], "D": ["5120"], "E": ["7212", "7223"]}
    assert companies_for(["7212", "7223"], sectors) == ["E", "A", "B"]
    assert companies_for(["7212"], sectors, limit=10) == ["A", "E", "B", "C"]
    assert companies_for(["9999"], sectors) == []


def test_dispatch_email_links_the_batch_page_whose_company_pages_carry_answer_links(
    engine: Engine, session: Session, client: TestClient, emitted: list[events.EventSpec]
) -> None:
    """The email carries one link (the batch page, issue 20); Confindustria sends each company
    its page from there, and each company's page links only its profiles' answer forms."""
    seed_partners(session)
    welder = make_case(session, state=State.PROFILE_READY, consents=SHAREABLE, profile={"occupations": ["7212"]})
    cook = make_case(session, state=State.PROFILE_READY, consents=SHAREABLE, profile={"occupations": ["5120"]})
    dispatch_profiles(session, batch_code="DSP-T-01", today=date(2026, 11, 30))
    session.commit()
    outbox = session.exec(select(Outbox).where(Outbox.kind == "dispatch_confindustria")).one()
    body_html, body_text = outbox.body_html or "", outbox.body_text
    session.commit()  # end the read transaction (SQLite write lock) without expiring the objects
    (url,) = re.findall(r'href="([^"]+)"', body_html)
    assert url.startswith(get_settings().portal_base_url + "/profili/lotto/") and url in body_text
    batch_path = url.removeprefix(get_settings().portal_base_url)
    page = client.get(batch_path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    assert client.post(batch_path, data={"csrf": csrf.group(1), "azienda": "tutte"}).status_code == 303
    mails = [
        (m.recipient_code, m.body_html or "")
        for m in session.exec(select(Outbox).where(Outbox.kind == "company_profiles")).all()
    ]
    session.commit()
    by_case: dict[str, list[str]] = {}
    for company, mail_html in mails:
        (company_url,) = re.findall(r'href="([^"]+)"', mail_html)
        company_page = client.get(company_url.removeprefix(get_settings().portal_base_url)).text
        for answer in re.findall(r'href="(/r/[^"]+)"', company_page):
            link = verify_link(answer.rsplit("/", 1)[1])
            assert link.company_code == company
            by_case.setdefault(link.case_code, []).append(link.company_code)
    assert COMPANY in by_case[welder.code] and 1 <= len(by_case[welder.code]) <= 3
    assert by_case[cook.code] == ["COMP-ALBERGO-COLLE"]


def test_dispatch_template_still_renders_without_links() -> None:
    rendered = render_email(
        "dispatch_confindustria", "it", {"batch_code": "DSP-X", "profiles": [{"profile_code": "BG-2026-000001"}]}
    )
    assert "BG-2026-000001" in rendered.text and "—" in rendered.html


def test_answer_url_uses_the_configured_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCONTRO_PORTAL_BASE_URL", "https://lavoro.provincia.bergamo.example/aziende/")
    get_settings.cache_clear()
    url = answer_url(COMPANY, "BG-2026-000002")
    assert url.startswith("https://lavoro.provincia.bergamo.example/aziende/r/v1.")
    assert verify_link(url.rsplit("/", 1)[1]).company_code == COMPANY
