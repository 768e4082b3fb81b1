"""The 180-day check of every hire (issue 18): a step at hire + 180 days, the answer recorded by
file, form or command line, and the retention KPI that reads it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlmodel import Session, col, select

from cli.main import main
from models.cases import Case
from models.enums import OutcomeKind, State
from models.exchange import Outcome
from models.forms import FollowUpAnswer
from tasks.core.next_steps import FOLLOW_UP_STEP, overdue_cases
from tasks.core.transitions import transition
from tasks.outcomes import (
    FollowUpRefused,
    follow_ups_due,
    record_follow_up,
    record_follow_up_rows,
    record_outcome_file,
    validate_follow_ups,
)
from tasks.reports.kpis import Period, retention_180
from tests.factories import make_case, seed_partners

HIRE_DAY = "2026-12-01 09:00 +01:00"
CHECK_DAY = "2027-06-08 10:00 +02:00"


@pytest.fixture
def partners(session: Session) -> Session:
    seed_partners(session)
    return session


def _hire_by_file(session: Session, tmp_path: Path, *rows: str, name: str = "esiti.csv") -> dict[str, int]:
    path = tmp_path / name
    path.write_text("Codice pratica;Esito;Azienda;Data inizio;Durata giorni\n" + "\n".join(rows) + "\n", "utf-8")
    counts = record_outcome_file(session, path, "CPI-BG")
    session.commit()
    return counts


def _reload(session: Session, case: Case) -> Case:
    session.expire_all()
    found = session.get(Case, case.id)
    assert found is not None
    return found


@time_machine.travel(HIRE_DAY, tick=False)
def test_a_hire_gets_its_check_180_days_after_the_start_owned_by_its_cpi(partners: Session, tmp_path: Path) -> None:
    welder = make_case(partners, state=State.INTERVIEW, office="CPI-ALB", profile={})
    cook = make_case(partners, state=State.INTERVIEW, office="CPI-TRV", profile={})
    counts = _hire_by_file(
        partners,
        tmp_path,
        f"{welder.code};assunto;COMP-OFFICINE-VALSERIANA;14/12/2026;365",
        f"{cook.code};assunta;COMP-GOMMA-ISOLA;;",  # no start date: the day it is recorded
    )
    assert counts == {"hired": 2}
    welder, cook = _reload(partners, welder), _reload(partners, cook)
    # 14/12/2026 + 180 days = Saturday 12 June 2027 → Monday 14 June
    assert (welder.state, welder.next_step, welder.owner, welder.next_due) == (
        State.HIRED,
        FOLLOW_UP_STEP,
        "CPI-ALB",
        date(2027, 6, 14),
    )
    # 01/12/2026 + 180 days = Sunday 30 May 2027 → Monday 31 May
    assert (cook.next_step, cook.owner, cook.next_due) == (FOLLOW_UP_STEP, "CPI-TRV", date(2027, 5, 31))


@time_machine.travel(HIRE_DAY, tick=False)
def test_a_hire_by_any_path_gets_the_check_and_other_closures_get_none(partners: Session) -> None:
    hired = make_case(partners, state=State.INTERVIEW, office="CPI-ROM")
    gone = make_case(partners, state=State.INTERVIEW, office="CPI-ROM")
    transition(partners, hired, State.HIRED, actor="flow:policy", reason="policy:gol")
    transition(partners, gone, State.WITHDRAWN, actor="test", reason="withdrawn")
    partners.commit()
    hired, gone = _reload(partners, hired), _reload(partners, gone)
    assert (hired.next_step, hired.owner, hired.next_due) == (FOLLOW_UP_STEP, "CPI-ROM", date(2027, 5, 31))
    assert (gone.next_step, gone.owner, gone.next_due) == (None, None, None)


def test_the_cli_lists_due_checks_records_one_and_refuses_a_second(
    partners: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel(HIRE_DAY, tick=False):
        kept = make_case(partners, state=State.INTERVIEW, office="CPI-BG", family_name="Shevchenko")
        left = make_case(partners, state=State.INTERVIEW, office="CPI-BG")
        late = make_case(partners, state=State.INTERVIEW, office="CPI-ALB")
        _hire_by_file(
            partners,
            tmp_path,
            f"{kept.code};assunto;COMP-GOMMA-ISOLA;01/12/2026;180",
            f"{left.code};assunto;COMP-LOGISTICA-ORIO;01/12/2026;90",
            f"{late.code};assunto;COMP-OFFICINE-VALSERIANA;01/12/2026;",
        )
    with time_machine.travel(CHECK_DAY, tick=False):
        assert [c.code for c in overdue_cases(partners, date(2027, 6, 8))] == sorted([kept.code, left.code, late.code])
        partners.commit()  # the command line writes through its own connection
        assert main(["follow-up", "--due", "--office", "CPI-BG"]) == 0
        listed = capsys.readouterr().out
        assert kept.code in listed and left.code in listed and late.code not in listed
        assert "2 verifiche a 180 giorni da fare" in listed and "Shevchenko" not in listed

        assert main(["follow-up", kept.code, "--outcome", "occupato", "--actor", "m.rota"]) == 0
        said = capsys.readouterr().out
        assert f"pratica {kept.code}: ancora occupata a 180 giorni il 08/06/2027" in said and "m.rota" in said
        assert main(["follow-up", left.code, "--outcome", "cessato", "--date", "28/02/2027"]) == 0
        capsys.readouterr()
        assert main(["follow-up", kept.code, "--outcome", "cessato"]) == 2
        refusal = capsys.readouterr().err
        assert "già registrato (ancora occupata il 08/06/2027)" in refusal and "employed_180" not in refusal

    partners.expire_all()
    checks = {
        o.case_id: (o.kind, o.observed_on, o.company_code)
        for o in partners.exec(select(Outcome).where(col(Outcome.observed_on).is_not(None))).all()
    }
    assert checks == {
        kept.id: (OutcomeKind.EMPLOYED_180, date(2027, 6, 8), "COMP-GOMMA-ISOLA"),
        left.id: (OutcomeKind.LEFT_180, date(2027, 2, 28), "COMP-LOGISTICA-ORIO"),
    }
    assert _reload(partners, kept).next_step is None and _reload(partners, left).next_due is None
    assert _reload(partners, late).next_step == FOLLOW_UP_STEP  # not checked yet: still on the list

    # their 180th day (30 May 2027) falls in the period, the checks before its end (8 June):
    # 1 kept of 3 due, 1 left, 1 not checked yet
    total = retention_180(partners, Period(date(2027, 5, 1), date(2027, 6, 9)))[-1]
    assert {k: total[k] for k in ("hires_due", "employed_180", "left_180", "unknown_180", "not_checked")} == {
        "hires_due": 3,
        "employed_180": 1,
        "left_180": 1,
        "unknown_180": 0,
        "not_checked": 1,
    }
    assert total["rate"] == pytest.approx(1 / 3)


def test_the_check_refuses_what_cannot_be_true(partners: Session, tmp_path: Path) -> None:
    with time_machine.travel(HIRE_DAY, tick=False):
        hired = make_case(partners, state=State.INTERVIEW, office="CPI-BG")
        waiting = make_case(partners, state=State.DISPATCHED, office="CPI-BG")
        _hire_by_file(partners, tmp_path, f"{hired.code};assunto;COMP-GOMMA-ISOLA;01/12/2026;180")
    with time_machine.travel("2027-01-15 10:00 +01:00", tick=False):
        with pytest.raises(FollowUpRefused, match="non assunta \\(stato: "):
            record_follow_up(partners, waiting.code, OutcomeKind.EMPLOYED_180)
        with pytest.raises(FollowUpRefused, match="troppo presto"):
            record_follow_up(partners, hired.code, OutcomeKind.EMPLOYED_180)  # 45 days after the start
        with pytest.raises(FollowUpRefused, match="nel futuro"):
            record_follow_up(partners, hired.code, OutcomeKind.LEFT_180, on=date(2027, 2, 1))
        with pytest.raises(FollowUpRefused, match="precedente all'assunzione"):
            record_follow_up(partners, hired.code, OutcomeKind.LEFT_180, on=date(2026, 11, 30))
        with pytest.raises(FollowUpRefused, match="inesistente"):
            record_follow_up(partners, "BG-2026-999999", OutcomeKind.LEFT_180)
        record_follow_up(partners, hired.code, OutcomeKind.LEFT_180, on=date(2027, 1, 10))  # left early: fine
        partners.commit()
    assert _reload(partners, hired).next_step is None


def test_the_file_records_checks_and_keeps_bad_rows_for_the_sender(partners: Session, tmp_path: Path) -> None:
    with time_machine.travel(HIRE_DAY, tick=False):
        cases = [make_case(partners, state=State.INTERVIEW, office="CPI-TRE") for _ in range(3)]
        stranger = make_case(partners, state=State.PROFILE_READY, office="CPI-TRE")
        _hire_by_file(partners, tmp_path, *(f"{c.code};assunto;COMP-GOMMA-ISOLA;01/12/2026;180" for c in cases))
    a, b, c = cases
    with time_machine.travel(CHECK_DAY, tick=False):
        path = tmp_path / "verifiche 180 giorni.csv"
        path.write_text(
            "Codice pratica;Esito;Data verifica\n"
            f"{a.code};Ancora occupata;07/06/2027\n"
            f"{b.code};cessato;15/04/2027\n"
            f"{c.code};non rintracciabile;\n"
            f"{stranger.code};ancora occupato;07/06/2027\n",
            encoding="utf-8",
        )
        counts = record_outcome_file(partners, path, "CPI-TRE")
        partners.commit()
    assert counts == {"employed_180": 1, "left_180": 1, "unknown_180": 1, "rejected": 1}
    kinds = {
        o.case_id: (o.kind, o.observed_on)
        for o in partners.exec(select(Outcome).where(Outcome.kind != OutcomeKind.HIRED)).all()
    }
    assert kinds == {
        a.id: (OutcomeKind.EMPLOYED_180, date(2027, 6, 7)),
        b.id: (OutcomeKind.LEFT_180, date(2027, 4, 15)),
        c.id: (OutcomeKind.UNKNOWN_180, date(2027, 6, 8)),
    }
    assert _reload(partners, stranger).state is State.PROFILE_READY


def test_the_form_rows_are_checked_then_recorded(partners: Session, tmp_path: Path) -> None:
    with time_machine.travel(HIRE_DAY, tick=False):
        cases = [make_case(partners, state=State.INTERVIEW, office="CPI-LOV") for _ in range(3)]
        _hire_by_file(partners, tmp_path, *(f"{c.code};assunto;COMP-GOMMA-ISOLA;01/12/2026;180" for c in cases))
    a, b, c = cases
    with time_machine.travel(CHECK_DAY, tick=False):
        due = follow_ups_due(partners, as_of=date(2027, 6, 8), office="CPI-LOV")
        assert [(d.case_code, d.started, d.due) for d in due] == [
            (x.code, date(2026, 12, 1), date(2027, 5, 31)) for x in sorted(cases, key=lambda x: x.code)
        ]
        rows: list[dict[str, Any]] = [
            {"case_code": a.code, "outcome": FollowUpAnswer.EMPLOYED.value, "observed_on": None},
            {"case_code": b.code, "outcome": FollowUpAnswer.LEFT.value, "observed_on": "2027-07-01"},
            {"case_code": c.code, "outcome": FollowUpAnswer.PENDING.value, "observed_on": None},
        ]
        problems = validate_follow_ups(partners, rows)
        assert len(problems) == 1 and b.code in problems[0] and "nel futuro" in problems[0]
        assert partners.exec(select(Outcome).where(Outcome.kind != OutcomeKind.HIRED)).all() == []  # checks only
        rows[1]["observed_on"] = "2027-05-20"
        assert validate_follow_ups(partners, rows) == []
        assert record_follow_up_rows(partners, rows, actor="form:follow-up") == {
            "employed_180": 1,
            "left_180": 1,
            "pending": 1,
        }
        partners.commit()
        assert [d.case_code for d in follow_ups_due(partners, as_of=date(2027, 6, 8))] == [c.code]
