"""Dispatch batches: size cap, batch codes, reruns."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from models.cases import Case
from models.clock import utcnow
from models.enums import State
from models.exchange import DispatchBatch, DispatchItem
from models.ops import Outbox
from tasks.dispatch import dispatch_profiles, next_batch_code
from tests.factories import SHAREABLE, make_case, seed_partners

TODAY = date(2026, 11, 30)


def _batch(session: Session, code: str) -> None:
    session.add(DispatchBatch(code=code, recipient_code="CONFINDUSTRIA-BG", profile_count=1, sent_at=utcnow()))
    session.commit()


def test_next_batch_code_follows_the_highest_number_of_the_day(session: Session) -> None:
    seed_partners(session)
    assert next_batch_code(session, TODAY) == "DSP-20261130-01"
    for code in ("DSP-20261130-03", "DSP-20261130-01-02", "DSP-20261129-07"):  # hand-picked codes
        _batch(session, code)
    assert next_batch_code(session, TODAY) == "DSP-20261130-04"


def test_a_named_backlog_goes_out_in_numbered_batches_and_a_rerun_sends_nothing(session: Session) -> None:
    seed_partners(session)
    cases = [make_case(session, state=State.PROFILE_READY, profile={}, consents=SHAREABLE) for _ in range(5)]
    summary = dispatch_profiles(session, today=TODAY, batch_code="DSP-SPECIALE", max_profiles=2)
    session.commit()
    assert summary.batch_codes == ["DSP-SPECIALE", "DSP-SPECIALE-02", "DSP-SPECIALE-03"]
    assert summary.case_codes == [c.code for c in cases]
    items = session.exec(select(DispatchItem.case_id, DispatchBatch.code).join(DispatchBatch)).all()
    assert sorted(case_id for case_id, _ in items) == sorted(c.id for c in cases)  # each case in one batch
    keys = session.exec(select(Outbox.key).where(Outbox.kind == "dispatch_confindustria")).all()
    assert sorted(keys) == sorted(f"batch:{code}:confindustria" for code in summary.batch_codes)
    again = dispatch_profiles(session, today=TODAY, batch_code="DSP-SPECIALE", max_profiles=2)
    assert again.case_codes == [] and len(session.exec(select(DispatchBatch)).all()) == 3
    states = session.exec(select(Case.state).where(col(Case.id).in_([c.id for c in cases]))).all()
    assert set(states) == {State.DISPATCHED}
