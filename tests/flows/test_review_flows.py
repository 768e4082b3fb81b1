"""Human-in-the-loop flows beyond intake: grey-band duplicates and form reminders."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.cases import Case
from models.enums import ConsentPurpose, State
from models.ops import DedupReview, Outbox
from models.people import Referral
from tasks.mail.smtp_sink import MailSink
from tasks.maintenance import remind_pending_forms
from tests.factories import make_case, seed_partners


def _answer(decide: dict[str, bool]) -> None:
    from deploy.client import resume
    from tasks.runtime.prefect_api import form_inputs, paused_runs

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = paused_runs()
        if runs:
            rows: list[dict[str, Any]] = form_inputs(runs[0].id)
            resume(runs[0].id, {"decisions": [{**r, "same_person": decide[r["case_code"]]} for r in rows]})
            return
        time.sleep(0.3)


def test_dedup_review_merges_same_person_and_accepts_the_other(engine: Engine, mail: MailSink) -> None:
    from flows.referral import dedup_review

    consents = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT)
    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        existing = make_case(s, state=State.ACCEPTED, office="CPI-BG", consents=consents)
        same = make_case(s, state=State.REFERRED, office=None, referrer="AMBITO-BG", consents=consents)
        other = make_case(s, state=State.REFERRED, office=None, referrer="AMBITO-BG", consents=consents)
        for c in (same, other):
            s.add(DedupReview(case_id=c.id, candidate_case_id=existing.id, score=85.0))
        s.commit()
    operator = threading.Thread(target=_answer, args=({same.code: True, other.code: False},))
    operator.start()
    result = dedup_review()
    operator.join(timeout=60)
    assert result == {"merged": 1, "separate": 1, "emails": result["emails"]}
    with Session(engine) as s:
        assert s.get(Case, same.id).state is State.DUPLICATE  # type: ignore[union-attr]
        assert s.get(Case, other.id).state is State.ACCEPTED  # type: ignore[union-attr]
        moved = s.exec(select(Referral).where(Referral.person_key == same.person_key)).one()
        assert moved.case_id == existing.id  # the referral now belongs to the existing case
        assert all(r.decision for r in s.exec(select(DedupReview)).all())
    assert [m.kind for m in mail.messages] == ["duplicate_notice"]
    assert dedup_review() == {"reviews": 0}  # nothing left to ask


def test_form_reminder_after_n_business_days_once_per_day(session: Session) -> None:
    seed_partners(session)
    forms = [
        {
            "run_id": "r1",
            "form": "intake-form",
            "office": "CPI-BG",
            "since": "2026-08-24",
            "case_codes": ["BG-2026-000001"],
        }
    ]
    # 24/8 Mon → 26/8 is Bergamo's patron saint: by Thu 27/8 only 2 business days have passed
    assert remind_pending_forms(session, forms, today=date(2026, 8, 27)) == 0
    assert remind_pending_forms(session, forms, today=date(2026, 8, 28)) == 1
    assert remind_pending_forms(session, forms, today=date(2026, 8, 28)) == 0  # one per form per day
    session.commit()
    row = session.exec(select(Outbox)).one()
    assert row.kind == "form_reminder" and "BG-2026-000001" in row.body_text
    assert row.recipient.startswith("cpi.") or "cpi" in row.recipient
