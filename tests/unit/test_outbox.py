"""Outbox enqueue and drain against a real aiosmtpd server on 127.0.0.1 (no SMTP mocks)."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import re
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

import models.tables  # noqa: F401  (registers every table on the metadata)
from config.settings import Settings
from models.clock import utcnow
from models.enums import ConsentPurpose, OutboxStatus
from models.ops import MailRelay, Outbox, OutboxAttachment
from models.people import Organisation
from tasks.files.sheets import profiles_xlsx
from tasks.mail.drain import DrainReport, backoff_delay, drain_outbox
from tasks.mail.message import MailAttachment, format_address
from tasks.mail.outage import relay_name
from tasks.mail.outbox import EmailSpec, cancel_pending, enqueue_email, enqueue_emails
from tasks.mail.smtp_sink import MailSink, free_port
from tasks.runtime.db import make_engine, migrate
from tests.conftest import smtp_settings
from tests.factories import drain, make_case, make_due, seed_partners

WHEN = datetime(2026, 11, 30, 9, 45)


def appointment_context(code: str) -> dict[str, Any]:
    return {
        "case_code": code,
        "office_name": "CPI Bergamo",
        "office_address": "Via Camozzi 95, Bergamo",
        "appointment_at": WHEN,
    }


@pytest.fixture
def engine() -> Iterator[Engine]:
    eng = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(sink: MailSink, tmp_path: Path) -> Settings:
    return smtp_settings(sink.port, tmp_path)


def enqueue_appointments(engine: Engine, n: int, **extra: Any) -> list[str]:
    keys = []
    with Session(engine) as session:
        for i in range(n):
            code = f"BG-2026-{i + 1:06d}"
            key = f"case:{code}:intake-scheduled:candidate"
            row = enqueue_email(
                session,
                key=key,
                kind="intake_appointment_candidate",
                recipient=f"person{i}@example.org",
                context=appointment_context(code),
                case_code=code,
                **extra,
            )
            assert row is not None
            keys.append(key)
        session.commit()
    return keys


def rows(engine: Engine) -> dict[str, Outbox]:
    with Session(engine) as session:
        return {r.key: r for r in session.exec(select(Outbox)).all()}


def raw_header(raw: bytes, name: str) -> str:
    """A header exactly as transmitted, unfolded (RFC 5322 section 2.2.3), still encoded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    for line in re.sub(r"\r\n[ \t]", " ", head).split("\r\n"):
        if line.lower().startswith(name.lower() + ": "):
            return line.split(": ", 1)[1]
    raise KeyError(name)


# ---------------------------------------------------------------------------------- enqueue


def test_enqueue_twice_with_the_same_key_gives_one_row(engine: Engine) -> None:
    with Session(engine) as session:
        first = enqueue_email(
            session,
            key="k1",
            kind="failure_alert",
            recipient="coord@example.org",
            context={"flow_name": "f", "run_id": "r", "error_summary": "e"},
        )
        again_uncommitted = enqueue_email(
            session,
            key="k1",
            kind="failure_alert",
            recipient="coord@example.org",
            context={"flow_name": "f", "run_id": "r", "error_summary": "e"},
        )
        session.commit()
    assert first is not None and again_uncommitted is None
    with Session(engine) as session:
        again = enqueue_email(
            session,
            key="k1",
            kind="failure_alert",
            recipient="other@example.org",
            context={"flow_name": "f", "run_id": "r", "error_summary": "e"},
        )
        session.commit()
    assert again is None
    assert len(rows(engine)) == 1


def test_enqueue_is_part_of_the_callers_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        row = enqueue_email(
            session,
            key="k-rollback",
            kind="failure_alert",
            recipient="coord@example.org",
            context={"flow_name": "f", "run_id": "r", "error_summary": "e"},
            attachments=[MailAttachment("a.txt", "text/plain", b"x")],
        )
        assert row is not None and row.id is not None
        session.rollback()
    assert rows(engine) == {}
    with Session(engine) as session:
        assert session.exec(select(OutboxAttachment)).all() == []


def test_enqueue_validates_context_and_address(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(ValueError, match=r"failure_alert.*error_summary"):
            enqueue_email(
                session,
                key="k",
                kind="failure_alert",
                recipient="a@example.org",
                context={"flow_name": "f", "run_id": "r"},
            )
        with pytest.raises(ValueError):
            enqueue_email(
                session,
                key="k",
                kind="failure_alert",
                recipient="nobody",
                context={"flow_name": "f", "run_id": "r", "error_summary": "e"},
            )


def test_cancel_pending(engine: Engine) -> None:
    with Session(engine) as session:
        for i, purpose in enumerate([ConsentPurpose.CONTACT_TO_COMPANY, None, ConsentPurpose.CONTACT_TO_COMPANY]):
            enqueue_email(
                session,
                key=f"c{i}",
                kind="interest_notice",
                recipient="cpi@example.org",
                context={"case_code": "BG-2026-000001", "company_name": "ACME", "answer": "no"},
                person_key="pk1" if i < 2 else "pk2",
                consent_purpose=purpose,
            )
        session.commit()
        assert cancel_pending(session, person_key="pk1", consent_purpose=ConsentPurpose.CONTACT_TO_COMPANY) == 1
        assert cancel_pending(session, person_key="pk1") == 1
        session.commit()
    state = {k: r.status for k, r in rows(engine).items()}
    assert state == {"c0": OutboxStatus.CANCELLED, "c1": OutboxStatus.CANCELLED, "c2": OutboxStatus.PENDING}


# ---------------------------------------------------------------------------------- drain


def test_drain_sends_each_row_once_over_one_connection(engine: Engine, sink: MailSink, settings: Settings) -> None:
    keys = enqueue_appointments(engine, 5)
    report = drain(engine, settings)
    assert report == DrainReport(sent=5)
    assert len(sink.messages) == 5
    assert sink.per_key == dict.fromkeys(keys, 1)
    assert sink.connections == 1
    stored = rows(engine)
    for key in keys:
        row = stored[key]
        assert row.status == OutboxStatus.SENT and row.sent_at is not None
        assert row.server_reply and "queued" in row.server_reply
        assert row.message_id and row.message_id.startswith("<")
    received = {m.key: m for m in sink.messages}
    assert received[keys[0]].message["Message-ID"] == stored[keys[0]].message_id
    assert received[keys[0]].rcpt_tos == ("person0@example.org",)
    files = sorted((sink.directory or Path()).glob("*.eml"))
    assert len(files) == 5 and all(f.name.endswith("-intake_appointment_candidate.eml") for f in files)
    # a second drain (rerun) sends nothing more
    assert drain(engine, settings) == DrainReport()
    assert len(sink.messages) == 5


def test_transient_451_is_retried_then_sent_once(engine: Engine, sink: MailSink, settings: Settings) -> None:
    (key,) = enqueue_appointments(engine, 1)
    sink.fail_next(1, code=451)
    before = utcnow()
    report = drain(engine, settings)
    assert report.retried == 1 and report.sent == 0
    row = rows(engine)[key]
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at > before + timedelta(seconds=14)
    assert row.last_error and row.last_error.startswith("451")
    assert drain(engine, settings) == DrainReport()  # not due yet
    make_due(engine)
    assert drain(engine, settings).sent == 1
    assert sink.count_for(key) == 1
    assert rows(engine)[key].status == OutboxStatus.SENT


def test_permanent_550_fails_only_that_row(engine: Engine, sink: MailSink, settings: Settings) -> None:
    keys = enqueue_appointments(engine, 3)
    sink.reject_recipient("person1@example.org", code=550)
    report = drain(engine, settings)
    assert (report.sent, report.failed, report.failed_keys) == (2, 1, [keys[1]])
    stored = rows(engine)
    assert stored[keys[1]].status == OutboxStatus.FAILED
    error = stored[keys[1]].last_error
    assert error is not None and "550" in error and stored[keys[1]].failure == "permanent"
    assert stored[keys[0]].status == stored[keys[2]].status == OutboxStatus.SENT
    assert sink.per_key == {keys[0]: 1, keys[2]: 1}
    assert sink.connections == 1


def relay(engine: Engine, settings: Settings) -> MailRelay | None:
    with Session(engine) as session:
        return session.get(MailRelay, relay_name(settings))


def test_server_down_waits_without_counting_and_loses_nothing(engine: Engine, tmp_path: Path) -> None:
    port = free_port()
    settings = smtp_settings(port, tmp_path, outbox_max_attempts=5)
    keys = enqueue_appointments(engine, 3)
    due = {k: r.next_attempt_at for k, r in rows(engine).items()}
    with time_machine.travel(utcnow(), tick=True) as clock:
        report = drain(engine, settings)
        assert report == DrainReport(deferred=3)
        assert {k: (r.status, r.attempts, r.next_attempt_at) for k, r in rows(engine).items()} == {
            k: (OutboxStatus.PENDING, 0, due[k]) for k in keys
        }
        down = relay(engine, settings)
        assert down is not None and down.down_since is not None and down.failed_probes == 1
        assert down.last_error and "Connect" in down.last_error
        with MailSink(tmp_path / "mail", port=port) as sink:
            # The whole drain backs off: before the next probe nobody connects, even to a live relay.
            assert drain(engine, settings) == DrainReport(deferred=3)
            assert sink.connections == 0
            clock.shift(timedelta(minutes=11))
            assert drain(engine, settings).sent == 3
            assert sink.per_key == dict.fromkeys(keys, 1)
    up = relay(engine, settings)
    assert up is not None and up.down_since is None and up.failed_probes == 0


def test_a_probe_ends_an_outage_even_with_nothing_to_send(engine: Engine, tmp_path: Path) -> None:
    port = free_port()
    settings = smtp_settings(port, tmp_path)
    enqueue_appointments(engine, 1)
    with time_machine.travel(utcnow(), tick=True) as clock:
        drain(engine, settings)
        with Session(engine) as session:  # the row went some other way (cancelled): nothing due
            session.execute(update(Outbox).values(status=OutboxStatus.CANCELLED))
            session.commit()
        with MailSink(tmp_path / "mail", port=port) as sink:
            clock.shift(timedelta(minutes=11))
            assert drain(engine, settings) == DrainReport()
            assert sink.connections == 1
    up = relay(engine, settings)
    assert up is not None and up.down_since is None


def test_gives_up_after_max_attempts_of_temporary_replies(engine: Engine, sink: MailSink, tmp_path: Path) -> None:
    settings = smtp_settings(sink.port, tmp_path, outbox_max_attempts=2)
    (key,) = enqueue_appointments(engine, 1)
    sink.reject_recipient("person0@example.org", code=451)
    assert drain(engine, settings).retried == 1
    make_due(engine)
    report = drain(engine, settings)
    assert report.failed == 1 and report.failed_keys == [key]
    row = rows(engine)[key]
    assert row.status == OutboxStatus.FAILED and row.attempts == 2 and row.failure == "gave_up"


def test_connection_lost_during_data_is_not_resent(engine: Engine, sink: MailSink, settings: Settings) -> None:
    """The server may have queued it: failed as uncertain (alerted), never sent a second time."""
    keys = enqueue_appointments(engine, 3)
    sink.drop_after_data(1, stored=True)
    report = drain(engine, settings)
    assert (report.sent, report.failed, report.uncertain, report.retried) == (2, 1, 1, 0)
    assert sink.connections == 2  # reconnected once for the rest of the batch
    stored = rows(engine)
    assert stored[keys[0]].status == OutboxStatus.FAILED and stored[keys[0]].failure == "uncertain"
    assert stored[keys[0]].attempts == 1
    make_due(engine)
    assert drain(engine, settings) == DrainReport()
    assert sink.per_key == dict.fromkeys(keys, 1)


def test_reply_to_defaults_to_the_case_office(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        seed_partners(session)
        case = make_case(session, office="CPI-BG")
        office = session.get(Organisation, "CPI-BG")
        assert office is not None
        enqueue_email(
            session,
            key="dup",
            kind="duplicate_notice",
            recipient="caritas@example.org",
            case_code=case.code,
            context={"case_code": case.code, "existing_office": office.name},
        )
        enqueue_email(
            session,
            key="to-office",
            kind="interest_notice",
            recipient=office.email,
            case_code=case.code,
            context={"case_code": case.code, "company_name": "ACME", "answer": "interested"},
        )
        session.commit()
    stored = rows(engine)
    reply_to = stored["dup"].reply_to
    assert reply_to is not None and office.email in reply_to
    assert stored["to-office"].reply_to is None  # no Reply-To pointing at the recipient itself


def test_two_drains_at_once_send_each_row_once(sink: MailSink, tmp_path: Path) -> None:
    """Claims are conditional updates: concurrent drains split the batch, never share a row."""
    url = f"sqlite:///{tmp_path / 'concurrent.db'}"
    migrate(url)
    file_engine = make_engine(url)
    try:
        keys = enqueue_appointments(file_engine, 12)
        settings = smtp_settings(sink.port, tmp_path)

        async def both() -> list[DrainReport]:
            return list(
                await asyncio.gather(
                    drain_outbox(file_engine, settings=settings), drain_outbox(file_engine, settings=settings)
                )
            )

        reports = asyncio.run(both())
        assert sum(r.sent for r in reports) == 12
        assert sink.per_key == dict.fromkeys(keys, 1)
        assert {r.status for r in rows(file_engine).values()} == {OutboxStatus.SENT}
    finally:
        file_engine.dispose()


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the PEM the client must trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


@pytest.mark.parametrize("mode", ["starttls", "implicit_tls"])
def test_tls_and_credentials_come_from_settings(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    server_ctx, cert = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client verifies against the system store
    tls = {"starttls": server_ctx} if mode == "starttls" else {"implicit_tls": server_ctx}
    with MailSink(tmp_path / "mail", credentials=("incontro", "s3gret0"), **tls) as sink:  # type: ignore[arg-type]
        keys = enqueue_appointments(engine, 2)
        flags = {"smtp_starttls": mode == "starttls", "smtp_use_tls": mode == "implicit_tls"}
        wrong = smtp_settings(sink.port, tmp_path, smtp_username="incontro", smtp_password="nope", **flags)
        with time_machine.travel(utcnow(), tick=True) as clock:
            assert drain(engine, wrong).deferred == 2  # refused login: nothing sent, nothing lost or counted
            assert sink.handler.login_failures >= 1 and sink.messages == []
            if mode == "starttls":
                plain = smtp_settings(sink.port, tmp_path, smtp_username="incontro", smtp_password="s3gret0")
                clock.shift(timedelta(minutes=11))  # past the relay's backoff
                assert drain(engine, plain).deferred == 2  # no TLS where the server demands it: refused too
            good = smtp_settings(sink.port, tmp_path, smtp_username="incontro", smtp_password="s3gret0", **flags)
            clock.shift(timedelta(minutes=11))
            assert drain(engine, good).sent == 2
        assert {r.attempts for r in rows(engine).values()} == {1}
        assert sink.handler.logins == 1
        assert sink.per_key == dict.fromkeys(keys, 1)


def test_consent_is_rechecked_before_sending(engine: Engine, sink: MailSink, settings: Settings) -> None:
    with Session(engine) as session:
        for name, pk in (("ok", "pk-ok"), ("withdrawn", "pk-no")):
            enqueue_email(
                session,
                key=f"release:{name}",
                kind="contact_release",
                recipient="hr@acme.example",
                context={"case_code": "BG-2026-000001", "candidate": {"name": "Olena", "phone": "+39 3"}},
                person_key=pk,
                consent_purpose=ConsentPurpose.CONTACT_TO_COMPANY,
            )
        session.commit()
    # without a hook, consent-bound rows are not even picked up
    assert drain(engine, settings) == DrainReport()
    assert len(sink.messages) == 0
    seen: list[str] = []

    def consent_ok(session: Session, row: Outbox) -> bool:
        seen.append(row.consent_purpose or "")
        return row.person_key == "pk-ok"

    report = drain(engine, settings, consent_ok=consent_ok)
    assert (report.sent, report.cancelled) == (1, 1)
    assert seen == ["contact_to_company", "contact_to_company"]
    assert rows(engine)["release:withdrawn"].status == OutboxStatus.CANCELLED
    assert sink.per_key == {"release:ok": 1}


def test_cyrillic_name_round_trips_through_the_server(engine: Engine, sink: MailSink, settings: Settings) -> None:
    with Session(engine) as session:
        enqueue_email(
            session,
            key="cyr",
            kind="intake_appointment_candidate",
            language="uk",
            recipient=format_address("Олена Коваленко", "olena@example.org"),
            reply_to=format_address("Центр зайнятості Бергамо", "cpi@example.org"),
            context={**appointment_context("BG-2026-000009"), "candidate_name": "Олена"},
        )
        session.commit()
    assert drain(engine, settings).sent == 1
    (received,) = sink.messages
    msg = received.message
    assert msg["To"].addresses[0].display_name == "Олена Коваленко"
    assert msg["To"].addresses[0].addr_spec == "olena@example.org"
    # Long names are folded into several RFC 2047 words; the stdlib's modern address parser keeps
    # the fold's space inside the phrase, so check with the RFC decoder (which drops it).
    raw_reply_to = raw_header(received.raw, "Reply-To")
    assert raw_reply_to.startswith("=?utf-8?")
    decoded = str(make_header(decode_header(raw_reply_to)))
    assert decoded.startswith("Центр зайнятості Бергамо")
    assert msg["Subject"].startswith("Ваша зустріч у Центрі зайнятості")
    header_block = received.raw.split(b"\r\n\r\n", 1)[0]
    header_block.decode("ascii")  # headers travel RFC 2047-encoded
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and "понеділок, 30 листопада 2026\u202fр., о 09:45" in body.get_content()


def test_header_injection_through_the_server(engine: Engine, sink: MailSink, settings: Settings) -> None:
    evil = "Anna\r\nBcc: x@example.org<script>"
    with Session(engine) as session:
        enqueue_email(
            session,
            key="evil",
            kind="contact_release",
            recipient=format_address(evil, "hr@acme.example"),
            context={"case_code": "BG-2026-000001", "candidate": {"name": evil}},
        )
        session.commit()
    assert drain(engine, settings).sent == 1
    (received,) = sink.messages
    assert received.rcpt_tos == ("hr@acme.example",)
    assert received.message["Bcc"] is None
    header_block = received.raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", header_block), "no Bcc header line was injected"
    assert received.message["To"].addresses[0].addr_spec == "hr@acme.example"
    assert received.message["To"].addresses[0].display_name == "Anna Bcc: x@example.org<script>"
    html = received.message.get_body(preferencelist=("html",))
    assert html is not None and "&lt;script&gt;" in html.get_content() and "<script>" not in html.get_content()


def test_xlsx_attachment_arrives_intact(engine: Engine, sink: MailSink, settings: Settings) -> None:
    profiles = [
        {
            "profile_code": "P-1",
            "occupations": ["Saldatore"],
            "italian": "A2",
            "licence": "=cmd",
            "education": "Diploma",
            "availability": ["full_time"],
            "area": "Bergamo",
        }
    ]
    xlsx = profiles_xlsx(profiles, title="DSP-2026-0001")
    with Session(engine) as session:
        enqueue_email(
            session,
            key="batch:DSP-2026-0001",
            kind="dispatch_confindustria",
            recipient="lavoro@confindustria.example",
            context={"batch_code": "DSP-2026-0001", "profiles": profiles},
            attachments=[
                MailAttachment(
                    "DSP-2026-0001.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx
                )
            ],
        )
        session.commit()
    assert drain(engine, settings).sent == 1
    (received,) = sink.messages
    (attachment,) = list(received.message.iter_attachments())
    assert attachment.get_filename() == "DSP-2026-0001.xlsx"
    data = attachment.get_content()
    assert data == xlsx
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["D2"].value == "'=cmd"


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert backoff_delay(1, rng=lambda: 0.0) == timedelta(seconds=15)
    assert backoff_delay(1, rng=lambda: 1.0) == timedelta(seconds=30)
    assert backoff_delay(3, rng=lambda: 1.0) == timedelta(seconds=120)
    assert backoff_delay(30, rng=lambda: 1.0) == timedelta(hours=1)
    assert timedelta(minutes=30) <= backoff_delay(30) <= timedelta(hours=1)


def test_enqueue_emails_adds_a_batch_once_and_skips_known_keys(engine: Engine) -> None:
    context = {"flow_name": "f", "run_id": "r", "error_summary": "e"}
    specs = [
        EmailSpec(key=f"bulk:{n}", kind="failure_alert", recipient=f"c{n}@example.org", context=context)
        for n in range(3)
    ]
    with Session(engine) as session:
        enqueue_email(session, key="bulk:0", kind="failure_alert", recipient="c0@example.org", context=context)
        session.commit()
    with Session(engine) as session:
        assert enqueue_emails(session, [*specs, specs[1]]) == 2  # bulk:0 exists; bulk:1 asked twice
        session.rollback()  # part of the caller's transaction: a rollback leaves nothing
    assert sorted(rows(engine)) == ["bulk:0"]
    with Session(engine) as session:
        assert enqueue_emails(session, specs) == 2
        session.commit()
    with Session(engine) as session:
        assert enqueue_emails(session, specs) == 0  # a rerun adds nothing
        session.commit()
    stored = rows(engine)
    assert sorted(stored) == ["bulk:0", "bulk:1", "bulk:2"]
    assert stored["bulk:2"].status is OutboxStatus.PENDING and stored["bulk:2"].recipient == "c2@example.org"
    assert stored["bulk:2"].subject and stored["bulk:2"].body_html


def test_enqueue_emails_checks_every_address_before_adding_anything(engine: Engine) -> None:
    context = {"flow_name": "f", "run_id": "r", "error_summary": "e"}
    specs = [
        EmailSpec(key="good", kind="failure_alert", recipient="c@example.org", context=context),
        EmailSpec(key="bad", kind="failure_alert", recipient="not an address", context=context),
    ]
    with Session(engine) as session, pytest.raises(ValueError, match="email address"):
        enqueue_emails(session, specs)
    assert rows(engine) == {}
