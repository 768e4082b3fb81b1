"""A comune never refuses a referral: what names no CPI waits for the coordinators ("CPI da
assegnare"), who assign one; the case then goes on to intake (tasks/referral/offices.py).

Real parts: the migrated SQLite app database, the real import steps, intake scheduling and the
CLI's ``main``; only the hand-over of events to Prefect is recorded instead of sent.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cli.main import main
from deploy.stack import free_port
from models.cases import Case, CaseEvent
from models.enums import State
from models.ops import ImportRow, Outbox
from models.people import Person
from tasks.core.routing import ASSIGN_OFFICE
from tasks.intake import schedule_intakes
from tasks.referral.ingest import accept_import, acknowledge_import, deduplicate_import, ingest_referral_file
from tasks.referral.offices import AssignRefused, assign_office, waiting_for_office
from tasks.runtime import events
from tasks.runtime.event_names import REFERRAL_ACCEPTED
from tasks.runtime.events import EventSpec
from tests.cli import run_cli
from tests.factories import make_case, seed_partners

# A Caritas listening centre's export: its own habits for the comune column.
ROWS = [
    ("Kovalenko", "Olena", "Bergamo (BG)"),
    ("Diallo", "Mamadou", "Dalmine (Bg)"),
    ("Quispe", "José", "Romano di Lomb."),
    ("Gómez", "María", "Zingonia"),
    ("Bah", "Ibrahima", ""),
    ("Rossi", "Luca", "Milano"),
    ("Sala", "Marta", "Torre de' Busi"),
    ("Ndiaye", "Awa", "BG"),
    ("Petrenko", "Iryna", "senza fissa dimora"),
]


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list[EventSpec]:
    """The events handed to Prefect after each commit (recorded, no server in unit tests)."""
    out: list[EventSpec] = []
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


def _file(tmp_path: Path) -> Path:
    lines = ["Cognome;Nome;Data di nascita;Comune di residenza;Consenso privacy"]
    lines += [f"{f};{g};0{i + 1}/02/1990;{town};SI" for i, (f, g, town) in enumerate(ROWS)]
    path = tmp_path / "ascolto_caritas.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _import(session: Session, tmp_path: Path) -> dict[str, Case]:
    seed_partners(session)
    summary = ingest_referral_file(session, _file(tmp_path), "CARITAS-BG")
    assert (summary.accepted_rows, summary.rejected_rows) == (len(ROWS), 0)
    deduplicate_import(session, summary.import_id)
    counts = accept_import(session, summary.import_id)
    assert counts == {"accepted": 5, "waiting_office": 4}
    acknowledge_import(session, summary.import_id)
    session.commit()
    rows = session.exec(select(Person.family_name, Case).join(Case, col(Case.person_key) == col(Person.key))).all()
    return {name: case for name, case in rows}


def test_no_row_is_refused_for_its_comune_and_the_rest_waits_with_a_reason(session: Session, tmp_path: Path) -> None:
    cases = _import(session, tmp_path)
    assert session.exec(select(ImportRow)).all() == []
    offices = {name: c.office_code for name, c in cases.items() if c.state is State.ACCEPTED}
    assert offices == {
        "Kovalenko": "CPI-BG",
        "Diallo": "CPI-BG",
        "Quispe": "CPI-ROM",
        "Gómez": "CPI-BG",  # Zingonia: five comuni, one CPI
        "Sala": "CPI-PSP",  # Torre de' Busi, in the province since 2018
    }
    waiting = {name: c for name, c in cases.items() if c.state is State.REFERRED}
    assert {n: c.next_step_reason for n, c in waiting.items()} == {
        "Bah": "empty",
        "Rossi": "out_of_province",
        "Ndiaye": "unresolved",
        "Petrenko": "empty",
    }
    assert all(c.next_step == ASSIGN_OFFICE and c.office_code is None and c.next_due for c in waiting.values())
    assert {c.owner for c in waiting.values()} == {"coordinators"}
    # the comune is stored by its official name when known, as written otherwise
    towns = dict(session.exec(select(Person.family_name, Person.municipality)).all())
    assert towns["Diallo"] == "Dalmine" and towns["Quispe"] == "Romano di Lombardia"
    assert towns["Gómez"] == "Zingonia" and towns["Bah"] is None
    queue = waiting_for_office(session)
    assert sorted(w.code for w in queue) == sorted(c.code for c in waiting.values())
    assert {w.label for w in queue} == {
        "comune non indicato",
        "comune fuori provincia",
        "comune non riconosciuto o ambiguo",
    }


def test_the_acknowledgement_says_how_many_rows_wait_for_a_cpi(session: Session, tmp_path: Path) -> None:
    _import(session, tmp_path)
    (ack,) = session.exec(select(Outbox).where(Outbox.kind == "referral_ack")).all()
    assert "Di queste, 4 attendono l'assegnazione del Centro per l'Impiego" in ack.body_text
    assert "CPI da assegnare" in ack.body_text and "Segnalazioni scartate: 0" in ack.body_text
    assert "attendono l'assegnazione del Centro per l'Impiego" in (ack.body_html or "")


def test_an_assigned_case_is_accepted_and_picked_up_by_the_next_intake_run(
    session: Session, tmp_path: Path, sent: list[EventSpec]
) -> None:
    cases = _import(session, tmp_path)
    rossi = cases["Rossi"]
    sent.clear()
    assert assign_office(session, rossi.code, "CPI-TRV", actor="coord.rossi") is State.ACCEPTED
    session.commit()
    assert (rossi.state, rossi.office_code, rossi.next_step_reason) == (State.ACCEPTED, "CPI-TRV", None)
    assert rossi.next_step != ASSIGN_OFFICE and rossi.owner == "CPI-TRV"  # the office's step now
    last = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == rossi.id).order_by(col(CaseEvent.id).desc())
    ).first()
    assert last is not None and (last.actor, last.reason, last.to_state) == (
        "coord.rossi",
        "office:CPI-TRV",
        State.ACCEPTED,
    )
    assert [s.name for s in sent if s.name == REFERRAL_ACCEPTED] == [REFERRAL_ACCEPTED]  # starts the intake stage
    scheduled = schedule_intakes(session, today=date(2026, 9, 7))
    assert rossi.code in scheduled["CPI-TRV"] and rossi.state is State.INTAKE_SCHEDULED
    assert rossi.code not in {w.code for w in waiting_for_office(session)}


def test_assignment_is_refused_with_a_reason(session: Session, tmp_path: Path) -> None:
    cases = _import(session, tmp_path)
    with pytest.raises(AssignRefused, match="CPI sconosciuto"):
        assign_office(session, cases["Bah"].code, "CPI-XX", actor="coord")
    with pytest.raises(AssignRefused, match="inesistente"):
        assign_office(session, "BG-2026-999999", "CPI-BG", actor="coord")
    with pytest.raises(AssignRefused, match="non è in attesa di un CPI: è già del CPI-BG"):
        assign_office(session, cases["Diallo"].code, "CPI-TRV", actor="coord")


def test_a_waiting_case_without_consent_is_not_accepted_by_an_assignment(session: Session) -> None:
    seed_partners(session)
    case = make_case(session, office=None, consents=(), municipality="Milano")
    case.next_step, case.next_step_reason = ASSIGN_OFFICE, "out_of_province"
    session.commit()
    assert assign_office(session, case.code, "CPI-BG", actor="coord") is State.REJECTED
    last = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id).desc())
    ).first()
    assert last is not None and (last.to_state, last.reason) == (State.REJECTED, "no_consent")


def test_cli_lists_the_queue_and_assigns_without_personal_data(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        cases = _import(session, tmp_path)
    code = cases["Ndiaye"].code
    assert main(["office-queue"]) == 0
    listing = capsys.readouterr().out
    assert code in listing and "comune non riconosciuto o ambiguo" in listing
    assert "(4 pratiche in attesa di un CPI)" in listing
    assert main(["cases", "--next-step", "assign_office"]) == 0
    assert code in capsys.readouterr().out
    # as an operator in a new terminal, with no Prefect server running: the sweep will schedule it
    done = run_cli(
        "assign-office",
        code,
        "--office",
        "CPI-BG",
        "--actor",
        "coord.bianchi",
        prefect_home=str(tmp_path / "prefect"),
        INCONTRO_VAR_DIR=str(tmp_path / "var"),
        INCONTRO_PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api",
    )
    assert done.returncode == 0, done.stderr
    assert f"pratica {code} assegnata a CPI-BG e accettata" in done.stdout and "giro di controllo" in done.stdout
    assert "Traceback" not in done.stderr
    with Session(engine) as session:
        assert session.exec(select(Case.state).where(Case.code == code)).one() is State.ACCEPTED
    assert main(["assign-office", code, "--office", "CPI-BG", "--actor", "coord"]) == 2
    assert "non è in attesa di un CPI" in capsys.readouterr().err
    printed = listing + done.stdout + done.stderr
    for family, given, town in ROWS:
        assert family not in printed and given not in printed
        assert town in ("", "BG") or town not in printed
