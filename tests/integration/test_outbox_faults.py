"""The outbox under SMTP faults, against a real aiosmtpd on 127.0.0.1 and the migrated SQLite DB.

For each fault the sink counts messages per idempotency key (``X-Incontro-Key``) and the test
accounts for every row: sent rows arrived exactly once, failed rows were reported to the
coordinators by an alert that itself arrived exactly once, nothing stays pending or in flight,
and no key ever arrived twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import PROJECT_ROOT, Settings
from models.clock import utcnow
from models.enums import OutboxStatus
from models.ops import MailRelay, Outbox
from tasks.mail.drain import DrainReport
from tasks.mail.message import format_address
from tasks.mail.outage import relay_name
from tasks.mail.outbox import enqueue_email
from tasks.mail.smtp_sink import MailSink, free_port
from tests.conftest import smtp_settings
from tests.factories import drain, make_due, seed_partners

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 11, 30, 9, 45)
COORDINATOR = "coordinamento.incontro@provincia.bergamo.example"


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The migrated app database with the partners (the coordinators receive the alerts)."""
    with Session(engine) as session:
        seed_partners(session)
    return engine


def settings_for(port: int, tmp_path: Path, **overrides: Any) -> Settings:
    """Faults need more attempts and a whole batch per drain than the unit tests."""
    values: dict[str, Any] = {"outbox_max_attempts": 6, "outbox_batch_size": 200, **overrides}
    return smtp_settings(port, tmp_path / "var", **values)


def enqueue(engine: Engine, n: int, prefix: str = "BG-2026-") -> list[str]:
    """``n`` appointment emails, one per case, as the intake step writes them."""
    keys = []
    with Session(engine) as session:
        for i in range(n):
            code = f"{prefix}{i + 1:06d}"
            key = f"case:{code}:intake-scheduled:candidate"
            row = enqueue_email(
                session,
                key=key,
                kind="intake_appointment_candidate",
                recipient=format_address(f"Persona {i}", f"person{i}@example.org"),
                case_code=code,
                context={
                    "case_code": code,
                    "office_name": "CPI Bergamo",
                    "office_address": "Via Camozzi 95, Bergamo",
                    "appointment_at": WHEN,
                },
            )
            assert row is not None
            keys.append(key)
        session.commit()
    return keys


def drain_until_settled(engine: Engine, settings: Settings, rounds: int = 8) -> None:
    for _ in range(rounds):
        if not statuses(engine, OutboxStatus.PENDING):
            return
        make_due(engine)
        drain(engine, settings)
    raise AssertionError(f"still pending after {rounds} drains")


def statuses(engine: Engine, *wanted: OutboxStatus) -> dict[str, Outbox]:
    with Session(engine) as session:
        return {r.key: r for r in session.exec(select(Outbox)).all() if not wanted or r.status in wanted}


def assert_accounted(engine: Engine, sink: MailSink, keys: list[str]) -> dict[str, Outbox]:
    """0 duplicates, 0 silently lost: the property every fault test ends with."""
    rows = statuses(engine)
    per_key = sink.per_key
    assert all(n == 1 for n in per_key.values()), f"duplicates: { {k: n for k, n in per_key.items() if n > 1} }"
    assert set(per_key) <= set(rows), "a message without an outbox row"
    assert not [k for k, r in rows.items() if r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)]
    alert_texts = [
        m.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for m in sink.messages
        if m.kind == "failure_alert"
    ]
    for key in keys:
        row = rows[key]
        if row.status == OutboxStatus.SENT:
            assert per_key.get(key) == 1, key
            assert row.server_reply and row.message_id
        else:
            assert row.status == OutboxStatus.FAILED, (key, row.status)
            assert row.alerted_at is not None, key
            mentions = [t for t in alert_texts if key in t]
            assert len(mentions) == 1, f"{key} must be in exactly one delivered coordinator alert"
            assert row.case_code and row.case_code in mentions[0]
    for alert in (m for m in sink.messages if m.kind == "failure_alert"):
        assert alert.rcpt_tos == (COORDINATOR,)
        text = alert.raw.decode("utf-8", "replace")
        assert "@example.org" not in text, "alerts carry keys and case codes, never addresses"
        assert "Persona" not in text
    return rows


# ------------------------------------------------------------------------- (a) server down


def test_a_relay_outage_does_not_burn_the_attempt_budget(db: Engine, tmp_path: Path) -> None:
    """More drains than ``outbox_max_attempts`` against a dead relay: nothing gives up, nothing
    is counted; when the relay comes back on the same port every row arrives exactly once."""
    port = free_port()
    settings = settings_for(port, tmp_path, outbox_max_attempts=3)
    keys = enqueue(db, 10)
    with time_machine.travel(utcnow(), tick=True) as clock:
        for _ in range(settings.outbox_max_attempts + 3):
            drain(db, settings)
            clock.shift(timedelta(minutes=30))  # the 5-minute sweep, and past any backoff
        rows = statuses(db)
        assert set(rows) == set(keys), "no alert: the outage is far shorter than the limit"
        assert {r.status for r in rows.values()} == {OutboxStatus.PENDING}
        assert {r.attempts for r in rows.values()} == {0}
        assert {r.failure for r in rows.values()} == {None}
        with MailSink(tmp_path / "mail", port=port) as sink:  # the relay comes back on the same port
            report = drain(db, settings)
            assert report.sent == 10 and sink.connections == 1
            rows = assert_accounted(db, sink, keys)
            assert drain(db, settings).sent == 0
    assert {r.status for r in rows.values()} == {OutboxStatus.SENT}
    assert {r.attempts for r in rows.values()} == {1}


def test_a_outage_past_the_limit_alerts_the_coordinators_once(db: Engine, tmp_path: Path) -> None:
    """One outage alert however many drains see the relay down (the stamp is in the database, so
    each drain, a fresh session as after a restart, knows); a later outage alerts again."""
    port = free_port()
    settings = settings_for(port, tmp_path)
    assert settings.outbox_outage_alert_after == timedelta(hours=24)
    keys = enqueue(db, 5)

    def alerts() -> list[Outbox]:
        return [r for r in statuses(db).values() if r.kind == "failure_alert"]

    with time_machine.travel(utcnow(), tick=True) as clock:
        for hours in (0, 8, 8, 7):  # 23 hours down: not yet
            clock.shift(timedelta(hours=hours))
            drain(db, settings)
        assert alerts() == []
        for hours in (2, 1, 6, 12):  # 25 to 42 hours down
            clock.shift(timedelta(hours=hours))
            drain(db, settings)
        (alert,) = alerts()
        assert alert.recipient_code == "COORD-INCONTRO" and alert.status == OutboxStatus.PENDING
        assert "irraggiungibile" in alert.subject and "5 email in attesa" in alert.subject
        assert "@example.org" not in alert.body_text and "Persona" not in alert.body_text
        assert all(r.status == OutboxStatus.PENDING and r.attempts == 0 for r in statuses(db).values())
        with MailSink(tmp_path / "mail", port=port) as sink:
            clock.shift(timedelta(hours=1))
            report = drain(db, settings)
            assert report.sent == 6  # the five emails and the alert, once each
            rows = assert_accounted(db, sink, keys)
            (delivered,) = [m for m in sink.messages if m.kind == "failure_alert"]
            text = delivered.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            assert "non era raggiungibile" in text and "incontro outbox list --state pending" in text
        assert {r.status for r in rows.values()} == {OutboxStatus.SENT}
        enqueue(db, 2, prefix="BG-2027-")  # a second outage, as long: a second alert
        for hours in (1, 13, 13):
            clock.shift(timedelta(hours=hours))
            drain(db, settings)
        assert len(alerts()) == 2


def test_a_line_lost_before_the_message_was_accepted_is_not_counted(db: Engine, sink: MailSink, tmp_path: Path) -> None:
    """The relay closes the line at RCPT: it cannot have the message, and the message is not to blame."""
    settings = settings_for(sink.port, tmp_path)
    keys = enqueue(db, 3)
    dropped: list[str] = []

    async def drop_at_rcpt(server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address == "person0@example.org" and not dropped:
            dropped.append(address)
            server.transport.close()
            return "421 4.4.2 closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    sink.handler.handle_RCPT = drop_at_rcpt  # type: ignore[method-assign,assignment]
    before = utcnow()
    report = drain(db, settings)
    assert (report.sent, report.deferred, report.retried, report.failed) == (2, 1, 0, 0)
    assert sink.connections == 2  # reconnected once for the rest of the batch
    row = statuses(db)[keys[0]]
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert row.last_error and row.last_error.startswith("connection lost before the message was accepted")
    assert row.next_attempt_at > before  # behind the rows already due
    with Session(db) as session:
        assert session.get(MailRelay, relay_name(settings)) is None  # the relay answered: no outage
    drain_until_settled(db, settings)
    rows = assert_accounted(db, sink, keys)
    assert {r.status for r in rows.values()} == {OutboxStatus.SENT}
    assert rows[keys[0]].attempts == 1


# ------------------------------------------------------------------- (b) 421 / 451 replies


def test_b_temporary_421_and_451_replies(db: Engine, sink: MailSink, tmp_path: Path) -> None:
    settings = settings_for(sink.port, tmp_path)
    keys = enqueue(db, 8)
    sink.fail_next(2, code=451)
    sink.fail_next(1, code=421, message="4.3.2 Service shutting down")
    before = utcnow()
    report = drain(db, settings)
    assert (report.sent, report.retried, report.failed) == (5, 3, 0)
    assert sink.connections == 2  # 421 closes the line: one reconnect, then the batch goes on
    retried = statuses(db, OutboxStatus.PENDING)
    assert set(retried) == set(keys[:3])
    assert all(r.next_attempt_at > before + timedelta(seconds=14) for r in retried.values())
    assert sorted((r.last_error or "")[:3] for r in retried.values()) == ["421", "451", "451"]
    assert drain(db, settings) == DrainReport()  # backoff: not due yet
    drain_until_settled(db, settings)
    rows = assert_accounted(db, sink, keys)
    assert {r.status for r in rows.values()} == {OutboxStatus.SENT}


def test_b_persistent_4xx_gives_up_with_an_alert(db: Engine, sink: MailSink, tmp_path: Path) -> None:
    settings = settings_for(sink.port, tmp_path, outbox_max_attempts=3)
    keys = enqueue(db, 2)
    sink.reject_recipient("person0@example.org", code=451, message="4.2.1 Mailbox busy, try later")
    drain_until_settled(db, settings)
    rows = assert_accounted(db, sink, keys)
    assert rows[keys[0]].status == OutboxStatus.FAILED and rows[keys[0]].failure == "gave_up"
    assert rows[keys[0]].attempts == 3
    assert rows[keys[1]].status == OutboxStatus.SENT


# ---------------------------------------------------------- (c) 550 for one recipient


def test_c_550_for_one_recipient_of_a_batch(db: Engine, sink: MailSink, tmp_path: Path) -> None:
    settings = settings_for(sink.port, tmp_path)
    keys = enqueue(db, 6)
    sink.reject_recipient("person3@example.org", code=550)
    report = drain(db, settings)
    assert (report.sent, report.failed, report.failed_keys, report.alerts) == (5 + 1, 1, [keys[3]], 1)
    assert sink.connections == 1  # the alert went out on the batch's connection
    rows = assert_accounted(db, sink, keys)
    assert rows[keys[3]].failure == "permanent" and (rows[keys[3]].last_error or "").startswith("550")
    (alert,) = [m for m in sink.messages if m.kind == "failure_alert"]
    assert (
        str(alert.message["Subject"]).strip()
        == "Incontro - Email non consegnate o dall'esito incerto: 1 (casi BG-2026-000004)"
    )
    assert "(codice 550)" in alert.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    # reruns neither resend nor re-alert
    assert drain(db, settings) == DrainReport()
    assert len(sink.messages) == 6


# ------------------------------------------------------- (d) connection dropped after DATA


@pytest.mark.parametrize("stored", [False, True], ids=["lost-by-server", "kept-by-server"])
def test_d_connection_dropped_after_data(db: Engine, sink: MailSink, tmp_path: Path, stored: bool) -> None:
    """Whether the relay kept it or not, the client cannot know: failed + alert, never resent."""
    settings = settings_for(sink.port, tmp_path)
    keys = enqueue(db, 5)
    sink.drop_after_data(1, stored=stored)
    report = drain(db, settings)
    assert (report.sent, report.failed, report.uncertain, report.alerts) == (4 + 1, 1, 1, 1)
    drain_until_settled(db, settings)
    rows = assert_accounted(db, sink, keys)
    assert rows[keys[0]].failure == "uncertain"
    assert sink.count_for(keys[0]) == (1 if stored else 0)


# ------------------------------------------- (e) the sending process killed mid-batch

_CHILD = """
import asyncio
from config.settings import get_settings
from tasks.runtime.db import get_engine
from tasks.mail.drain import drain_outbox
asyncio.run(drain_outbox(get_engine(), settings=get_settings()))
"""


def test_e_process_killed_mid_batch_then_drained_again(db: Engine, sink: MailSink, tmp_path: Path) -> None:
    keys = enqueue(db, 30)
    sink.slow_reply(0.5)  # each message is kept at once, its 250 comes half a second later
    env = {**os.environ, "INCONTRO_SMTP_PORT": str(sink.port), "INCONTRO_SMTP_HOST": "127.0.0.1"}
    child = subprocess.Popen([sys.executable, "-c", _CHILD], cwd=PROJECT_ROOT, env=env)
    try:
        assert sink.wait_for(3, timeout=60), "the drain subprocess never started sending"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    received_before = set(sink.per_key)
    in_flight = statuses(db, OutboxStatus.SENDING)
    assert len(in_flight) == 1, "the killed drain left exactly the row it was sending in flight"
    assert set(in_flight) <= received_before  # the relay had it: resending would duplicate
    sink.slow_reply(0.0)
    settings = settings_for(sink.port, tmp_path)
    # A young claim may belong to a live drain: the default timeout leaves it alone.
    report = drain(db, settings)
    assert statuses(db, OutboxStatus.SENDING).keys() == in_flight.keys()
    assert report.sent == 30 - len(received_before)
    report = drain(db, settings, in_flight_timeout=timedelta(0))  # the owner is known dead
    assert (report.uncertain, report.alerts) == (1, 1)
    rows = assert_accounted(db, sink, keys)
    (uncertain_key,) = in_flight
    assert rows[uncertain_key].failure == "uncertain" and sink.count_for(uncertain_key) == 1
    sent = [k for k, r in rows.items() if r.status == OutboxStatus.SENT and k in keys]
    assert len(sent) == 29


# ------------------------------------------------------- the 0002 migration on both databases


def _migration_round_trip(url: str) -> None:
    """head -> 0001 -> head keeps working, and a claimed ("sending") row fits the status column."""
    from alembic import command
    from sqlalchemy import inspect

    from tasks.runtime.db import alembic_config, make_engine, migrate

    migrate(url)
    command.downgrade(alembic_config(url), "0001")
    engine = make_engine(url)
    try:
        assert "sending_at" not in {c["name"] for c in inspect(engine).get_columns("outbox")}
        engine.dispose()
        migrate(url)
        columns = {c["name"] for c in inspect(engine).get_columns("outbox")}
        assert {"sending_at", "failure", "alerted_at"} <= columns
        keys = enqueue(engine, 1)
        with Session(engine) as session:
            row = session.exec(select(Outbox).where(Outbox.key == keys[0])).one()
            row.status, row.sending_at, row.failure = OutboxStatus.SENDING, utcnow(), "uncertain"
            session.add(row)
            session.commit()
        assert statuses(engine, OutboxStatus.SENDING).keys() == set(keys)
    finally:
        engine.dispose()


def test_migration_0002_round_trip_on_sqlite(tmp_path: Path) -> None:
    _migration_round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


@pytest.mark.postgres
def test_migration_0002_round_trip_on_postgres() -> None:
    from tests.pg import postgres_database

    with postgres_database() as url:
        _migration_round_trip(url)
