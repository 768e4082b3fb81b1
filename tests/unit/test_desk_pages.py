"""The desk's jobs through the test client on SQLite: search in any script, the case sheet's
consent (contact release to the asking company), closure with the referrer's email, attendance,
the next step, and forms answered with codes only (a fixed form source stands in for Prefect)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import clock
from models.accounts import Attendance, Role
from models.cases import Case
from models.enums import ConsentPurpose, InterestAnswer, State
from models.exchange import Interest
from models.ops import AuditLog, Outbox
from models.people import Consent
from portal.app import create_app
from portal.desk.app import create_desk_app
from portal.desk.cases import read_query
from portal.desk.forms_source import FormSchema, PendingForm, parse_schema
from portal.desk.security import add_user
from tasks.files.normalize import normalize_name
from tests.factories import SHAREABLE, make_case, seed_partners

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

PASSWORD = "Treviglio-sportello-7"
COMPANY = "COMP-OFFICINE-VALSERIANA"


def _fresh(session: Session, model: type[Any]) -> list[Any]:
    with Session(session.get_bind()) as s:
        return list(s.exec(select(model)).all())


def _person(family: str, given: str, **extra: Any) -> dict[str, Any]:
    return {"family_name": family, "given_names": given, "name_norm": normalize_name(f"{family} {given}"), **extra}


@pytest.fixture
def people(session: Session) -> dict[str, Case]:
    seed_partners(session)
    add_user(session, username="g.bianchi", password=PASSWORD, role=Role.OPERATOR, office_code="CPI-BG")
    session.commit()
    everyone = (*SHAREABLE, ConsentPurpose.REFERRER_CONTACT)
    return {
        # a referral written in Cyrillic only: the import transliterates it into name_norm
        "kovalenko": make_case(
            session, state=State.INTERVIEW, consents=everyone, profile={}, **_person("Коваленко", "Олена")
        ),
        "shevchenko": make_case(session, **_person("Shevchenko", "Olha", native_family_name="Шевченко")),
        "diallo": make_case(
            session, codice_fiscale="DLLMMD95C12Z343K", phone="+393471122334", **_person("Diallo", "Mamadou")
        ),
    }


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="http://127.0.0.1", follow_redirects=False) as c:
        yield c


def _login(client: TestClient, username: str = "g.bianchi") -> str:
    page = client.get("/scrivania/accedi")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/scrivania/accedi", data={"csrf": token.group(1), "username": username, "password": PASSWORD}
    )
    assert response.status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/scrivania/pratiche").text)
    assert csrf
    return csrf.group(1)


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("BG-2026-000103", "code", "BG-2026-000103"),
        ("bg 2026 103", "code", "BG-2026-000103"),
        ("dllmmd95c12z343k", "tax_code", "DLLMMD95C12Z343K"),
        ("347 112 2334", "phone", "393471122334"),
        ("+39 347-1122334", "phone", "393471122334"),
        ("Коваленко", "name", "kovalenko"),
        ("  Kovalenko   Olena ", "name", "kovalenko olena"),
        ("", "empty", ""),
    ],
)
def test_what_was_typed_is_read_as_the_right_identifier(typed: str, kind: str, value: str) -> None:
    query = read_query(typed)
    assert (query.kind, query.value) == (kind, value)


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("Kovalenko", "kovalenko"),  # Cyrillic name typed in Latin
        ("olena koval", "kovalenko"),  # word order, start of a word
        ("Шевченко", "shevchenko"),  # Latin name typed in Cyrillic
        ("Olga Shevchenko", "shevchenko"),  # another transliteration of Ольга
        ("DLLMMD95C12Z343K", "diallo"),
        ("347 112 2334", "diallo"),
    ],
)
def test_search_finds_people_in_any_script(client: TestClient, people: dict[str, Case], typed: str, who: str) -> None:
    csrf = _login(client)
    page = client.post("/scrivania/pratiche", data={"csrf": csrf, "q": typed})
    assert page.status_code == 200
    found = set(re.findall(r"BG-\d{4}-\d{6}", page.text.split('id="risultati"')[1]))
    assert found == {people[who].code}


def test_contact_consent_for_the_asking_company_releases_the_contacts(
    client: TestClient, people: dict[str, Case], session: Session
) -> None:
    case = people["kovalenko"]
    session.add(Interest(company_code=COMPANY, case_id=case.id, answer=InterestAnswer.INTERVIEW, processed=True))
    session.commit()
    csrf = _login(client)
    sheet = client.get(f"/scrivania/pratiche/{case.code}")
    assert "Officine Meccaniche Valseriana" in sheet.text
    response = client.post(
        f"/scrivania/pratiche/{case.code}/consensi",
        data={"csrf": csrf, "scopo": "contact_to_company", "destinatario": COMPANY, "canale": "telefono"},
    )
    assert response.status_code == 303 and response.headers["location"].endswith("fatto=recapiti")
    consent = next(c for c in _fresh(session, Consent) if c.recipient_code == COMPANY)
    assert consent.purpose is ConsentPurpose.CONTACT_TO_COMPANY and consent.source == "scrivania:telefono:g.bianchi"
    release = [o for o in _fresh(session, Outbox) if o.kind == "contact_release"]
    assert [(o.case_code, o.recipient_code) for o in release] == [(case.code, COMPANY)]
    assert "Коваленко" in release[0].body_text
    page = client.get(f"/scrivania/pratiche/{case.code}").text
    assert "al telefono, registrato da g.bianchi" in page
    # and withdrawn again from the sheet
    response = client.post(
        f"/scrivania/pratiche/{case.code}/consensi/revoca", data={"csrf": csrf, "consenso": str(consent.id)}
    )
    assert response.status_code == 303
    assert next(c for c in _fresh(session, Consent) if c.id == consent.id).withdrawn_at is not None
    actions = {a.action for a in _fresh(session, AuditLog) if a.case_code == case.code}
    assert {"consent_recorded", "consent_withdrawn", "contact_release"} <= actions


def test_closing_a_case_tells_the_referrer(client: TestClient, people: dict[str, Case], session: Session) -> None:
    case = people["kovalenko"]
    csrf = _login(client)
    refused = client.post(f"/scrivania/pratiche/{case.code}/chiusura", data={"csrf": csrf, "motivo": "other"})
    assert refused.status_code == 422 and "nota" in refused.text
    response = client.post(
        f"/scrivania/pratiche/{case.code}/chiusura", data={"csrf": csrf, "motivo": "moved_away", "nota": ""}
    )
    assert response.status_code == 303
    closed = next(c for c in _fresh(session, Case) if c.id == case.id)
    assert closed.state is State.CLOSED and closed.next_step is None
    mails = [o for o in _fresh(session, Outbox) if o.kind == "case_closed"]
    assert [(o.case_code, o.recipient_code) for o in mails] == [(case.code, "CARITAS-BG")]
    page = client.get(f"/scrivania/pratiche/{case.code}").text
    assert "trasferita fuori dal territorio" in page and "operatore g.bianchi" in page
    assert "Chiudi la pratica" not in page


def test_next_step_and_attendance(client: TestClient, people: dict[str, Case], session: Session) -> None:
    case = people["shevchenko"]
    csrf = _login(client)
    response = client.post(
        f"/scrivania/pratiche/{case.code}/passo",
        data={"csrf": csrf, "passo": "reschedule_intake", "scadenza": "2099-01-15"},
    )
    assert response.status_code == 303
    moved = next(c for c in _fresh(session, Case) if c.id == case.id)
    assert (moved.next_step, moved.next_due) == ("reschedule_intake", date(2099, 1, 15))
    assert (
        client.post(f"/scrivania/oggi/{case.code}/presenza", data={"csrf": csrf, "presente": "no"}).status_code == 303
    )
    assert [(a.case_id, a.present, a.actor) for a in _fresh(session, Attendance)] == [(case.id, False, "g.bianchi")]


class FixedForms:
    """A form source holding one suspended intake form (what Prefect would hold), recording answers."""

    def __init__(self, schema: dict[str, Any], office: str = "CPI-BG") -> None:
        self._schema = schema
        self.office = office
        self.answers: list[tuple[str, dict[str, Any]]] = []

    RUN = "0b7f5a8e-2d44-4c1e-9b55-3f2a1c9d8e70"

    def pending(self) -> list[PendingForm]:
        codes = [r["case_code"] for r in parse_schema(self._schema).rows]
        return [PendingForm(self.RUN, "intake-form", self.office, "2026-12-03", codes)]

    def schema(self, run_id: str) -> FormSchema:
        return parse_schema(self._schema)

    def answer(self, run_id: str, answer: dict[str, Any]) -> None:
        self.answers.append((run_id, answer))


def _intake_schema(codes: list[str]) -> dict[str, Any]:
    from models.forms import IntakeForm, IntakeResult

    form = IntakeForm.with_initial_data(description="x", results=[IntakeResult(case_code=c) for c in codes])
    return form.model_json_schema()


def test_a_form_is_answered_from_the_desk_with_codes_only(
    engine: Engine, people: dict[str, Case], session: Session
) -> None:
    codes = [people["shevchenko"].code, people["diallo"].code]
    forms = FixedForms(_intake_schema(codes))
    session.add(Attendance(case_id=people["diallo"].id, day=clock.today(), present=False, actor="g.bianchi"))
    session.commit()
    with _desk_client(forms) as client:
        csrf = _login(client)
        listing = client.get("/scrivania/moduli").text
        assert "esiti dei colloqui" in listing and "Shevchenko Olha" in listing and "Diallo Mamadou" in listing
        page = client.get(f"/scrivania/moduli/{FixedForms.RUN}").text
        assert 'name="r1.present"' in page
        form = {
            "csrf": csrf,
            "r0.listening": "A2",
            "r0.present": "si",
            "r1.present": "no",
            "r0.occupations": "7212, 9329",
        }
        response = client.post(f"/scrivania/moduli/{FixedForms.RUN}", data=form)
        assert response.status_code == 303
    ((run_id, answer),) = forms.answers
    rows = answer["results"]
    assert run_id == FixedForms.RUN and [r["case_code"] for r in rows] == codes
    assert rows[0]["listening"] == "A2" and rows[0]["occupations"] == ["7212", "9329"] and rows[1]["present"] is False
    sent = repr(answer)
    assert "Shevchenko" not in sent and "Diallo" not in sent  # codes and levels only
    audit = [a for a in _fresh(session, AuditLog) if a.action == "form_answer"]
    assert sorted((a.actor, a.case_code, a.purpose) for a in audit) == [
        ("scrivania:g.bianchi", code, f"modulo {FixedForms.RUN}") for code in sorted(codes)
    ]  # who answered, for each case of the form


def test_a_list_of_choices_is_ticked_not_typed(engine: Engine, people: dict[str, Case]) -> None:
    """A field holding several choices of a closed list (an array of ``enum`` in the form's schema,
    plain or optional, inline or by reference) is one box per choice: the answer holds exactly the
    ticked choices, words with commas and spaces included, never free text."""
    words = ["saldatura a filo (MIG/MAG)", "carrello elevatore, patentino", "HACCP"]
    code = people["diallo"].code
    row = {
        "type": "object",
        "title": "Esito",
        "properties": {
            "case_code": {"type": "string", "title": "Pratica"},
            "skills": {"type": "array", "title": "Competenze", "items": {"type": "string", "enum": words}},
            "languages": {
                "anyOf": [{"type": "array", "items": {"$ref": "#/$defs/Lingua"}}, {"type": "null"}],
                "title": "Lingue",
            },
        },
    }
    schema = {
        "$defs": {"Row": row, "Lingua": {"type": "string", "enum": ["ucraino", "inglese"]}},
        "properties": {
            "results": {
                "type": "array",
                "items": {"$ref": "#/$defs/Row"},
                "default": [{"case_code": code, "skills": [words[1]], "languages": None}],
            }
        },
    }
    forms = FixedForms(schema)
    with _desk_client(forms) as client:
        csrf = _login(client)
        page = client.get(f"/scrivania/moduli/{FixedForms.RUN}").text
        assert page.count('type="checkbox"') == 5
        assert re.search(r'name="r0\.skills\.1" value="1" checked', page)  # the pre-filled choice
        assert "carrello elevatore, patentino</label>" in page and "<legend>Lingue</legend>" in page
        form = {"csrf": csrf, "r0.skills.0": "1", "r0.skills.2": "1", "r0.languages.0": "1", "r0.skills.9": "1"}
        assert client.post(f"/scrivania/moduli/{FixedForms.RUN}", data=form).status_code == 303
    ((_, answer),) = forms.answers
    (sent,) = answer["results"]
    assert sent == {"case_code": code, "skills": [words[0], words[2]], "languages": ["ucraino"]}


def test_a_busy_days_form_goes_through(engine: Engine, people: dict[str, Case]) -> None:
    """Forty appointments of a day in one form: every field of every row is read (the desk does
    not refuse a long form)."""
    from models.forms import IntakeResult

    codes = [f"BG-2026-{n:06d}" for n in range(1, 41)]
    forms = FixedForms(_intake_schema(codes))
    editable = [name for name in IntakeResult.model_fields if name != "case_code"]
    with _desk_client(forms) as client:
        form = {"csrf": _login(client)}
        form |= {f"r{i}.{name}": "no" for i in range(len(codes)) for name in editable}
        assert len(form) > 600
        assert client.post(f"/scrivania/moduli/{FixedForms.RUN}", data=form).status_code == 303
    ((_, answer),) = forms.answers
    assert [r["present"] for r in answer["results"]] == [False] * len(codes)


def test_another_offices_form_is_not_shown(engine: Engine, people: dict[str, Case]) -> None:
    forms = FixedForms(_intake_schema([people["diallo"].code]), office="CPI-TRE")
    with _desk_client(forms) as c:
        csrf = _login(c)
        assert "Nessun modulo in attesa" in c.get("/scrivania/moduli").text
        assert c.get(f"/scrivania/moduli/{FixedForms.RUN}").status_code == 404
        assert c.post(f"/scrivania/moduli/{FixedForms.RUN}", data={"csrf": csrf}).status_code == 404
    assert forms.answers == []


def _desk_client(forms: FixedForms) -> TestClient:
    """The desk mounted at /scrivania as the portal mounts it, with ``forms`` in place of Prefect."""
    app = FastAPI()
    app.mount("/scrivania", create_desk_app(forms=forms))
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
