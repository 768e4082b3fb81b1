"""Issue 16, defect 3: an import stopped after its ingest step is finished by a rerun of the same
file or by the maintenance sweep — every remaining step done, exactly once."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.cases import Case, CaseEvent
from models.clock import utcnow
from models.ops import ImportFile, Outbox
from tasks.mail.smtp_sink import MailSink
from tests.flows.test_stages import HEADER, ROWS


def _ingested_only(tmp_path: Path) -> Path:
    """What a referral run killed right after its ingest step leaves: the rows and the import
    record committed, nothing else (no dedup, no acceptance, no acknowledgement)."""
    from tasks.core.partners import sync_organisations
    from tasks.referral.ingest import ingest_referral_file
    from tasks.runtime.db import session_scope

    path = tmp_path / "segnalazioni.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("utf-8-sig"))
    with session_scope() as session:
        sync_organisations(session)
        ingest_referral_file(session, path, "CARITAS-BG")
    return path


def _snapshot(engine: Engine) -> tuple[list[str], list[str], list[tuple[int, str | None, str]]]:
    with Session(engine) as s:
        states = sorted(c.state.value for c in s.exec(select(Case)).all())
        kinds = sorted(o.kind for o in s.exec(select(Outbox)).all())
        events = [
            (e.case_id, e.from_state.value if e.from_state else None, e.to_state.value)
            for e in s.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
        ]
    return states, kinds, events


def announced(name: str, resource: str, since: datetime, *, wait: float = 15.0) -> int:
    """How many ``name`` events about ``resource`` the Prefect server stored since ``since`` (it
    stores them a moment after receiving them: wait for the first). Import ids repeat from test
    to test (a new database each), the server is shared: hence ``since``."""
    from prefect import get_client

    deadline = time.monotonic() + wait
    while True:
        with get_client(sync_client=True) as client:
            found = client.request(
                "POST",
                "/events/filter",
                json={
                    "filter": {
                        "event": {"name": [name]},
                        "resource": {"id": [resource]},
                        "occurred": {"since": since.isoformat()},
                    },
                    "limit": 50,
                },
            ).json()["events"]
        if found or time.monotonic() > deadline:
            return len(found)
        time.sleep(0.3)


def _assert_done_once(engine: Engine, mail: MailSink, accepted_state: str, since: datetime) -> None:
    states, kinds, events = _snapshot(engine)
    # Milano waits for a CPI, REFERRED with the coordinators' next step
    assert states == sorted([accepted_state, accepted_state, "duplicate", "referred", "rejected"]), states
    referral_kinds = [k for k in kinds if not k.startswith("intake_")]  # the sweep also schedules
    assert referral_kinds == ["duplicate_notice", "import_errors", "referral_ack"]
    assert sorted(str(m.kind) for m in mail.messages) == kinds  # each email sent, once
    assert not [e for e, n in Counter(events).items() if n > 1], "a case moved twice"
    with Session(engine) as s:
        imp = s.exec(select(ImportFile)).one()
        assert imp.finished_at is not None and imp.pending_events == []
        assert imp.completed_steps == ["ingest", "deduplicate", "accept", "acknowledge", "finish"]
    assert announced("incontro.referral.accepted", f"incontro.import.{imp.id}", since) == 1  # intake starts


def test_rerun_of_a_file_killed_after_ingest_finishes_every_step_once(
    engine: Engine, mail: MailSink, tmp_path: Path
) -> None:
    from flows.referral import referral

    since = utcnow()
    path = _ingested_only(tmp_path)
    resumed = referral(str(path), "CARITAS-BG")
    _assert_done_once(engine, mail, "accepted", since)
    assert resumed["resumed"] is True and resumed["rows_accepted"] == 5 and resumed["rows_rejected"] == 3
    assert resumed["merged"] == 1 and resumed["accepted"] == 2
    before = _snapshot(engine)
    again = referral(str(path), "CARITAS-BG")  # now really finished: nothing more to do
    assert again["already_imported"] is True and "resumed" not in again
    assert _snapshot(engine) == before
    _assert_done_once(engine, mail, "accepted", since)


def test_maintenance_sweep_finishes_an_import_killed_after_ingest(
    engine: Engine, mail: MailSink, tmp_path: Path
) -> None:
    from flows.maintenance import maintenance
    from flows.referral import referral

    since = utcnow()
    path = _ingested_only(tmp_path)
    swept = maintenance(as_of=date(2026, 12, 1))
    _assert_done_once(engine, mail, "intake_scheduled", since)
    assert swept["imports_resumed"] == 1
    assert swept["scheduled"] == 2  # the accepted cases get their intake in the same sweep
    before = _snapshot(engine)
    assert maintenance(as_of=date(2026, 12, 1))["imports_resumed"] == 0
    assert referral(str(path), "CARITAS-BG")["already_imported"] is True
    after = _snapshot(engine)
    assert after[:2] == before[:2] and after[2] == before[2]
