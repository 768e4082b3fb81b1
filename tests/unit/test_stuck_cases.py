"""Where the invariant is broken or late: `incontro cases --stuck / --overdue`, the KPI table and
the funnel artifact's overdue steps per CPI. Case codes, organisation codes and Italian words only."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlmodel import Session

from cli.main import main
from models.enums import ConsentPurpose, State
from tasks.reports.funnel import funnel_markdown
from tasks.reports.kpis import steps_by_office
from tests.factories import make_case, seed_partners

TODAY = "2026-12-11 10:00 +01:00"  # Friday; Tuesday 8 December was a holiday


def _seed(session: Session) -> dict[str, str]:
    seed_partners(session)
    fine = make_case(session, state=State.DISPATCHED, office="CPI-BG")
    stuck = make_case(session, state=State.PROFILE_READY, office="CPI-BG", family_name="Kovalenko")
    stuck.next_step = stuck.next_due = None
    late = make_case(session, state=State.LITERACY, office="CPI-TRV", family_name="Diallo")
    late.next_due = date(2026, 12, 3)  # Thursday: 4 7 9 10 11 → 5 business days late
    course = make_case(session, state=State.LITERACY, office="CPI-TRV", consents=(ConsentPurpose.CPIA_ENROLMENT,))
    course.next_step, course.owner, course.next_due = "literacy_course", "CPIA-BG", date(2026, 12, 10)
    nobody = make_case(session, state=State.REFERRED, office=None)
    nobody.owner = None
    make_case(session, state=State.HIRED, office="CPI-BG")  # closed: never stuck, never late
    session.add_all([stuck, late, course, nobody])
    session.commit()
    return {"fine": fine.code, "stuck": stuck.code, "late": late.code, "course": course.code, "nobody": nobody.code}


@time_machine.travel(TODAY, tick=False)
def test_cases_stuck_lists_open_cases_without_step_owner_or_due(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    codes = _seed(session)
    assert main(["cases", "--stuck"]) == 0
    out = capsys.readouterr().out
    assert "Pratiche aperte senza prossimo passo, responsabile o scadenza: 2" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("BG-")}
    assert set(lines) == {codes["stuck"], codes["nobody"]}
    assert "profilo pronto" in lines[codes["stuck"]] and "prossimo passo, scadenza" in lines[codes["stuck"]]
    assert lines[codes["nobody"]].rstrip().endswith("responsabile")
    assert "profile_ready" not in out and "Kovalenko" not in out
    assert main(["cases", "--stuck", "--office", "CPI-TRV"]) == 0
    assert "scadenza: 0" in capsys.readouterr().out


@time_machine.travel(TODAY, tick=False)
def test_cases_overdue_says_what_is_late_and_who_acts_in_words(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    codes = _seed(session)
    assert main(["cases", "--overdue"]) == 0
    out = capsys.readouterr().out
    assert "Pratiche con il prossimo passo scaduto al 11/12/2026: 2" in out
    rows = [line for line in out.splitlines() if line.startswith("BG-")]
    assert [r.split()[0] for r in rows] == [codes["late"], codes["course"]]  # oldest first
    assert "03/12/2026    5 gg" in rows[0]
    assert "chiedere il consenso a comunicare i dati al CPIA" in rows[0] and "Centro per l'Impiego di" in rows[0]
    assert "comunicare l'esito del corso di italiano · CPIA Bergamo - Sede di Bergamo" in rows[1]
    assert "ask_consent_cpia" not in out and "Diallo" not in out
    assert main(["cases", "--stuck", "--overdue"]) == 0
    both = capsys.readouterr().out
    assert "senza prossimo passo" in both and "scaduto" in both
    assert main(["cases", "--state", "literacy"]) == 0
    listing = capsys.readouterr().out
    assert "corso di italiano (CPIA)" in listing and "comunicare l'esito del corso di italiano" in listing
    assert "literacy_course" not in listing


@time_machine.travel(TODAY, tick=False)
def test_steps_per_office_in_the_kpis_and_the_funnel_artifact(session: Session) -> None:
    _seed(session)
    rows = steps_by_office(session, date(2026, 12, 11))
    got = [(r["office"], r["open"], r["without_step"], r["overdue"], r["oldest_due"], r["max_late_bd"]) for r in rows]
    assert got == [
        ("CPI-BG", 2, 1, 0, None, None),
        ("CPI-TRV", 2, 0, 2, date(2026, 12, 3), 5),
        ("—", 1, 1, 0, None, None),
        ("Totale", 5, 2, 2, date(2026, 12, 3), 5),
    ]
    text = funnel_markdown(session)
    assert "## Prossimi passi per CPI al 11/12/2026" in text
    assert "| CPI-TRV | 2 | 0 | 2 | 5 |" in text and "| Totale | 5 | 2 | 2 | 5 |" in text
