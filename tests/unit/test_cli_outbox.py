"""``incontro outbox``: list, show and resend failed emails without personal data in the terminal,
with the same Message-ID as the first attempt and an audit row per resend (docs/ARCHITECTURE.md#mail).

Real parts: the migrated SQLite app database, the aiosmtpd sink, the real drain and the CLI's
``main``; the terminal output is what ``capsys`` captured.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cli.main import main
from models.enums import OutboxStatus
from models.ops import AuditLog, Outbox
from tasks.mail.message import format_address
from tasks.mail.outbox import enqueue_email
from tasks.mail.smtp_sink import MailSink
from tests.conftest import smtp_settings
from tests.factories import drain, seed_partners

NAME = "Olena Kovalenko"
ADDRESS = "olena.kovalenko@example.org"
CASE = "BG-2026-000777"
KEY = f"case:{CASE}:intake-scheduled:candidate"
KIND = "intake_appointment_candidate"


def _enqueue(engine: Engine, key: str = KEY, case: str = CASE, address: str = ADDRESS) -> int:
    with Session(engine) as session:
        row = enqueue_email(
            session,
            key=key,
            kind=KIND,
            recipient=format_address(NAME, address),
            case_code=case,
            context={
                "case_code": case,
                "office_name": "CPI Bergamo",
                "office_address": "Via Camozzi 95, Bergamo",
                "appointment_at": datetime(2026, 12, 3, 9, 30),
            },
        )
        assert row is not None and row.id is not None
        session.commit()
        return row.id


def _row(engine: Engine, row_id: int) -> Outbox:
    with Session(engine) as session:
        row = session.get(Outbox, row_id)
        assert row is not None
        return row


def _assert_no_personal_data(text: str) -> None:
    lowered = text.lower()
    for secret in (ADDRESS, "kovalenko", "olena", "example.org"):
        assert secret not in lowered, f"{secret!r} printed in the terminal:\n{text}"


@pytest.fixture
def db(engine: Engine) -> Engine:
    with Session(engine) as session:
        seed_partners(session)
    return engine


def test_resend_of_an_uncertain_email_keeps_its_message_id_and_is_audited(
    db: Engine, sink: MailSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row_id = _enqueue(db)
    sink.drop_after_data(1, stored=True)  # the relay kept it, then lost the line: uncertain
    report = drain(db, smtp_settings(sink.port, tmp_path), alert_targets=None)
    assert report.uncertain == 1
    (first,) = [m for m in sink.messages if m.key == KEY]
    first_id = first.message["Message-ID"]
    assert _row(db, row_id).failure == "uncertain"

    assert main(["outbox", "list", "--state", "failed"]) == 0
    listed = capsys.readouterr().out
    assert f"{row_id:>5} " in listed and CASE in listed and KIND in listed
    assert "non riuscita" in listed and "esito incerto" in listed and "persona" in listed
    _assert_no_personal_data(listed)
    assert main(["outbox", "show", str(row_id)]) == 0
    shown = capsys.readouterr().out
    assert CASE in shown and first_id in shown and f"incontro outbox resend {row_id}" in shown
    _assert_no_personal_data(shown)

    assert main(["outbox", "resend", str(row_id), "--actor", "coord.bianchi"]) == 0
    out = capsys.readouterr().out
    assert "1 email rimesse in coda" in out and "stesso Message-ID" in out
    _assert_no_personal_data(out)
    row = _row(db, row_id)
    assert (row.status, row.attempts, row.failure, row.alerted_at) == (OutboxStatus.PENDING, 0, None, None)
    with Session(db) as session:
        (audit,) = session.exec(select(AuditLog).where(AuditLog.action == "outbox_resend")).all()
    assert (audit.actor, audit.case_code) == ("coord.bianchi", CASE)
    assert str(row_id) in audit.purpose

    # The sender's domain changed meanwhile: the Message-ID of the resend must not.
    moved = smtp_settings(sink.port, tmp_path, mail_from="Incontro <noreply@nuovo.provincia.bergamo.example>")
    assert drain(db, moved, alert_targets=None).sent == 1
    second = [m for m in sink.messages if m.key == KEY][-1]
    assert sink.count_for(KEY) == 2  # on purpose: the receiver drops the copy by its Message-ID
    assert second.message["Message-ID"] == first_id
    assert _row(db, row_id).status == OutboxStatus.SENT


def test_show_strips_addresses_and_names_from_the_server_reply(
    db: Engine, sink: MailSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row_id = _enqueue(db)
    sink.reject_recipient(ADDRESS, code=550, message=f"5.1.1 <{ADDRESS}>: {NAME} unknown here")
    assert drain(db, smtp_settings(sink.port, tmp_path), alert_targets=None).failed == 1
    assert ADDRESS in (_row(db, row_id).last_error or "")  # the database keeps the full reply
    assert main(["outbox", "show", str(row_id)]) == 0
    shown = capsys.readouterr().out
    assert "550 5.1.1" in shown and "rifiutata dal server" in shown
    _assert_no_personal_data(shown)
    assert main(["outbox", "list"]) == 0
    _assert_no_personal_data(capsys.readouterr().out)


def test_resend_by_kind_requeues_every_failed_email_of_that_kind(
    db: Engine, sink: MailSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [_enqueue(db, key=f"k{i}", case=f"BG-2026-00080{i}", address=f"p{i}@example.org") for i in range(3)]
    sink.reject_recipient("p0@example.org", code=550)
    sink.reject_recipient("p2@example.org", code=550)
    assert drain(db, smtp_settings(sink.port, tmp_path), alert_targets=None).failed == 2
    sink.reset()
    assert main(["outbox", "resend", "--kind", KIND, "--actor", "coord.bianchi"]) == 0
    assert "2 email rimesse in coda" in capsys.readouterr().out
    assert [_row(db, i).status for i in ids] == [OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.PENDING]
    with Session(db) as session:
        audited = session.exec(select(AuditLog.case_code).order_by(col(AuditLog.id))).all()
    assert audited == ["BG-2026-000800", "BG-2026-000802"]
    assert drain(db, smtp_settings(sink.port, tmp_path), alert_targets=None).sent == 2
    assert sink.per_key == {"k0": 1, "k2": 1}


def test_resend_refuses_what_cannot_be_resent_and_changes_nothing(
    db: Engine, sink: MailSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sent_id = _enqueue(db, key="k-sent")
    failed_id = _enqueue(db, key="k-failed", address="gone@example.org")
    sink.reject_recipient("gone@example.org", code=550)
    drain(db, smtp_settings(sink.port, tmp_path), alert_targets=None)
    assert main(["outbox", "resend", str(failed_id), str(sent_id), "9999"]) == 2
    err = capsys.readouterr().err
    assert f"email {sent_id}: già inviata" in err and "email 9999: inesistente" in err
    assert _row(db, failed_id).status == OutboxStatus.FAILED  # all or nothing
    with Session(db) as session:
        assert session.exec(select(AuditLog)).all() == []
    assert main(["outbox", "resend"]) == 2
    assert "indicare" in capsys.readouterr().err
    assert main(["outbox", "list", "--state", "bogus"]) == 2
    assert "stato sconosciuto" in capsys.readouterr().err
    assert main(["outbox", "resend", "--kind", "nope"]) == 2
    assert "tipo sconosciuto" in capsys.readouterr().err
