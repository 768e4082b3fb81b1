"""The partners' pages (/segnalazioni/, issue 20) through FastAPI's test client on a migrated
SQLite database: the signed per-organisation link (expiry, tampering, another purpose), CSRF,
the referral form with the files' validation in Italian, the duplicate warning (by name only to
the partner who referred the person), the referral entering the file path (case, consents with
the notice's version, acknowledgement, events), the status page (own referrals only), its CSV
and the audit rows of every read."""

from __future__ import annotations

import csv
import html
import io
import re
import time
import warnings
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.privacy_notice import load_privacy_notice
from config.settings import get_settings
from models.cases import Case
from models.enums import Channel, ConsentPurpose, State
from models.ops import AuditLog, ImportFile, Outbox
from models.people import Consent, Organisation, Person, Referral
from portal.app import create_app
from tasks.mail.links import LinkInvalid, sign_link, sign_partner_link, verify_link, verify_partner_link
from tasks.runtime import events, steps
from tasks.runtime.event_names import REFERRAL_ACCEPTED
from tests.factories import make_case, seed_partners

with warnings.catch_warnings():  # Starlette prefers the httpx2 fork, which is not in the lock
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

CARITAS = "CARITAS-BG"
PONTE = "ASSOC-PONTE-UCRAINA"


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[events.EventSpec]:
    """What leaves for Prefect (import announcements and case events): the network hop is cut."""
    out: list[events.EventSpec] = []

    def confirmed(specs: Any, **_kw: Any) -> int:
        out.extend(specs)
        return len(specs)

    monkeypatch.setattr(steps, "emit_confirmed", confirmed)
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


@pytest.fixture
def partners(engine: Engine, announced: list[events.EventSpec]) -> None:
    with Session(engine) as s:
        seed_partners(s)


@pytest.fixture
def client(partners: None) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


def _enter(client: TestClient, org: str = CARITAS, **kw: Any) -> None:
    response = client.get(f"/segnalazioni/accesso/{sign_partner_link(org, **kw)}")
    assert response.status_code == 303 and response.headers["location"] == "/segnalazioni/"


def _csrf(client: TestClient, path: str = "/segnalazioni/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


OKSANA = {
    "family_name": "Shevchenko",
    "given_names": "Oksana",
    "birth_date": "1987-03-14",
    "sex": "F",
    "citizenship": "ucraina",
    "phone": "+380 67 123 4567",
    "email": "oksana.shevchenko@ukr.example",
    "municipality": "Seriate",
    "languages": "ucraino, russo",
    "italian_level": "A1",
    "experiences": "cuoca in una mensa scolastica a Kharkiv",
    "consent_privacy": "si",
    "consent_confindustria": "si",
}


def _post(client: TestClient, data: dict[str, str], path: str = "/segnalazioni/") -> Any:
    return client.post(path, data={"csrf": _csrf(client), **data})


def _text(page: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.text))


# ------------------------------------------------------------------------------------ the link


def test_pages_are_closed_without_the_organisations_link(client: TestClient) -> None:
    for path in ("/segnalazioni/", "/segnalazioni/stato", "/segnalazioni/stato.csv"):
        page = client.get(path)
        assert page.status_code == 401
        assert "riservate agli enti" in page.text
    assert client.post("/segnalazioni/", data=OKSANA).status_code == 401


def test_an_expired_or_tampered_link_opens_nothing(client: TestClient) -> None:
    old = sign_partner_link(CARITAS, now=time.time() - 100 * 86400, ttl_days=30)
    page = client.get(f"/segnalazioni/accesso/{old}")
    assert page.status_code == 410 and "scaduto" in page.text and "set-cookie" not in page.headers
    token = sign_partner_link(CARITAS)
    version, body, mac = token.split(".")
    forged_body = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    for bad in (f"{version}.{forged_body}.{mac}", f"{version}.{body}.{mac[:-1]}x", token[:-3]):
        assert client.get(f"/segnalazioni/accesso/{bad}").status_code == 400
    # a link expiring while the cookie is still in the browser closes the pages too
    client.cookies.set("incontro_partner", old, path="/segnalazioni")
    assert client.get("/segnalazioni/stato").status_code == 410


def test_partner_and_company_links_never_open_each_other(client: TestClient) -> None:
    answer = sign_link("COMP-OFFICINE-VALSERIANA", "BG-2026-000001")
    partner = sign_partner_link(CARITAS)
    with pytest.raises(LinkInvalid):
        verify_partner_link(answer)
    with pytest.raises(LinkInvalid):
        verify_link(partner)
    assert client.get(f"/segnalazioni/accesso/{answer}").status_code == 400
    assert client.get(f"/r/{partner}").status_code == 400


def test_only_a_referring_organisation_gets_in(client: TestClient) -> None:
    _enter(client, "COMP-OFFICINE-VALSERIANA")
    assert client.get("/segnalazioni/").status_code == 403


def test_a_post_without_the_pages_form_token_is_refused(client: TestClient, engine: Engine) -> None:
    _enter(client)
    client.get("/segnalazioni/")
    refused = client.post("/segnalazioni/", data={**OKSANA, "csrf": "1700000000.forged"})
    assert refused.status_code == 403 and "Modulo scaduto" in refused.text
    other = TestClient(create_app(), follow_redirects=False)  # another browser: its own cookie nonce
    _enter(other)
    token = _csrf(other)
    assert client.post("/segnalazioni/", data={**OKSANA, "csrf": token}).status_code == 403
    with Session(engine) as s:
        assert s.exec(select(ImportFile)).first() is None


# --------------------------------------------------------------------------------- the form


def test_errors_are_in_italian_next_to_each_field_and_nothing_is_stored(client: TestClient, engine: Engine) -> None:
    _enter(client)
    bad = {
        **OKSANA,
        "family_name": "",
        "birth_date": "2019-02-30",
        "email": "oksana@",
        "codice_fiscale": "SHVKSN87C54Z138",
        "consent_privacy": "",
    }
    del bad["consent_privacy"]
    page = _post(client, bad)
    assert page.status_code == 422
    text = _text(page)
    assert "La segnalazione non è stata inviata" in text
    assert "Campo obbligatorio" in text
    assert "indirizzo e-mail non valido" in text.lower()
    assert "codice fiscale" in text.lower()
    assert "Senza il consenso della persona" in text
    # each message sits under its field and the field points at it
    assert re.search(r'id="campo-email"[^>]*aria-describedby="errore-email"[^>]*aria-invalid="true"', page.text)
    assert 'id="errore-family_name"' in page.text
    # what was typed is kept, so nothing has to be typed again
    assert 'value="Oksana"' in page.text and "cuoca in una mensa scolastica" in page.text
    with Session(engine) as s:
        assert s.exec(select(Person)).all() == []


def test_a_referral_enters_the_file_path(client: TestClient, engine: Engine, announced: list[Any]) -> None:
    _enter(client)
    sent = _post(client, OKSANA)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].startswith("/segnalazioni/inviata?pratica=BG-")
    done = client.get(sent.headers["location"])
    code = re.search(r"BG-\d{4}-\d{6}", done.text)
    assert code and "Segnalazione ricevuta" in done.text and "presa in carico" in done.text
    version = load_privacy_notice().version
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.code == code.group(0))).one()
        assert case.state is State.ACCEPTED and case.office_code == "CPI-BG"  # Seriate is served from Bergamo
        person = s.exec(select(Person).where(Person.key == case.person_key)).one()
        assert (person.family_name, person.phone) == ("Shevchenko", "+380671234567")
        referral = s.exec(select(Referral).where(Referral.case_id == case.id)).one()
        assert referral.referrer_code == CARITAS and referral.channel is Channel.FORM
        consents = s.exec(select(Consent).where(Consent.person_key == case.person_key)).all()
        assert {c.purpose for c in consents} == {
            ConsentPurpose.CPI_PROCESSING,
            ConsentPurpose.REFERRER_CONTACT,
            ConsentPurpose.PROFILE_TO_CONFINDUSTRIA,
        }
        assert all(c.source.endswith(f":informativa:{version}") for c in consents)
        imp = s.exec(select(ImportFile)).one()
        assert imp.finished_at is not None and imp.sender_code == CARITAS
        ack = s.exec(select(Outbox).where(Outbox.kind == "referral_ack")).one()
        assert ack.recipient_code == CARITAS and code.group(0) in ack.body_text
    assert REFERRAL_ACCEPTED in [e.name for e in announced]
    folder = get_settings().var_dir / "segnalazioni"
    assert folder.is_dir() and not [p for p in folder.rglob("*") if p.is_file()]  # no copy of her data on disk


def test_the_same_form_sent_twice_is_one_referral(client: TestClient, engine: Engine) -> None:
    _enter(client)
    first = _post(client, OKSANA)
    again = _post(client, {**OKSANA, "conferma_duplicato": "si"})
    assert again.status_code == 303 and "ripetuta=1" in again.headers["location"]
    assert first.headers["location"].split("&")[0] == again.headers["location"].split("&")[0]
    with Session(engine) as s:
        assert len(s.exec(select(Case)).all()) == 1


# --------------------------------------------------------------------------- duplicate warning


def test_duplicate_of_an_own_referral_is_named(client: TestClient, engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        known = make_case(
            s, state=State.INTAKE_SCHEDULED, referrer=CARITAS, family_name="Shevchenko", given_names="Oksana",
            birth_date=date(1987, 3, 14), phone="+380671234567", email="oksana.shevchenko@ukr.example",
        )  # fmt: skip
    _enter(client)
    warned = _post(client, {**OKSANA, "phone": "067 123 4567"})
    assert warned.status_code == 409
    text = _text(warned)
    assert "Possibile persona già segnalata" in text
    assert "Shevchenko Oksana" in text and known.code in text and "colloquio fissato" in text
    with Session(engine) as s:
        assert len(s.exec(select(Case)).all()) == 1  # nothing sent before the confirmation
    confirmed = _post(client, {**OKSANA, "conferma_duplicato": "si"})
    assert confirmed.status_code == 303
    with Session(engine) as s:  # the file path's dedup merged it into the known case
        assert s.exec(select(Case).where(Case.code == known.code)).one().state is State.INTAKE_SCHEDULED
        refs = s.exec(select(Referral).where(Referral.referrer_code == CARITAS)).all()
        assert {r.case_id for r in refs} == {known.id}
    status = _text(client.get("/segnalazioni/stato"))
    assert status.count("Shevchenko Oksana") == 1 and "Una persona segnalata" in status  # one person, one line


def test_duplicate_of_another_partners_referral_stays_neutral(client: TestClient, engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        known = make_case(
            s, state=State.ACCEPTED, referrer=PONTE, family_name="Shevchenko", given_names="Oksana",
            birth_date=date(1987, 3, 14), phone="+380671234567", email="o.shevchenko@gmail.example",
        )  # fmt: skip
    _enter(client)
    warned = _post(client, OKSANA)
    assert warned.status_code == 409
    text = _text(warned)
    assert "Possibile persona già segnalata" in text and "già seguita dai Centri per l'Impiego" in text
    assert known.code not in text and "o.shevchenko@gmail.example" not in text
    warning = warned.text.split('id="duplicato"')[1].split("</div>")[0]
    assert "Melnyk" not in warning and "Shevchenko" not in warning and "presa in carico" not in warning


# ------------------------------------------------------------------------------ status page


def _referrals(engine: Engine) -> dict[str, Case]:
    with Session(engine, expire_on_commit=False) as s:
        return {
            "hanna": make_case(s, state=State.LITERACY, referrer=CARITAS, family_name="Bondarenko",
                               given_names="Hanna"),
            "amadou": make_case(s, state=State.CLOSED, referrer=CARITAS, family_name="Diallo",
                                given_names="Amadou", office="CPI-TRV"),
            "other": make_case(s, state=State.DISPATCHED, referrer=PONTE, family_name="Melnyk",
                               given_names="Iryna"),
        }  # fmt: skip


def test_status_shows_own_referrals_in_italian_and_nothing_of_others(client: TestClient, engine: Engine) -> None:
    cases = _referrals(engine)
    _enter(client)
    page = client.get("/segnalazioni/stato")
    assert page.status_code == 200
    text = _text(page)
    assert "Bondarenko Hanna" in text and "corso di italiano" in text and cases["hanna"].code in text
    assert "Diallo Amadou" in text and "chiusa" in text and "il percorso è concluso" in text
    assert "Melnyk" not in text and cases["other"].code not in text
    assert not re.search(r"\b(literacy|closed|dispatched)\b", text)
    with Session(engine) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.actor == f"partner:{CARITAS}")).all()
        assert {a.case_code for a in audit} == {cases["hanna"].code, cases["amadou"].code}
        assert {a.action for a in audit} == {"read"}
    _enter(client, PONTE)
    assert "Melnyk Iryna" in _text(client.get("/segnalazioni/stato"))


def test_csv_export_holds_own_referrals_and_is_audited(client: TestClient, engine: Engine) -> None:
    cases = _referrals(engine)
    with Session(engine, expire_on_commit=False) as s:
        make_case(s, referrer=CARITAS, family_name='=HYPERLINK("http://x")', given_names="Ivan")
    _enter(client)
    export = client.get("/segnalazioni/stato.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["Cognome", "Nome", "Segnalata il", "Pratica", "Stato"]
    by_code = {r[3]: r for r in rows[1:]}
    assert by_code[cases["hanna"].code][:2] == ["Bondarenko", "Hanna"]
    assert by_code[cases["hanna"].code][4] == "corso di italiano"
    assert cases["other"].code not in by_code
    assert any(r[0].startswith("'=HYPERLINK") for r in rows[1:])  # a formula never runs in Excel
    with Session(engine) as s:
        exported = s.exec(select(AuditLog).where(AuditLog.action == "export")).all()
        assert len(exported) == 3 and all(a.actor == f"partner:{CARITAS}" for a in exported)


def test_status_pages_through_many_referrals(client: TestClient, engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        for n in range(55):
            make_case(s, referrer=CARITAS, family_name=f"Kovalenko{chr(65 + n % 26)}", given_names="Petro")
    _enter(client)
    first = client.get("/segnalazioni/stato")
    assert "55 persone segnalate" in first.text and "Pagina 1 di 2" in first.text
    second = client.get("/segnalazioni/stato?pagina=2")
    assert "Pagina 2 di 2" in second.text and len(re.findall(r"<tr>", second.text)) == 1 + 5


def test_the_partner_chooses_its_digest(client: TestClient, engine: Engine) -> None:
    _enter(client)
    token = _csrf(client, "/segnalazioni/stato")
    saved = client.post("/segnalazioni/riepilogo", data={"csrf": token, "frequenza": "daily"})
    assert saved.status_code == 303
    with Session(engine) as s:
        assert s.get(Organisation, CARITAS).digest_frequency == "daily"  # type: ignore[union-attr]
        assert s.get(Organisation, PONTE).digest_frequency == "weekly"  # type: ignore[union-attr]
    assert client.post("/segnalazioni/riepilogo", data={"frequenza": "weekly"}).status_code == 403


def test_sign_out_forgets_the_link(client: TestClient) -> None:
    _enter(client)
    token = _csrf(client, "/segnalazioni/stato")
    out = client.post("/segnalazioni/esci", data={"csrf": token})
    assert out.status_code == 303
    assert client.get("/segnalazioni/stato").status_code == 401


def test_confirmation_page_does_not_show_another_partners_case(client: TestClient, engine: Engine) -> None:
    cases = _referrals(engine)
    _enter(client)
    page = client.get(f"/segnalazioni/inviata?pratica={cases['other'].code}")
    assert cases["other"].code not in page.text and "in lavorazione" in page.text


def test_no_identifier_reaches_the_url(client: TestClient, engine: Engine) -> None:
    _enter(client)
    sent = _post(client, OKSANA)
    assert not {"Shevchenko", "Oksana", "380", "ukr.example"} & set(re.split(r"[?&=/]", sent.headers["location"]))
    with Session(engine) as s:
        assert s.exec(select(col(Case.id))).first() is not None
