"""Closing a case with a typed reason (issue 18): the move, the refusals, the note kept out of
Prefect, and the referrer told by name with the person's consent, once."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cli.main import main
from deploy.stack import free_port
from models.cases import Case, CaseEvent
from models.enums import CloseReason, ConsentPurpose, OutboxStatus, State
from models.ops import AuditLog, Outbox
from tasks.core.closure import (
    CLOSURE_LABELS,
    OPERATOR_REASONS,
    ClosureReason,
    ClosureRefused,
    close_cases,
    parse_reason,
)
from tasks.mail.closure_notice import tell_referrers, untold_closures
from tests.cli import run_cli
from tests.factories import make_case, seed_partners

CPI = ConsentPurpose.CPI_PROCESSING
TOLD = (CPI, ConsentPurpose.REFERRER_CONTACT)
WEDNESDAY = "2026-12-09 11:30 +01:00"


def _events(session: Session, case_id: int | None) -> list[tuple[State, str | None, str]]:
    rows = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))).all()
    return [(State(e.to_state), e.reason, e.actor) for e in rows]


def test_the_operator_reasons_read_as_italian_and_reuse_the_one_enum() -> None:
    assert ClosureReason is CloseReason  # no twin enum
    assert {r.value for r in OPERATOR_REASONS} == {
        "moved_away",
        "found_job_alone",
        "not_reachable",
        "not_interested",
        "no_show_repeated",
        "other",
    }
    for reason in OPERATOR_REASONS:
        label = CLOSURE_LABELS[reason]
        assert "_" not in label and label != reason.value
    assert parse_reason("Trasferita fuori dal territorio") is CloseReason.MOVED_AWAY  # by its label too
    assert parse_reason("moved-away") is CloseReason.MOVED_AWAY
    with pytest.raises(ClosureRefused, match="motivo di chiusura non previsto"):
        parse_reason("retention")  # the retention sweep's own reason, not an operator's
    with pytest.raises(ClosureRefused, match="non previsto: «sposata»"):
        parse_reason("sposata")


@time_machine.travel(WEDNESDAY, tick=False)
def test_closing_moves_the_cases_records_the_reason_and_clears_the_step(session: Session) -> None:
    seed_partners(session)
    moved = make_case(
        session, state=State.PROFILE_READY, office="CPI-ZOG", family_name="Kovalenko", given_names="Olena"
    )
    absent = make_case(session, state=State.NO_SHOW, office="CPI-ZOG", family_name="Bondarenko", given_names="Taras")
    assert moved.next_step is not None

    closed = close_cases(
        session, [moved.code, f" {absent.code.lower()} "], "moved_away", note=None, actor="operatore:g.bonfanti"
    )
    session.commit()
    session.expire_all()

    assert closed == [moved.code, absent.code]
    for case in (moved, absent):
        assert case.state is State.CLOSED
        assert (case.next_step, case.owner, case.next_due) == (None, None, None)
        assert _events(session, case.id)[-1] == (State.CLOSED, "moved_away", "operatore:g.bonfanti")
    audit = session.exec(select(AuditLog).where(AuditLog.case_code == moved.code)).all()
    assert [a.action for a in audit] == ["case_closed"]
    assert "trasferita fuori dal territorio" in audit[0].purpose and "2026-12-09" in audit[0].purpose


def test_other_needs_a_note_which_stays_in_the_audit_log_not_in_the_history(session: Session) -> None:
    seed_partners(session)
    case = make_case(session, state=State.LITERACY, office="CPI-CLU")
    with pytest.raises(ClosureRefused, match="serve una nota"):
        close_cases(session, [case.code], CloseReason.OTHER, note="   ", actor="operatore:m.rota")
    session.rollback()
    note = "Rientrata a Leopoli per assistere la madre, tel. 333 1234567"
    close_cases(session, [case.code], CloseReason.OTHER, note=note, actor="operatore:m.rota")
    session.commit()
    event_reasons = [reason for _, reason, _ in _events(session, case.id)]
    assert event_reasons[-1] == "other" and not any("Leopoli" in (r or "") for r in event_reasons)
    audit = session.exec(select(AuditLog).where(AuditLog.case_code == case.code)).one()
    assert audit.actor == "operatore:m.rota" and note in audit.purpose


def test_unknown_or_already_closed_codes_refuse_the_whole_batch(session: Session) -> None:
    seed_partners(session)
    open_case = make_case(session, state=State.DISPATCHED)
    hired = make_case(session, state=State.HIRED)
    with pytest.raises(ClosureRefused) as refused:
        close_cases(
            session,
            [open_case.code, hired.code, "BG-2026-999999"],
            CloseReason.NOT_INTERESTED,
            note=None,
            actor="operatore:m.rota",
        )
    message = str(refused.value)
    assert f"{hired.code}: la pratica è conclusa con un'assunzione" in message
    assert "BG-2026-999999: pratica non trovata" in message
    assert "hired" not in message  # never the raw state
    session.rollback()
    session.expire_all()
    assert open_case.state is State.DISPATCHED  # nothing moved
    with pytest.raises(ClosureRefused, match="nessuna pratica indicata"):
        close_cases(session, [" "], CloseReason.NOT_INTERESTED, note=None, actor="operatore:m.rota")


@time_machine.travel(WEDNESDAY, tick=False)
def test_the_referrer_is_told_by_name_once_and_only_with_consent(session: Session) -> None:
    seed_partners(session)
    told = make_case(
        session,
        state=State.INTERVIEW,
        office="CPI-TRE",
        referrer="ASSOC-PONTE-UCRAINA",
        consents=TOLD,
        family_name="Shevchenko",
        given_names="Iryna",
    )
    silent = make_case(session, state=State.POLICY, office="CPI-TRE", referrer="CARITAS-TRV", family_name="Melnyk")
    codes = close_cases(
        session, [told.code, silent.code], CloseReason.FOUND_JOB_ALONE, note=None, actor="operatore:l.testa"
    )
    assert tell_referrers(session, codes) == 1
    session.commit()
    assert tell_referrers(session, codes) == 0  # a rerun adds nothing
    assert untold_closures(session, since=told.created_at) == [silent.code]  # no consent: never told

    row = session.exec(select(Outbox).where(Outbox.kind == "case_closed")).one()
    assert row.status is OutboxStatus.PENDING
    assert (row.case_code, row.recipient_code) == (told.code, "ASSOC-PONTE-UCRAINA")
    assert row.consent_purpose == ConsentPurpose.REFERRER_CONTACT.value and row.person_key == told.person_key
    assert "Iryna Shevchenko" in row.body_text and "ha trovato lavoro autonomamente" in row.body_text
    assert "mercoledì 9 dicembre 2026" in row.body_text
    assert "Trescore Balneario" in row.body_text  # the office by name, not its code
    assert "CPI-TRE" not in row.body_text and "found_job_alone" not in row.body_text + row.subject
    assert "Melnyk" not in row.body_text


def test_the_cli_lists_exactly_the_operator_reasons() -> None:
    from cli.cases import REASON_CODES

    assert REASON_CODES == tuple(r.value for r in OPERATOR_REASONS)


def test_incontro_close_from_a_new_terminal(engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Session(engine, expire_on_commit=False) as session:
        seed_partners(session)
        gone = make_case(
            session,
            state=State.NOT_SELECTED,
            office="CPI-ROM",
            referrer="CARITAS-BG",
            consents=TOLD,
            family_name="Traoré",
            given_names="Moussa",
        )
        other = make_case(session, state=State.INTAKE_SCHEDULED, office="CPI-ROM")
    done = run_cli(
        "close",
        gone.code,
        "--reason",
        "not_reachable",
        "--actor",
        "op.ghilardi",
        prefect_home=str(tmp_path / "prefect"),
        INCONTRO_VAR_DIR=str(tmp_path / "var"),
        INCONTRO_PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api",  # no server: closing still works
    )
    assert done.returncode == 0, done.stderr
    assert f"1 pratica chiusa (non più reperibile), registrato a nome di op.ghilardi: {gone.code}" in done.stdout
    assert "1 email di avviso" in done.stdout and "Traoré" not in done.stdout + done.stderr
    with Session(engine) as session:
        assert session.exec(select(Case.state).where(Case.code == gone.code)).one() is State.CLOSED
        assert session.exec(select(Outbox.recipient_code).where(Outbox.kind == "case_closed")).all() == ["CARITAS-BG"]

    assert main(["close", gone.code, "--reason", "moved_away", "--actor", "op"]) == 2
    assert f"{gone.code}: la pratica è già chiusa" in capsys.readouterr().err
    assert main(["close", other.code, "--reason", "other", "--actor", "op"]) == 2
    assert "serve una nota" in capsys.readouterr().err
    assert main(["close", other.code, "--reason", "trasferito", "--actor", "op"]) == 2
    err = capsys.readouterr().err
    assert "motivo di chiusura non previsto" in err and "non più interessata al percorso" in err
    with Session(engine) as session:
        assert session.exec(select(Case.state).where(Case.code == other.code)).one() is State.INTAKE_SCHEDULED


@time_machine.travel(WEDNESDAY, tick=False)
def test_the_sweep_tells_the_referrer_of_a_closure_made_elsewhere(session: Session) -> None:
    from tasks.maintenance import tell_untold_closures

    seed_partners(session)
    case = make_case(session, state=State.INTEREST, office="CPI-SER", referrer="CARITAS-SER", consents=TOLD)
    close_cases(session, [case.code], "not_interested", note=None, actor="sportello:a.pesenti")  # the desk
    session.commit()
    assert session.exec(select(Outbox).where(Outbox.kind == "case_closed")).all() == []
    assert tell_untold_closures(session) == 1
    session.commit()
    assert tell_untold_closures(session) == 0  # told once
    row = session.exec(select(Outbox).where(Outbox.kind == "case_closed")).one()
    assert row.recipient_code == "CARITAS-SER" and "non più interessata al percorso" in row.body_text
