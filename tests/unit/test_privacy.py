"""Privacy by construction on a real SQLite app database: consent gates, withdrawal (queued
emails included, with a real SMTP server), erasure, retention, access export, rectification,
secrets, and the PII scanner itself."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import pickle
import sqlite3
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import PROJECT_ROOT, Settings, get_settings
from models import clock
from models.cases import Case, CaseEvent, Enrollment
from models.enums import ConsentPurpose, InterestAnswer, OutboxStatus, State
from models.exchange import Interest
from models.ops import AuditLog, ImportFile, ImportRow, Outbox, OutboxAttachment
from models.people import Consent, Person, PersonKey, Referral
from tasks.core.consent import expired_consents, expiring_consents, grant_consent, has_consent
from tasks.dispatch import dispatch_profiles, shareable_profiles
from tasks.interest import release_contacts
from tasks.literacy import request_enrolments
from tasks.mail.drain import drain_outbox
from tasks.mail.notify import consent_still_valid
from tasks.mail.outbox import enqueue_email
from tasks.mail.smtp_sink import MailSink
from tasks.privacy.erasure import anonymise_closed_cases, erase_person, retention_days
from tasks.privacy.export import access_export
from tasks.privacy.identifiers import PrivacyError, find_case, identifier_strings
from tasks.privacy.rectification import rectify_person
from tasks.privacy.withdrawal import cancel_for_expired_consents, withdraw_consent
from tasks.reports.funnel import ever_reached, funnel_rows
from tests.factories import make_case, seed_partners
from tests.pii_scan import Needle, app_db_rows, collect_identifiers, scan, search

P = ConsentPurpose
TODAY = clock.today()
COMPANY, OTHER_COMPANY = "COMP-GOMMA-ISOLA", "COMP-FORNO-SERIO"
TARAS: dict[str, Any] = {
    "family_name": "Shevchenko",
    "given_names": "Taras",
    "native_family_name": "Шевченко",
    "native_given_names": "Тарас",
    "birth_date": date(1987, 3, 9),
    "codice_fiscale": "SHVTRS87C09Z138X",
    "phone": "+393471234567",
    "email": "taras.shev@posta.example",
}


@pytest.fixture
def db(session: Session) -> Session:
    seed_partners(session)
    return session


def _person(session: Session, case: Case) -> Person:
    return session.exec(select(Person).where(Person.key == case.person_key)).one()


def _pending(session: Session, kind: str) -> list[Outbox]:
    session.expire_all()
    return list(session.exec(select(Outbox).where(Outbox.kind == kind, Outbox.status == OutboxStatus.PENDING)).all())


def _interest(session: Session, case: Case, company: str = COMPANY) -> None:
    assert case.id is not None
    session.add(Interest(company_code=company, case_id=case.id, answer=InterestAnswer.INTERESTED, processed=True))
    session.commit()


def _drain(engine: Engine, sink: MailSink) -> None:
    settings = get_settings().model_copy(update={"smtp_port": sink.port})
    asyncio.run(drain_outbox(engine, settings=settings, consent_ok=consent_still_valid, alert_targets=None))


def _xlsx_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)


# --------------------------------------------------------------------------------------------
# Consent gates


def test_dispatch_cpia_and_contact_release_are_impossible_without_the_matching_consent(db: Session) -> None:
    with_dispatch = make_case(
        db, state=State.PROFILE_READY, consents=(P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA), profile={}
    )
    no_dispatch = make_case(db, state=State.PROFILE_READY, consents=(P.CPI_PROCESSING, P.CPIA_ENROLMENT), profile={})
    assert [c.code for c, _ in shareable_profiles(db)] == [with_dispatch.code]
    summary = dispatch_profiles(db, batch_code="DSP-T-01", today=TODAY)
    db.commit()
    assert summary.case_codes == [with_dispatch.code]
    (sheet,) = _pending(db, "dispatch_confindustria")
    assert no_dispatch.code not in sheet.body_text and with_dispatch.code in sheet.body_text
    assert db.get(Case, no_dispatch.id).state is State.PROFILE_READY  # type: ignore[union-attr]

    with_cpia = make_case(db, state=State.LITERACY, consents=(P.CPI_PROCESSING, P.CPIA_ENROLMENT), profile={})
    no_cpia = make_case(db, state=State.LITERACY, consents=(P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA), profile={})
    requested = request_enrolments(db, today=TODAY)
    db.commit()
    assert [c for codes in requested.values() for c in codes] == [with_cpia.code]
    assert all(no_cpia.code not in r.body_text for r in _pending(db, "cpia_enrolment_request"))
    assert db.exec(select(Enrollment).where(Enrollment.case_id == no_cpia.id)).first() is None

    candidate = make_case(db, state=State.INTEREST, consents=(P.CPI_PROCESSING,), **TARAS)
    _interest(db, candidate)
    assert release_contacts(db) == []  # no consent at all
    grant_consent(db, candidate.person_key, P.CONTACT_TO_COMPANY, recipient=OTHER_COMPANY, source="test")
    db.commit()
    assert release_contacts(db) == []  # consent to another company only
    grant_consent(db, candidate.person_key, P.CONTACT_TO_COMPANY, recipient=COMPANY, source="test")
    db.commit()
    assert release_contacts(db) == [candidate.code]
    db.commit()
    (release,) = _pending(db, "contact_release")
    assert release.recipient_code == COMPANY and "Shevchenko" in release.body_text
    assert release.person_key == candidate.person_key and release.consent_purpose == P.CONTACT_TO_COMPANY.value


def test_expired_consent_stops_shares_and_queued_rows(db: Session) -> None:
    case = make_case(db, state=State.PROFILE_READY, consents=(P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA), profile={})
    soon = make_case(db, state=State.PROFILE_READY, consents=(P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA), profile={})
    _interest(db, case)
    grant_consent(db, case.person_key, P.CONTACT_TO_COMPANY, recipient=COMPANY, source="test")
    db.commit()
    release_contacts(db)
    db.commit()
    past, later = datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(days=10)
    db.execute(update(Consent).where(col(Consent.person_key) == case.person_key).values(expires_at=past))
    db.execute(update(Consent).where(col(Consent.person_key) == soon.person_key).values(expires_at=later))
    db.commit()
    assert [c.code for c, _ in shareable_profiles(db)] == [soon.code]
    assert {c.person_key for c in expired_consents(db)} == {case.person_key}
    assert {c.person_key for c in expiring_consents(db, within=timedelta(days=30))} == {soon.person_key}
    assert cancel_for_expired_consents(db) == 1
    db.commit()
    assert _pending(db, "contact_release") == []


def test_withdrawal_stops_queued_emails_before_a_real_smtp_server_sees_them(
    db: Session, engine: Engine, tmp_path: Path
) -> None:
    both = (P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA, P.CPIA_ENROLMENT)
    leaving = make_case(db, state=State.PROFILE_READY, consents=both, profile={})
    staying = make_case(db, state=State.PROFILE_READY, consents=both, profile={})
    dispatch_profiles(db, batch_code="DSP-T-02", today=TODAY)
    learner, classmate = (make_case(db, state=State.LITERACY, consents=both, profile={}) for _ in range(2))
    request_enrolments(db, today=TODAY)
    candidate = make_case(db, state=State.INTEREST, consents=(P.CPI_PROCESSING,), **TARAS)
    _interest(db, candidate)
    grant_consent(db, candidate.person_key, P.CONTACT_TO_COMPANY, recipient=COMPANY, source="test")
    db.commit()
    release_contacts(db)
    db.commit()
    assert len(_pending(db, "contact_release")) == 1  # queued, SMTP not reached yet

    w1 = withdraw_consent(db, leaving.code, P.PROFILE_TO_CONFINDUSTRIA)
    w2 = withdraw_consent(db, learner.code, P.CPIA_ENROLMENT)
    w3 = withdraw_consent(db, candidate.code, P.CONTACT_TO_COMPANY, COMPANY)
    db.commit()
    assert (w1.consents, w1.reissued, w2.reissued, w2.courses_closed, w3.cancelled) == (1, 1, 1, 1, 1)
    assert not has_consent(db, candidate.person_key, P.CONTACT_TO_COMPANY, COMPANY)
    db.commit()  # release SQLite's write lock before the drain's own sessions

    with MailSink(tmp_path / "mail") as sink:
        _drain(engine, sink)
        kinds = sorted(m.kind or "" for m in sink.messages)
        assert kinds == ["cpia_enrolment_request", "dispatch_confindustria"]  # no contact release left
        for message in sink.messages:
            body = message.raw.decode("utf-8", "replace")
            assert leaving.code not in body and learner.code not in body
            assert "Shevchenko" not in body and "3471234567" not in body
        dispatch = next(m for m in sink.messages if m.kind == "dispatch_confindustria")
        (sheet,) = [p.get_payload(decode=True) for p in dispatch.message.iter_attachments()]
        assert isinstance(sheet, bytes)
        assert staying.code in _xlsx_text(sheet) and leaving.code not in _xlsx_text(sheet)
        cpia = next(m for m in sink.messages if m.kind == "cpia_enrolment_request")
        assert classmate.code in cpia.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    db.expire_all()
    release = db.exec(select(Outbox).where(Outbox.kind == "contact_release")).one()
    assert release.status is OutboxStatus.CANCELLED and release.sent_at is None
    actions = db.exec(select(AuditLog.case_code).where(AuditLog.action == "consent_withdrawn")).all()
    assert sorted(a or "" for a in actions) == sorted([leaving.code, learner.code, candidate.code])


def test_cpi_and_referrer_withdrawals(db: Session) -> None:
    case = make_case(db, state=State.INTAKE_SCHEDULED, consents=(P.CPI_PROCESSING, P.REFERRER_CONTACT), **TARAS)
    enqueue_email(
        db,
        key=f"case:{case.code}:interest:X:interested:referrer:CARITAS-BG",
        kind="interest_notice",
        recipient="caritas@example.org",
        recipient_code="CARITAS-BG",
        case_code=case.code,
        context={"case_code": case.code, "company_name": "X", "answer": "interested"},
    )
    db.commit()
    assert withdraw_consent(db, case.code, P.REFERRER_CONTACT).cancelled == 1
    result = withdraw_consent(db, case.code, P.CPI_PROCESSING)
    db.commit()
    assert result.cases_withdrawn == 1 and db.get(Case, case.id).state is State.WITHDRAWN  # type: ignore[union-attr]


def test_case_codes_are_checked_without_echoing_the_input(db: Session) -> None:
    with pytest.raises(PrivacyError) as bad:
        find_case(db, "Taras Shevchenko")
    assert "Taras" not in str(bad.value) and "BG-AAAA-NNNNNN" in str(bad.value)
    with pytest.raises(PrivacyError, match="non trovata"):
        find_case(db, "BG-2026-999999")


# --------------------------------------------------------------------------------------------
# Erasure and retention


def _setup_person_everywhere(db: Session) -> tuple[Case, Case]:
    """Taras: a dispatched case, a merged Cyrillic duplicate, emails about him (sent and pending),
    a rejected import row of his; plus another person whose data must stay."""
    taras = make_case(
        db, state=State.PROFILE_READY, consents=(P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA), profile={}, **TARAS
    )
    dispatch_profiles(db, batch_code="DSP-T-03", today=TODAY)
    other = make_case(
        db, state=State.INTEREST, family_name="Okafor", given_names="Chidi", email="chidi.okafor@posta.example"
    )
    dup_key = PersonKey()
    db.add(dup_key)
    db.flush()
    db.add(Person(key=dup_key.token, family_name="Шевченко", given_names="Тарас", birth_date=TARAS["birth_date"]))
    dup = Case(code="BG-2026-990001", person_key=dup_key.token, state=State.DUPLICATE, merged_into_id=taras.id)
    db.add(dup)
    db.add(Referral(person_key=dup_key.token, case_id=taras.id, referrer_code="ASSOC-PONTE-UCRAINA"))
    imp = ImportFile(sha256="f" * 64, kind="referral", sender_code="CARITAS-BG", filename="segnalazioni.csv")
    db.add(imp)
    db.flush()
    assert imp.id is not None
    raw = {"family_name": "SHEVCHENKO", "given_names": "Taras", "phone": "347 1234567", "birth_date": "09/03/1987"}
    errors = [{"column": "E-mail", "value": "taras.shev@", "reason": "indirizzo e-mail non valido"}]
    db.add(ImportRow(import_file_id=imp.id, row_number=7, raw=raw, errors=errors))
    enqueue_email(
        db,
        key=f"import:{imp.id}:errors",
        kind="import_errors",
        recipient="caritas@example.org",
        context={
            "file_name": imp.filename,
            "rows_total": 9,
            "rows": [{"row": 7, "column": "Cellulare", "value": "347 1234567", "reason": "x"}],
        },
    )
    for case, addr in ((taras, TARAS["email"]), (other, "chidi.okafor@posta.example")):
        enqueue_email(
            db,
            key=f"case:{case.code}:intake-scheduled:candidate",
            kind="intake_appointment_candidate",
            recipient=addr,
            case_code=case.code,
            person_key=case.person_key,
            context={
                "case_code": case.code,
                "office_name": "CPI di Bergamo",
                "office_address": "via Roma 1",
                "office_phone": "035 123456",
                "office_email": "cpi.bergamo@example.org",
                "appointment_at": datetime(2026, 6, 1, 9, 30),
            },
        )
    db.commit()
    db.execute(update(Outbox).where(col(Outbox.person_key) == taras.person_key).values(status=OutboxStatus.SENT))
    _interest(db, taras)
    grant_consent(db, taras.person_key, P.CONTACT_TO_COMPANY, recipient=COMPANY, source="test")
    db.commit()
    release_contacts(db)  # pending contact release with name, phone, email in the body
    db.commit()
    return taras, other


def test_erasure_removes_every_identifier_from_every_table_and_keeps_the_counts(db: Session) -> None:
    taras, _other = _setup_person_everywhere(db)
    people = db.exec(select(Person).where(col(Person.key).in_([taras.person_key, "x"]))).all()
    mine = [n for n in collect_identifiers(db) if n.person_id in {p.id for p in people} or "шевченко" in n.value]
    theirs = [n for n in collect_identifiers(db) if n.value in ("okafor", "chidi.okafor@posta.example")]
    assert len(theirs) == 2 and len(mine) > 15
    assert {h.where.split(":")[1].split("#")[0] for h in search(mine, app_db_rows(db))} >= {
        "person",
        "outbox",
        "import_row",
    }
    from models.accounts import CaseNote

    person = db.exec(select(Person).where(Person.key == taras.person_key)).one()
    assert taras.id is not None
    db.add(CaseNote(case_id=taras.id, author="a.locatelli", text=f"{person.family_name} chiede il turno del mattino"))
    db.commit()
    reached, cases = ever_reached(db), len(db.exec(select(Case)).all())
    events = len(db.exec(select(CaseEvent)).all())

    result = erase_person(db, taras.code, actor="operatore:test")
    db.commit()
    db.expire_all()

    assert search(mine, app_db_rows(db)) == []  # every text column of every table
    assert len(search(theirs, app_db_rows(db))) >= 2  # nobody else's data was touched
    assert result.case_codes == sorted([taras.code, "BG-2026-990001"]) or set(result.case_codes) == {
        taras.code,
        "BG-2026-990001",
    }
    assert result.blanked.people == 2 and result.blanked.cancelled == 1
    assert result.blanked.desk_rows == 1 and db.exec(select(CaseNote)).all() == []  # the desk's note went too
    after = ever_reached(db)
    assert {s: n for s, n in after.items() if s is not State.ERASED} == reached
    assert after[State.ERASED] == 2 and len(db.exec(select(Case)).all()) == cases
    assert len(db.exec(select(CaseEvent)).all()) == events + 2  # history kept, erasure appended
    key = db.get(PersonKey, taras.person_key)
    assert key is not None and key.erased_at is not None
    assert db.exec(select(Outbox).where(Outbox.kind == "contact_release")).one().status is OutboxStatus.CANCELLED
    assert len(db.exec(select(OutboxAttachment)).all()) == 1  # the pseudonymous sheet stays
    audit = db.exec(select(AuditLog.action).where(AuditLog.case_code == taras.code)).all()
    assert "erasure_request" in audit and "erasure" in audit
    again = erase_person(db, taras.code)
    db.commit()
    assert again.already_erased
    assert len(db.exec(select(AuditLog).where(AuditLog.action == "erasure_request")).all()) == 2


def test_retention_anonymises_only_long_closed_people_and_reports_do_not_move(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_closed = make_case(db, state=State.CLOSED, **TARAS)
    recent_closed = make_case(db, state=State.HIRED, family_name="Mensah", given_names="Kofi")
    old_open = make_case(db, state=State.POLICY, family_name="Haddad", given_names="Rania")
    long_ago = datetime.now(UTC) - timedelta(days=800)
    db.execute(update(Case).where(col(Case.id).in_([old_closed.id, old_open.id])).values(updated_at=long_ago))
    db.commit()
    before = funnel_rows(db)
    needles = [n for n in collect_identifiers(db) if n.person_id == _person(db, old_closed).id]

    monkeypatch.setenv("INCONTRO_RETENTION_DAYS", "730")
    assert retention_days() == 730
    result = anonymise_closed_cases(db, as_of=TODAY)
    db.commit()
    db.expire_all()
    assert result.case_codes == [old_closed.code]
    assert search(needles, app_db_rows(db)) == []
    assert _person(db, recent_closed).family_name == "Mensah" and _person(db, old_open).family_name == "Haddad"
    assert funnel_rows(db) == before
    assert anonymise_closed_cases(db, as_of=TODAY).case_codes == []  # done once

    monkeypatch.setenv("INCONTRO_RETENTION_DAYS", "due anni")
    with pytest.raises(PrivacyError, match="INCONTRO_RETENTION_DAYS"):
        retention_days()


# --------------------------------------------------------------------------------------------
# Access and rectification


def test_access_export_writes_json_and_readable_html(db: Session, tmp_path: Path) -> None:
    case = make_case(
        db,
        state=State.PROFILE_READY,
        consents=(P.CPI_PROCESSING, P.PROFILE_TO_CONFINDUSTRIA),
        profile={},
        **{**TARAS, "family_name": "Shevchenko <b>"},
    )
    result = access_export(db, case.code, actor="operatore:test")
    db.commit()
    data = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert data["persona"][0]["native_family_name"] == "Шевченко"
    assert data["persona"][0]["codice_fiscale"] == TARAS["codice_fiscale"]
    assert {c["purpose"] for c in data["consensi"]} == {"cpi_processing", "profile_to_confindustria"}
    assert data["pratiche"][0]["code"] == case.code and data["profili"][0]["occupations"] == ["7212"]
    page = result.html_path.read_text(encoding="utf-8")
    assert "Shevchenko &lt;b&gt;" in page and "<b>" not in page and "Consensi" in page and "Шевченко" in page
    assert result.json_path.parent == get_settings().var_dir / "private" / "exports"
    assert db.exec(select(AuditLog).where(AuditLog.action == "access_export")).one().case_code == case.code


def test_rectification_checks_every_field_before_changing_anything(db: Session) -> None:
    case = make_case(db, **TARAS)
    with pytest.raises(PrivacyError) as bad:
        rectify_person(db, case.code, {"phone": "12", "codice_fiscale": "ABC", "shoe_size": 44, "email": "x@"})
    text = str(bad.value)
    assert "telefono" in text and "codice fiscale" in text and "shoe_size" in text and "e-mail" in text
    assert "ABC" not in text and "x@" not in text and "nulla è stato modificato" in text
    db.rollback()
    assert _person(db, case).phone == TARAS["phone"]

    changed = rectify_person(
        db, case.code, {"phone": "0039 333 765 4321", "given_names": "Тарас  Григорович", "birth_date": "10/03/1987"}
    )
    db.commit()
    person = _person(db, case)
    assert sorted(changed) == ["birth_date", "given_names", "phone"]
    assert person.phone == "+393337654321" and person.birth_date == date(1987, 3, 10)
    assert person.name_norm == "shevchenko taras hryhorovych"
    assert db.exec(select(AuditLog).where(AuditLog.action == "rectification")).one().case_code == case.code
    erase_person(db, case.code)
    db.commit()
    with pytest.raises(PrivacyError, match="cancellati"):
        rectify_person(db, case.code, {"phone": "3337654321"})


# --------------------------------------------------------------------------------------------
# Secrets and access


@pytest.mark.parametrize("placeholder", ["", "change-me", "CHANGEME", " secret ", "demo", None])
def test_production_refuses_placeholder_secrets(placeholder: str | None) -> None:
    good = "k3V9-real-secret-from-a-file-of-32-chars+"
    secrets = ("portal_secret", "prefect_auth_string", "desk_secret_key")
    for field in secrets:
        values: dict[str, Any] = {"environment": "production", **dict.fromkeys(secrets, good)}
        if placeholder is None:  # not set at all: the default (none, or the desk's development key)
            del values[field]
        else:
            values[field] = placeholder
        with pytest.raises(ValidationError, match=f"INCONTRO_{field.upper()}"):
            Settings(**values)
    assert Settings(environment="production", **dict.fromkeys(secrets, good)).environment == "production"


def test_serve_mode_passes_the_auth_string_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from deploy.stack import stack_env

    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    env = stack_env(tmp_path, 4201, 8026)
    assert "PREFECT_SERVER_API_AUTH_STRING" not in env
    monkeypatch.setenv("INCONTRO_PREFECT_AUTH_STRING", "operatori:k3V9-real")
    get_settings.cache_clear()
    env = stack_env(tmp_path, 4201, 8026)
    assert env["PREFECT_SERVER_API_AUTH_STRING"] == env["PREFECT_API_AUTH_STRING"] == "operatori:k3V9-real"


def test_no_secret_file_is_committed() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    names = {Path(line).name for line in tracked.splitlines()}
    assert ".env" not in names and not any(n.endswith((".pem", ".key")) for n in names)
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()


# --------------------------------------------------------------------------------------------
# The scanner finds what it must (so that zero hits means something)


def test_scanner_finds_identifiers_however_prefect_stores_them(db: Session, tmp_path: Path) -> None:
    case = make_case(db, **TARAS)
    needles = collect_identifiers(db)
    assert {n.kind for n in needles} == {"name", "birth_date", "codice_fiscale", "phone", "email"}
    assert {"шевченко", "тарас", "shevchenko", "09/03/1987", "1987-03-09", "+393471234567", "347 123 4567"} <= {
        n.value for n in needles
    }
    home = tmp_path / "prefect"
    (home / "storage").mkdir(parents=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    clean = scan(needles, prefect_home=home, log_dir=logs)
    assert clean.hits == []

    conn = sqlite3.connect(home / "prefect.db")
    conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, message TEXT)")
    conn.execute("CREATE TABLE flow_run (id INTEGER PRIMARY KEY, parameters TEXT, name TEXT)")
    conn.execute("INSERT INTO log (message) VALUES (?)", (f"pratica {case.code} ok",))
    conn.execute(
        "INSERT INTO flow_run (parameters, name) VALUES (?, ?)", (json.dumps({"who": "Шевченко"}), "brave-otter")
    )
    conn.commit()
    conn.close()
    (home / "storage" / "a1").write_bytes(base64.b64encode(pickle.dumps({"born": TARAS["birth_date"]})))
    (logs / "serve.log").write_text("12:00 | INFO | chiamare il 347 123 4567\n", encoding="utf-8")
    (logs / "app.log").write_text(f"IntegrityError: {TARAS['email']}\n", encoding="utf-8")  # private by design

    report = scan(needles, prefect_home=home, log_dir=logs)
    found = {
        (h.needle.kind, h.where.split("#")[0].split(":")[0 if h.where.startswith("logs") else 1]) for h in report.hits
    }
    assert ("name", "flow_run") in found  # JSON-escaped Cyrillic
    assert ("birth_date", "a1") in found  # pickled date object in result storage
    assert any(h.needle.kind == "phone" and h.where.startswith("logs/serve.log") for h in report.hits)
    assert not any("app.log" in h.where or h.needle.kind == "email" for h in report.hits)
    assert "shevchenko" not in report.summary().casefold()  # the report names kinds and places only
    assert isinstance(report.hits[0].needle, Needle)
    assert identifier_strings(_person(db, case), strong_only=True)


def test_a_made_up_run_name_that_is_also_a_name_is_no_hit(db: Session, tmp_path: Path) -> None:
    """Prefect names runs with coolname's words ("precious-kagu"); a person called Precious is not
    in such a name, wherever it is repeated (logs, events). A run name carrying a surname is."""
    make_case(db, given_names="Precious", family_name="Nwosu")
    needles = collect_identifiers(db)
    home = tmp_path / "prefect"
    home.mkdir()
    conn = sqlite3.connect(home / "prefect.db")
    conn.execute("CREATE TABLE flow_run (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, message TEXT)")
    conn.execute("INSERT INTO flow_run (name) VALUES ('precious-kagu')")
    conn.execute("INSERT INTO log (message) VALUES ('Flow run ''precious-kagu'' - Finished in state Completed()')")
    conn.commit()
    assert scan(needles, prefect_home=home).hits == []
    conn.execute("INSERT INTO flow_run (name) VALUES ('precious-nwosu')")
    conn.commit()
    conn.close()
    assert {h.where for h in scan(needles, prefect_home=home).hits} == {"prefect.db:flow_run#1"}
