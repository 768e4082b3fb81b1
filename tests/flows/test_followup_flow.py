"""The 180-day check by the CPI's Prefect form (flows/outcomes.py: follow_up), on a real Prefect."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import clock
from models.cases import Case
from models.enums import OutcomeKind, State
from models.exchange import Outcome
from models.forms import FollowUpAnswer
from tasks.outcomes import record_outcome_file
from tests.factories import make_case, seed_partners


def _operator(box: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    """Answer the paused form twice: first with an impossible date, then as asked again."""
    from deploy.client import resume
    from tasks.runtime.prefect_api import form_inputs, paused_runs

    deadline = time.monotonic() + 90
    seen: set[Any] = set()
    while time.monotonic() < deadline and answers:
        runs = [r for r in paused_runs() if (r.id, r.state.state_details.pause_key if r.state else None) not in seen]
        if runs:
            run = runs[0]
            seen.add((run.id, run.state.state_details.pause_key if run.state else None))
            box.setdefault("asked", []).append(form_inputs(run.id))
            resume(run.id, {"follow_ups": answers.pop(0)})
        time.sleep(0.3)


def test_the_cpi_answers_the_follow_up_form_and_is_asked_again_on_a_wrong_date(engine: Engine, tmp_path: Path) -> None:
    from flows.outcomes import follow_up

    today = clock.today()
    started = today - timedelta(days=200)
    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        kept, gone = (make_case(s, state=State.INTERVIEW, office="CPI-GRU") for _ in range(2))
        other = make_case(s, state=State.INTERVIEW, office="CPI-PSP")
        path = tmp_path / "esiti.csv"
        path.write_text(
            "Codice pratica;Esito;Azienda;Data inizio;Durata giorni\n"
            + "".join(f"{c.code};assunto;COMP-GOMMA-ISOLA;{started:%d/%m/%Y};365\n" for c in (kept, gone, other)),
            encoding="utf-8",
        )
        assert record_outcome_file(s, path, "CPI-GRU") == {"hired": 3}
        s.commit()

    def rows(left_on: date) -> list[dict[str, Any]]:
        return [
            {"case_code": kept.code, "outcome": FollowUpAnswer.EMPLOYED.value, "observed_on": None},
            {"case_code": gone.code, "outcome": FollowUpAnswer.LEFT.value, "observed_on": left_on.isoformat()},
        ]

    box: dict[str, Any] = {}
    operator = threading.Thread(
        target=_operator, args=(box, [rows(today + timedelta(days=3)), rows(today - timedelta(days=40))])
    )
    operator.start()
    result = follow_up(office="CPI-GRU")
    operator.join(timeout=60)

    assert result == {"due": 2, "recorded": {"employed_180": 1, "left_180": 1}, "attempts": 2}
    first = box["asked"][0]
    assert sorted(r["case_code"] for r in first) == sorted([kept.code, gone.code])  # CPI-GRU's only
    assert {r["outcome"] for r in first} == {"da verificare"}
    with Session(engine) as s:
        checks = {
            o.case_id: (o.kind, o.observed_on)
            for o in s.exec(select(Outcome).where(Outcome.kind != OutcomeKind.HIRED)).all()
        }
        assert checks == {
            kept.id: (OutcomeKind.EMPLOYED_180, today),
            gone.id: (OutcomeKind.LEFT_180, today - timedelta(days=40)),
        }
        waiting = s.get(Case, other.id)
        assert waiting is not None and waiting.next_step == "follow_up_180"  # another CPI's: untouched
