"""The provider's register moves the case's next step (issue 18, no dead ends): a measure the
operator reports as started, completed, in internship or dropped leaves the case with the step
that follows, its owner and a due date, instead of the "start the measure" step going overdue."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import time_machine
from sqlmodel import Session, select

from config.next_steps import COORDINATORS
from models.cases import Case
from models.enums import State
from models.policy import MeasureStatus, PolicyMeasure
from tasks.core.calendar import add_business_days
from tasks.core.next_steps import stuck_cases
from tasks.policy.progress import record_progress_file
from tasks.policy.register import POLICY_TAVOLO, choose_measure, propose_measures, record_decisions
from tasks.policy.rules import load_policies
from tasks.policy.tavolo import open_meeting, record_tavolo_decisions
from tests.factories import make_case, seed_partners

TODAY = "2026-10-05 10:00 +02:00"
HEADER = "Codice pratica;Codice misura;Evento;Data;Ore frequentate;Azienda;Tipo contratto;Durata giorni\n"


def _chosen(session: Session, **profile: str) -> tuple[Case, PolicyMeasure]:
    """A POLICY case whose CPI chose GOL, given to the accredited operator near the person."""
    case = make_case(session, state=State.POLICY, office="CPI-ZOG", profile={"area": "Zogno", **profile})
    propose_measures(session, as_of=date(2026, 10, 5), case_codes=[case.code])
    gol = session.exec(select(PolicyMeasure).where(PolicyMeasure.case_id == case.id, PolicyMeasure.code == "gol")).one()
    choose_measure(session, case, gol, date(2026, 10, 5))
    session.commit()
    assert (case.next_step, case.owner) == ("policy_measure", "OPL-VALLI")
    return case, gol


def _register(session: Session, tmp_path: Path, name: str, *rows: str) -> dict[str, int]:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    counts = record_progress_file(session, path, "OPL-VALLI")
    session.commit()
    return counts


def _step(session: Session, case: Case) -> tuple[str | None, str | None, date | None]:
    found = session.get(Case, case.id)
    assert found is not None
    session.refresh(found)
    return found.next_step, found.owner, found.next_due


@time_machine.travel(TODAY, tick=False)
def test_each_register_row_gives_the_case_the_step_that_follows(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    case, gol = _chosen(session)
    rules = load_policies()

    started = date(2026, 10, 12)
    assert _register(session, tmp_path, "avvio.csv", f"{case.code};GOL;avviato;{started:%d/%m/%Y};;;;") == {
        "enrolled": 1
    }
    session.refresh(gol)
    assert gol.status is MeasureStatus.STARTED and gol.expected_end is not None
    # the operator follows the measure until its expected end (a business day)
    assert _step(session, case) == ("measure_running", "OPL-VALLI", add_business_days(gol.expected_end, 0))

    _register(
        session, tmp_path, "presenze.csv", f"{case.code};GOL;frequenza;{started + timedelta(days=20):%d/%m/%Y};24;;;"
    )
    assert _step(session, case)[0] == "measure_running"  # attendance does not move the step

    completed = started + timedelta(days=100)  # before the expected end: the person did it faster
    _register(session, tmp_path, "fine.csv", f"{case.code};GOL;completato;{completed:%d/%m/%Y};;;;")
    # a hire still counts for the measure until the outcome window closes: the operator reports by then
    window_end = add_business_days(started + timedelta(days=rules.outcome_window_days), 0)
    assert window_end > add_business_days(completed, 20)
    assert _step(session, case) == ("measure_outcome", "OPL-VALLI", window_end)

    internship = completed + timedelta(days=10)
    _register(session, tmp_path, "tirocinio.csv", f"{case.code};GOL;tirocinio;{internship:%d/%m/%Y};;;;")
    step, owner, due = _step(session, case)
    assert (step, owner) == ("internship_outcome", "OPL-VALLI") and due is not None and due > internship
    assert stuck_cases(session) == []


@time_machine.travel(TODAY, tick=False)
def test_a_dropped_measure_goes_back_to_the_cpi_and_is_proposed_again(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    case, gol = _chosen(session)
    _register(
        session,
        tmp_path,
        "ritiro.csv",
        f"{case.code};GOL;avviato;05/10/2026;;;;",
        f"{case.code};GOL;ritirato;02/11/2026;;;;",
    )
    session.refresh(gol)
    assert gol.status is MeasureStatus.DROPPED
    # the CPI chooses another measure with the person, due from the day the register arrived
    assert _step(session, case) == ("choose_measure", "CPI-ZOG", add_business_days(date(2026, 10, 5), 10))
    again = propose_measures(session, as_of=date(2026, 10, 6), case_codes=[case.code])
    assert "gol" in again[case.code]

    # GOL chosen again: the operator's next "avviato" is about the new measure, not the dropped one
    second = session.exec(
        select(PolicyMeasure).where(
            PolicyMeasure.case_id == case.id,
            PolicyMeasure.code == "gol",
            PolicyMeasure.status == MeasureStatus.PROPOSED,
        )
    ).one()
    found = session.get(Case, case.id)
    assert found is not None
    choose_measure(session, found, second, date(2026, 10, 6))
    session.commit()
    assert _register(session, tmp_path, "riavvio.csv", f"{case.code};GOL;avviato;12/10/2026;;;;") == {"enrolled": 1}
    session.refresh(second)
    session.refresh(gol)
    assert (second.status, gol.status) == (MeasureStatus.STARTED, MeasureStatus.DROPPED)
    assert _step(session, case)[0] == "measure_running"


@time_machine.travel(TODAY, tick=False)
def test_a_register_for_a_closed_case_gives_it_no_step(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    case, _ = _chosen(session)
    found = session.get(Case, case.id)
    assert found is not None
    found.state, found.next_step, found.owner, found.next_due = State.CLOSED, None, None, None
    session.add(found)
    session.commit()
    _register(session, tmp_path, "chiusa.csv", f"{case.code};GOL;avviato;05/10/2026;;;;")
    assert _step(session, case) == (None, None, None)


@time_machine.travel(TODAY, tick=False)
def test_cases_left_to_the_table_wait_for_the_coordinators(session: Session) -> None:
    seed_partners(session)
    deferred = make_case(session, state=State.POLICY, office="CPI-BG", profile={"area": "Bergamo"})
    propose_measures(session, as_of=date(2026, 10, 5), case_codes=[deferred.code])
    session.commit()
    counts = record_decisions(session, [{"case_code": deferred.code, "choice": ""}], as_of=date(2026, 10, 5))
    session.commit()
    assert counts == {"deferred": 1}
    assert _step(session, deferred) == (POLICY_TAVOLO, COORDINATORS, add_business_days(date(2026, 10, 5), 20))

    # no measure open to the person (a permit expired without a renewal receipt): the table decides
    none = make_case(session, state=State.POLICY, office="CPI-BG", citizenship="MA", permit_expiry=date(2026, 9, 1))
    assert propose_measures(session, as_of=date(2026, 10, 5), case_codes=[none.code]) == {none.code: []}
    session.commit()
    assert _step(session, none) == (POLICY_TAVOLO, COORDINATORS, add_business_days(date(2026, 10, 5), 20))
    # the next day's run keeps the due date (it is the table's, not a new one every day)
    with time_machine.travel("2026-10-06 10:00 +02:00", tick=False):
        propose_measures(session, as_of=date(2026, 10, 6), case_codes=[none.code])
        session.commit()
    assert _step(session, none)[2] == add_business_days(date(2026, 10, 5), 20)
    assert not session.exec(select(PolicyMeasure).where(PolicyMeasure.case_id == none.id)).all()


@time_machine.travel(TODAY, tick=False)
def test_the_simulated_operators_send_registers_the_import_accepts(session: Session, tmp_path: Path) -> None:
    import random
    from typing import Any, cast

    from demo.simulate_actors import Actors, Rates

    seed_partners(session)
    case, gol = _chosen(session)
    # every measure starts and runs to its end (the draws that drop or hire are switched off)
    rates = Rates(measure_no_start=0.0, measure_dropped=0.0, measure_hired_early=0.0)
    actors = Actors(dataset=cast(Any, None), inbox=tmp_path, rates=rates, rng=random.Random(3))
    assert actors.progress_registers(session, tmp_path, date(2026, 10, 5)) == {}  # not started yet

    later = date(2026, 10, 27)  # past the latest start (12 business days after the choice)
    files = actors.progress_registers(session, tmp_path, later)
    assert set(files) == {"OPL-VALLI"}
    assert record_progress_file(session, files["OPL-VALLI"], "OPL-VALLI") == {"enrolled": 1}
    session.commit()
    assert _step(session, case)[0] == "measure_running"

    files = actors.progress_registers(session, tmp_path, later + timedelta(days=14))
    assert record_progress_file(session, files["OPL-VALLI"], "OPL-VALLI") == {"attendance": 1}
    session.commit()
    session.refresh(gol)
    assert gol.started_on is not None
    assert gol.hours_attended == (later + timedelta(days=14) - gol.started_on).days // 7 * rates.attendance_hours_week

    assert gol.expected_end is not None  # at its end the operator reports the completion
    files = actors.progress_registers(session, tmp_path, gol.expected_end)
    assert record_progress_file(session, files["OPL-VALLI"], "OPL-VALLI") == {"completed": 1}
    session.commit()
    assert _step(session, case)[0] == "measure_outcome"


def test_a_case_the_table_defers_is_due_at_its_next_meeting_not_overdue(session: Session) -> None:
    """The coordination table postpones a policy path: the coordinators' step is due again after
    the meeting, not left with the due date that has just passed."""
    seed_partners(session)
    case = make_case(session, state=State.POLICY, office="CPI-BG", profile={"area": "Bergamo"})
    propose_measures(session, as_of=date(2026, 10, 5), case_codes=[case.code])
    record_decisions(session, [{"case_code": case.code, "choice": ""}], as_of=date(2026, 10, 5))
    session.commit()
    held_on = add_business_days(date(2026, 10, 5), 25)  # the meeting comes after the step's due date
    assert _step(session, case)[2] < held_on
    with time_machine.travel(f"{held_on.isoformat()} 10:00 +01:00", tick=False):
        open_meeting(session, held_on=held_on)
        session.commit()
        record_tavolo_decisions(
            session, [{"case_code": case.code, "decision": "defer", "measure": ""}], held_on=held_on
        )
        session.commit()
        assert stuck_cases(session) == []
    assert _step(session, case) == (POLICY_TAVOLO, COORDINATORS, add_business_days(held_on, 20))
