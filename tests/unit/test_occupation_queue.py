"""Unsure occupation codes of vacancies, listed for a person to confirm (issue 21).

``incontro occupation-queue`` lists the open positions whose code the coder was unsure of, with the
title as written, the code matched on now, the confidence and the three proposals in Italian;
``incontro confirm-occupation`` confirms or replaces the code (checked against the taxonomy,
audited), takes the position off the list and, when the code changes, matches it again.

Real parts: the migrated SQLite app database, the real vacancy import, occupation coder, matching,
shortlist emails and CLI (``main`` in process and ``incontro`` in a new process); only the
hand-over of events to Prefect is recorded instead of sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cli.main import main
from config.data import load_taxonomy
from deploy.stack import free_port
from models import clock
from models.enums import Cefr, State, VacancyStatus
from models.exchange import Match, Vacancy
from models.ops import AuditLog, Outbox
from tasks.matching.occupations import CONFIRM_BELOW, default_coder
from tasks.matching.vacancy_codes import ConfirmRefused, confirm_occupation, unsure_occupations
from tasks.runtime import events
from tasks.runtime.event_names import VACANCY_RECEIVED
from tasks.runtime.events import EventSpec
from tasks.vacancies import UNSURE_NOTE, ingest_vacancy_file, match_vacancies, send_shortlists
from tests.cli import run_cli
from tests.factories import make_case, seed_partners

TODAY = datetime(2026, 12, 4, 9, 0)  # UTC; 10:00 in Bergamo

POSITIONS = (
    "Azienda;Mansione;Sede;Livello di italiano;Scadenza\r\n"
    "COMP-OFFICINE-VALSERIANA;Saldatore;Bergamo;A2;31/01/2027\r\n"  # sure
    "COMP-OFFICINE-VALSERIANA;Operatore;Bergamo;A2;31/01/2027\r\n"  # unsure, open
    "COMP-GOMMA-ISOLA;Operaio generico;Bergamo;A2;\r\n"  # unsure, open, no deadline
    "COMP-GOMMA-ISOLA;Operatore;Bergamo;A2;30/11/2026\r\n"  # unsure, deadline passed: closed
    "Plastica Rossi S.r.l.;Operatore;Bergamo;A2;31/01/2027\r\n"  # unsure, waiting for its company
)


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list[EventSpec]:
    """The events handed to Prefect after each commit (recorded, no server in unit tests)."""
    out: list[EventSpec] = []
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


def _import(session: Session, tmp_path: Path) -> tuple[int, dict[tuple[str, str | None], Vacancy]]:
    """The positions file imported (partners seeded before); its vacancies by (title, company)."""
    path = tmp_path / "posizioni.csv"
    path.write_text(POSITIONS, encoding="utf-8")
    import_id, _ = ingest_vacancy_file(session, path, "CONFINDUSTRIA-BG")
    session.commit()
    assert import_id is not None
    stored = session.exec(select(Vacancy).order_by(col(Vacancy.id))).all()
    return import_id, {(v.title, v.company_code or v.company_written): v for v in stored}


def _occupation_part(session: Session, vacancy: Vacancy, case_id: int | None) -> float | None:
    """The occupation part of the case's match with the vacancy, None when it is not ranked."""
    match = session.exec(select(Match).where(Match.vacancy_id == vacancy.id, Match.case_id == case_id)).first()
    return None if match is None else float(match.parts["occupation"])


@time_machine.travel(TODAY, tick=False)
def test_the_queue_lists_only_open_positions_whose_code_is_unsure(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    _, by = _import(session, tmp_path)
    operatore = by[("Operatore", "COMP-OFFICINE-VALSERIANA")]
    generico = by[("Operaio generico", "COMP-GOMMA-ISOLA")]
    closed = by[("Operatore", "COMP-GOMMA-ISOLA")]
    waiting = by[("Operatore", "Plastica Rossi S.r.l.")]
    assert closed.status is VacancyStatus.CLOSED and waiting.status is VacancyStatus.AWAITING_COMPANY
    assert all(v.occupation_score is not None and v.occupation_score < CONFIRM_BELOW for v in (closed, waiting))

    queue = unsure_occupations(session)
    assert [q.code for q in queue] == [operatore.code, generico.code]  # oldest first; sure, closed, waiting left out
    first = queue[0]
    names = load_taxonomy().by_code
    assert (first.title, first.occupation_code, first.confidence) == (
        "Operatore",
        operatore.occupation_code,
        operatore.occupation_score,
    )
    assert first.company_code == "COMP-OFFICINE-VALSERIANA" and first.import_id == operatore.import_file_id
    assert first.occupation_code is not None and first.occupation_label == names[first.occupation_code].it
    assert first.confidence is not None and first.confidence < CONFIRM_BELOW
    expected = default_coder().suggest("Operatore")
    assert [c.code for c in first.candidates] == [c for c, _ in expected.candidates] and len(first.candidates) == 3
    assert all(c.label == names[c.code].it for c in first.candidates)  # the Italian names, not the codes
    assert first.doubt == expected.doubt and first.doubt  # why it is unsure, in words
    assert "mestiere" in queue[1].doubt  # «operaio generico» says no trade
    assert [q.code for q in unsure_occupations(session, limit=1)] == [operatore.code]
    # the day after a deadline the position leaves the list with it
    later = clock.today().replace(year=2027, month=2, day=1)
    assert [q.code for q in unsure_occupations(session, today=later)] == [generico.code]


@time_machine.travel(TODAY, tick=False)
def test_a_new_code_is_checked_audited_and_the_position_matched_again(
    session: Session, tmp_path: Path, sent: list[EventSpec]
) -> None:
    seed_partners(session)
    welder = make_case(session, state=State.PROFILE_READY, profile={"occupations": ["7212"], "italian": Cefr.B1})
    import_id, by = _import(session, tmp_path)
    operatore = by[("Operatore", "COMP-OFFICINE-VALSERIANA")]
    before = operatore.occupation_code
    assert before is not None and before != "7212"
    guessed = make_case(session, state=State.PROFILE_READY, profile={"occupations": [before], "italian": Cefr.B1})
    match_vacancies(session, import_id, today=clock.today())
    session.commit()
    # ranked on the coder's guess: the person of the guessed code first, the welder lower or not at all
    assert _occupation_part(session, operatore, guessed.id) == 1.0
    assert (_occupation_part(session, operatore, welder.id) or 0.0) < 1.0
    sent.clear()

    # an unknown code is refused in Italian, with the position's proposals, and nothing changes
    with pytest.raises(ConfirmRefused, match="codice 9999 sconosciuto") as refused:
        confirm_occupation(session, operatore.code, "9999", actor="coord.bianchi")
    session.rollback()
    assert "non è un codice ISCO-08" in str(refused.value)
    assert all(c in str(refused.value) for c, _ in default_coder().suggest("Operatore").candidates)
    with pytest.raises(ConfirmRefused, match="posizione VAC-9999-0001 inesistente"):
        confirm_occupation(session, "VAC-9999-0001", "7212", actor="coord.bianchi")
    closed = by[("Operatore", "COMP-GOMMA-ISOLA")]
    with pytest.raises(ConfirmRefused, match="è chiusa"):
        confirm_occupation(session, closed.code, "7212", actor="coord.bianchi")
    session.rollback()
    assert session.exec(select(AuditLog).where(AuditLog.action == "confirm_occupation")).all() == []
    assert session.get(Vacancy, operatore.id).occupation_code == before  # type: ignore[union-attr]

    done = confirm_occupation(session, operatore.code, " 7212 ", actor="coord.bianchi")
    session.commit()
    assert (done.before, done.changed, done.rematch, done.decided) == (before, True, True, False)
    stored = session.get(Vacancy, operatore.id)
    assert stored is not None and (stored.occupation_code, stored.occupation_score) == ("7212", 100.0)
    assert operatore.code not in [q.code for q in unsure_occupations(session)]
    (audit,) = session.exec(select(AuditLog).where(AuditLog.action == "confirm_occupation")).all()
    assert audit.actor == "coord.bianchi" and audit.purpose == f"{operatore.code}: {before} → 7212"
    assert audit.case_code is None
    assert [(s.name, s.payload) for s in sent] == [(VACANCY_RECEIVED, {"vacancies": 1, "import_id": import_id})]
    assert session.exec(select(Match).where(Match.vacancy_id == operatore.id)).all() == []  # the old ranking goes
    # the matching the event starts ranks the position again, on the person's code
    again = match_vacancies(session, import_id, today=clock.today())
    session.commit()
    assert again["matches"] >= 1
    assert _occupation_part(session, operatore, welder.id) == 1.0
    # the shortlist email of a position still unsure says so; of a confirmed one, not
    generico = by[("Operaio generico", "COMP-GOMMA-ISOLA")]
    decisions: list[dict[str, Any]] = [
        {"vacancy_code": operatore.code, "approved": [welder.code]},
        {"vacancy_code": generico.code},
    ]
    assert send_shortlists(session, import_id, decisions) == 2
    session.commit()
    mails = {m.subject: m.body_text for m in session.exec(select(Outbox).where(Outbox.kind == "vacancy_shortlist"))}
    confirmed = next(body for subject, body in mails.items() if operatore.code in subject)
    unsure = next(body for subject, body in mails.items() if generico.code in subject)
    assert UNSURE_NOTE in unsure and UNSURE_NOTE not in confirmed


@time_machine.travel(TODAY, tick=False)
def test_the_same_code_is_only_confirmed_and_a_decided_shortlist_stays(
    session: Session, tmp_path: Path, sent: list[EventSpec]
) -> None:
    seed_partners(session)
    make_case(session, state=State.PROFILE_READY, profile={"occupations": ["9329"], "italian": Cefr.B1})
    import_id, by = _import(session, tmp_path)
    generico, operatore = by[("Operaio generico", "COMP-GOMMA-ISOLA")], by[("Operatore", "COMP-OFFICINE-VALSERIANA")]
    match_vacancies(session, import_id, today=clock.today())
    session.commit()
    ranked = len(session.exec(select(Match).where(Match.vacancy_id == generico.id)).all())
    assert ranked >= 1
    sent.clear()

    same = confirm_occupation(session, generico.code, str(generico.occupation_code), actor="coord")
    session.commit()
    assert (same.changed, same.rematch) == (False, False) and sent == []
    assert [q.code for q in unsure_occupations(session)] == [operatore.code]
    audit = session.exec(select(AuditLog).where(AuditLog.action == "confirm_occupation")).one()
    assert audit.purpose.endswith("(confermato)")
    assert len(session.exec(select(Match).where(Match.vacancy_id == generico.id)).all()) == ranked

    # once the shortlist is decided and sent, a new code is recorded but the sent ranking stays
    send_shortlists(session, import_id, [{"vacancy_code": generico.code, "approved": []}])
    session.commit()
    kept = session.exec(select(Match.id).where(Match.vacancy_id == generico.id)).all()
    late = confirm_occupation(session, generico.code, "9313", actor="coord")
    session.commit()
    assert (late.changed, late.decided, late.rematch) == (True, True, False) and sent == []
    assert session.exec(select(Match.id).where(Match.vacancy_id == generico.id)).all() == kept
    assert session.get(Vacancy, generico.id).occupation_code == "9313"  # type: ignore[union-attr]


def test_the_cli_lists_the_queue_and_confirms_a_code(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel(TODAY, tick=False), Session(engine, expire_on_commit=False) as session:
        seed_partners(session)
        _, by = _import(session, tmp_path)
    operatore = by[("Operatore", "COMP-OFFICINE-VALSERIANA")]
    generico = by[("Operaio generico", "COMP-GOMMA-ISOLA")]
    names = load_taxonomy().by_code
    with time_machine.travel(TODAY, tick=False):
        assert main(["occupation-queue"]) == 0
        listing = capsys.readouterr().out
        assert "posizione" in listing and "sicurezza" in listing and "professione attuale" in listing
        assert operatore.code in listing and generico.code in listing
        assert "titolo nel file: «Operatore»" in listing and "perché è incerto:" in listing
        assert str(operatore.occupation_code) in listing and names[str(operatore.occupation_code)].it in listing
        assert "(2 posizioni con la professione da confermare)" in listing
        assert "incontro confirm-occupation <posizione> --code NNNN" in listing
        assert main(["occupation-queue", "--json", "--limit", "1"]) == 0
        (item,) = json.loads(capsys.readouterr().out)
        assert (item["vacancy"], item["title"], item["code"]) == (
            operatore.code,
            "Operatore",
            operatore.occupation_code,
        )
        assert item["label"] == names[item["code"]].it and item["confidence"] < CONFIRM_BELOW
        assert [set(c) for c in item["candidates"]] == [{"code", "label", "score"}] * 3
        assert main(["occupation-queue", "--limit", "0"]) == 2
        assert "--limit deve essere almeno 1" in capsys.readouterr().err

        assert main(["confirm-occupation", operatore.code, "--code", "72x2", "--actor", "coord"]) == 2
        err = capsys.readouterr().err
        assert "codice 72x2 sconosciuto" in err and "Traceback" not in err
    done = run_cli(
        "confirm-occupation",
        operatore.code.lower(),
        "--code",
        "7212",
        "--actor",
        "coord.bianchi",
        prefect_home=str(tmp_path / "prefect"),
        INCONTRO_VAR_DIR=str(tmp_path / "var"),
        INCONTRO_PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api",
    )
    assert done.returncode == 0, done.stderr
    assert f"posizione {operatore.code}: professione cambiata da {operatore.occupation_code}" in done.stdout
    assert f"a 7212 {names['7212'].it}, registrato a nome di coord.bianchi" in done.stdout
    assert "incontro run matching --params" in done.stdout and "Traceback" not in done.stderr
    with Session(engine) as session:
        stored = session.exec(select(Vacancy).where(Vacancy.code == operatore.code)).one()
        assert (stored.occupation_code, stored.occupation_score) == ("7212", 100.0)
    with time_machine.travel(TODAY, tick=False):
        assert main(["occupation-queue"]) == 0
        listing = capsys.readouterr().out
    assert operatore.code not in listing and "(1 posizione con la professione da confermare)" in listing
