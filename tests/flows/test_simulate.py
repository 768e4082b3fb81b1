"""The simulated quarter (demo/simulate.py), two weeks at small rates: no open case is ever
left without a next step, and cases move through the stages on the simulated clock."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from demo.simulate import simulate
from demo.simulate_actors import Rates
from models.cases import Case, CaseEvent
from models.enums import State
from tasks.mail.smtp_sink import MailSink
from tasks.runtime.db import get_engine


def test_two_weeks_keep_every_case_on_a_next_step(mail: MailSink) -> None:
    result = simulate(2, start=date(2026, 9, 14), seed=7, rates=Rates(referrals=14, partners_per_week=4))

    assert [r.week for r in result.rows] == [1, 2]
    assert result.failures == {}
    assert all(r.stuck == 0 for r in result.rows), [r.stuck for r in result.rows]
    first, second = result.rows
    assert first.referred > 0 and second.referred > 0
    assert first.entered["in carico"] > 0
    assert second.entered["colloqui"] > 0  # appointments of week 1 held and recorded in week 2
    with Session(get_engine()) as session:
        reached = set(session.exec(select(CaseEvent.to_state).distinct()).all())
        created = session.exec(select(func.min(Case.created_at))).one()
        open_without_step = session.exec(
            select(func.count())
            .select_from(Case)
            .where(col(Case.state) == State.ACCEPTED, col(Case.next_step).is_(None))
        ).one()
    assert {State.ACCEPTED, State.INTAKE_SCHEDULED, State.INTAKE_DONE} <= reached
    assert reached & {State.LITERACY, State.PROFILE_READY}
    assert created is not None and created.date() >= date(2026, 9, 14)  # the simulated clock, not the machine's
    assert open_without_step == 0
    table = result.markdown()
    assert "| settimana | dal | segnalate |" in table and "senza passo" in table
    assert mail.messages  # the outbox went out through the real SMTP sink
