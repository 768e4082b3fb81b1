"""A company answer stored while its event was lost is announced again by the sweep (issue 22,
defect 3): the interest stage then runs, however the portal's announcement failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlmodel import Session

from models.clock import utcnow
from models.enums import InterestAnswer, State
from tasks.interest import record_answer
from tasks.runtime import events
from tasks.runtime.answer_catchup import GRACE, announce_waiting_answers
from tasks.runtime.db import session_scope
from tasks.runtime.event_names import INTEREST_RECORDED, INTEREST_RESOURCES
from tests.factories import make_case, seed_partners


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[events.EventSpec]:
    """Events that reach Prefect; the portal's own one is dropped, as with a wrong auth string."""
    out: list[events.EventSpec] = []
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


def _portal_answer(session: Session, company: str, case_code: str) -> None:
    """What the portal stores for a company's click (its event is lost on the way)."""
    record_answer(session, company_code=company, case_code=case_code, answer=InterestAnswer.INTERVIEW, channel="portal")
    session.commit()


def _sweep() -> int:
    with session_scope() as s:
        return announce_waiting_answers(s)


def test_answer_without_its_event_is_announced_once_per_sweep(session: Session, sent: list[events.EventSpec]) -> None:
    seed_partners(session)
    melnyk = make_case(session, state=State.DISPATCHED, family_name="Melnyk", given_names="Oksana")
    kovalenko = make_case(session, state=State.DISPATCHED, family_name="Kovalenko", given_names="Dmytro")
    _portal_answer(session, "COMP-GOMMA-ISOLA", melnyk.code)
    _portal_answer(session, "COMP-GOMMA-ISOLA", kovalenko.code)

    assert _sweep() == 0 and sent == []  # the normal path still has time to process them

    with time_machine.travel(utcnow() + GRACE + timedelta(minutes=1), tick=False):
        assert _sweep() == 2
        assert _sweep() == 2  # still waiting at the next sweep: announced again
    assert [s.name for s in sent] == [INTEREST_RECORDED, INTEREST_RECORDED]
    prefix = INTEREST_RESOURCES.removesuffix("*")
    assert all(s.resource_id.startswith(prefix) for s in sent), "the interest trigger must match it"
    assert all(melnyk.code not in str(s) and "Melnyk" not in str(s) for s in sent), "counts only"


def test_processed_answers_are_not_announced(session: Session, sent: list[events.EventSpec]) -> None:
    from tasks.interest import process_answers

    seed_partners(session)
    case = make_case(session, state=State.DISPATCHED, family_name="Esposito", given_names="Chiara")
    _portal_answer(session, "COMP-GOMMA-ISOLA", case.code)
    with session_scope() as s:
        process_answers(s)
    sent.clear()
    with time_machine.travel(utcnow() + GRACE * 3, tick=False):
        assert _sweep() == 0
    assert sent == []


def test_the_maintenance_sweep_runs_the_catch_up() -> None:
    """flows/maintenance.py calls it (a one-line wiring that a refactor could drop)."""
    import inspect

    from flows import maintenance

    assert "announce_answers()" in inspect.getsource(maintenance.maintenance.fn)
    assert maintenance.announce_answers.fn.__wrapped__ is announce_waiting_answers
