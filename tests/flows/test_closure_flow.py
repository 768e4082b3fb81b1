"""The coordinators close cases from a Prefect form (issue 18), under the Prefect test harness, a
real app database and a real SMTP server: a wrong answer is asked again with the problems in
Italian; the right one closes the cases and the referrer is told by name, with consent."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.cases import Case, CaseEvent
from models.enums import ConsentPurpose, State
from tasks.mail.smtp_sink import MailSink
from tests.factories import make_case, seed_partners
from tests.invariants import assert_no_dead_ends

TOLD = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT)


def _coordinator(answers: list[list[dict[str, Any]]], asked: list[dict[str, Any]]) -> None:
    """Answer each form the run asks in turn, noting its rows and description (another thread)."""
    from prefect import get_client

    from deploy.client import resume
    from tasks.runtime.prefect_api import form_schema, paused_runs

    seen: set[str] = set()
    deadline = time.monotonic() + 120
    while answers and time.monotonic() < deadline:
        runs = [r for r in paused_runs() if r.state and r.state.state_details.pause_key not in seen]
        if not runs:
            time.sleep(0.3)
            continue
        run = runs[0]
        seen.add(str(run.state.state_details.pause_key))
        props = form_schema(run.id, 30)["properties"]
        with get_client(sync_client=True) as client:
            keyset = run.state.state_details.run_input_keyset
            description = client.read_flow_run_input(flow_run_id=run.id, key=keyset["description"])
        asked.append({"rows": props["closures"]["default"], "description": description})
        resume(run.id, {"closures": answers.pop(0)})


def test_the_form_closes_cases_and_tells_the_referrer(engine: Engine, mail: MailSink) -> None:
    from flows.closure import close_cases

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        moved = make_case(
            s,
            state=State.LITERACY,
            office="CPI-LOV",
            referrer="AMBITO-SERIANA",
            consents=TOLD,
            family_name="Hrytsenko",
            given_names="Oksana",
        )
        lost = make_case(s, state=State.NO_SHOW, office="CPI-LOV", referrer="CARITAS-SER", family_name="Sow")
        hired = make_case(s, state=State.HIRED, office="CPI-LOV")
    wrong = [
        {"case_code": moved.code, "reason": "trasferita fuori dal territorio"},
        {"case_code": lost.code, "reason": None},
        {"case_code": hired.code, "reason": "non più reperibile"},
    ]
    right = [
        {"case_code": moved.code, "reason": "trasferita fuori dal territorio"},
        {"case_code": lost.code, "reason": "assenze ripetute agli appuntamenti"},
    ]
    asked: list[dict[str, Any]] = []
    coordinator = threading.Thread(target=_coordinator, args=([wrong, right], asked))
    coordinator.start()
    result = close_cases(case_codes=[moved.code, lost.code])
    coordinator.join(timeout=60)

    assert (result["closed"], result["attempts"]) == (2, 2)
    first, second = asked
    assert [r["case_code"] for r in first["rows"]] == [moved.code, lost.code]
    assert "Chiusura di pratiche" in first["description"]
    assert f"{lost.code}: scegliere il motivo della chiusura" in second["description"]
    assert f"{hired.code}: la pratica è conclusa con un'assunzione" in second["description"]
    assert second["rows"] == wrong  # asked again, pre-filled with the answer given

    with Session(engine) as s:
        rows = s.exec(
            select(Case.code, CaseEvent.reason, CaseEvent.actor)
            .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
            .where(col(CaseEvent.to_state) == State.CLOSED)
            .order_by(col(Case.code))
        ).all()
        assert {(code, reason) for code, reason, _ in rows} == {
            (moved.code, "moved_away"),
            (lost.code, "no_show_repeated"),
        }
        assert s.exec(select(Case.state).where(Case.code == hired.code)).one() is State.HIRED
    (told,) = [m for m in mail.messages if m.kind == "case_closed"]  # CARITAS-SER has no consent to be told
    assert told.rcpt_tos == ("servizi.sociali@ambito-valleseriana.example",)
    body = told.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Oksana Hrytsenko" in body and "trasferita fuori dal territorio" in body and moved.code in body
    assert "Sow" not in body
    with Session(engine) as s:
        assert_no_dead_ends(s)
