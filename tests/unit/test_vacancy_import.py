"""Vacancy files that name companies (issue 17): every row imported, unknown companies waiting for
the coordinators with one email to the sender, past deadlines stored closed and never matched.

Real parts: the migrated SQLite app database, the real import, matching and outbox; the CLI's
``main`` in process and ``incontro`` in a new process; only the hand-over of events to Prefect is
recorded instead of sent.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cli.main import main
from deploy.stack import free_port
from models import clock
from models.enums import Cefr, Licence, State, VacancyStatus
from models.exchange import Match, Vacancy
from models.ops import AuditLog, ImportRow, Outbox
from tasks.runtime import events
from tasks.runtime.event_names import VACANCY_RECEIVED
from tasks.runtime.events import EventSpec
from tasks.vacancies import (
    AssignRefused,
    assign_company,
    ingest_vacancy_file,
    match_vacancies,
    proposed_approvals,
    waiting_for_company,
)
from tests.cli import run_cli
from tests.factories import make_case, seed_partners

TODAY = datetime(2026, 12, 4, 9, 0)  # UTC; 10:00 in Bergamo

# A member company's HR software export, as Confindustria forwards it: names, not codes.
HR_EXPORT = (
    "Ragione sociale;P.IVA;Figura ricercata;Sede di lavoro;Requisiti richiesti;Conoscenza lingua italiana;"
    "Patente;Scadenza candidature;N° posti\r\n"
    "OFFICINE MECCANICHE VALSERIANA SRL;;Saldatore a filo;Albino (BG);saldatura MIG, lettura disegno;A2;B;"
    "31/01/2027;2\r\n"
    "Gomma Tecnica dell'Isola S.p.A.;;Operaio stampaggio gomma;Ponte S. Pietro;turni;non richiesto;-;"
    "15 gennaio 2027;3\r\n"
    "Orio Hub Logistica;;Magazziniere;Orio al Serio;patentino muletto;base;muletto;fine febbraio 2027;5\r\n"
    ";IT 10366480167;Addetto pressa;Ponte San Pietro;;A1;;;1\r\n"
    "Tessitura Valgandino S.p.A. - stabilimento di Gandino;;Tessitore;Gandino;telai;nessuno;;28.02.27;1\r\n"
    "Caseificio Pianalto;;Casaro;San Giovanni Bianco;;B1;B;;1\r\n"
)


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list[EventSpec]:
    """The events handed to Prefect after each commit (recorded, no server in unit tests)."""
    out: list[EventSpec] = []
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@time_machine.travel(TODAY, tick=False)
def test_a_vacancy_file_naming_companies_imports_every_row(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    import_id, counts = ingest_vacancy_file(session, _write(tmp_path, "posizioni.csv", HR_EXPORT), "CONFINDUSTRIA-BG")
    session.commit()
    assert (counts["accepted"], counts["rejected"], counts["awaiting_company"], counts["closed"]) == (6, 0, 0, 0)
    assert session.exec(select(ImportRow)).all() == []
    stored = {v.title: v for v in session.exec(select(Vacancy).where(Vacancy.import_file_id == import_id))}
    assert {t: v.company_code for t, v in stored.items()} == {
        "Saldatore a filo": "COMP-OFFICINE-VALSERIANA",
        "Operaio stampaggio gomma": "COMP-GOMMA-ISOLA",
        "Magazziniere": "COMP-LOGISTICA-ORIO",
        "Addetto pressa": "COMP-GOMMA-ISOLA",
        "Tessitore": "COMP-TESSITURA-GANDINO",
        "Casaro": "COMP-CASEIFICIO-PIANALTO",
    }
    assert all(v.status is VacancyStatus.OPEN for v in stored.values())
    # how each company was found, and how sure: in the database and in the import result
    assert stored["Addetto pressa"].company_match == "vat" and stored["Addetto pressa"].company_vat == "10366480167"
    assert stored["Casaro"].company_match == "partial" and 90 <= (stored["Casaro"].company_confidence or 0) < 100
    assert "Caseificio Pianalto delle Orobie S.r.l." in (stored["Casaro"].company_reason or "")
    labels = {c["row"]: c["match"] for c in counts["companies"]}
    assert labels[2] == "ragione sociale (forma societaria, maiuscole o punteggiatura diverse)"
    assert labels[3] == "ragione sociale" and labels[5] == "partita IVA"
    assert labels[7] == f"ragione sociale abbreviata ({stored['Casaro'].company_confidence}%)"
    assert all(set(c) == {"row", "vacancy", "company", "match"} for c in counts["companies"])  # codes only
    # the deadline and requirement columns, in their variants, are not lost
    saldatore, gomma, magazzino = stored["Saldatore a filo"], stored["Operaio stampaggio gomma"], stored["Magazziniere"]
    assert saldatore.valid_until == date(2027, 1, 31) and saldatore.skills == ["saldatura MIG", "lettura disegno"]
    assert gomma.valid_until == date(2027, 1, 15) and gomma.italian_required is Cefr.PRE_A1
    assert gomma.licence_required is Licence.NONE and gomma.municipality == "Ponte San Pietro"
    assert magazzino.valid_until == date(2027, 2, 28) and magazzino.licence_required is Licence.FORKLIFT
    assert stored["Tessitore"].valid_until == date(2027, 2, 28) and stored["Tessitore"].italian_required is Cefr.PRE_A1
    assert session.exec(select(Outbox)).all() == []  # nothing to tell: no error, no unknown company


@time_machine.travel(TODAY, tick=False)
def test_unknown_companies_wait_in_the_queue_and_confindustria_is_told_once(
    session: Session, tmp_path: Path, sent: list[EventSpec]
) -> None:
    seed_partners(session)
    make_case(session, state=State.PROFILE_READY, profile={"occupations": ["9329"], "italian": Cefr.A2})
    text = (
        "Azienda;Partita IVA;Mansione;Sede;Requisiti;Livello di italiano;Posti;Scadenza\r\n"
        "Gomma Tecnica Isola spa;;Operaio stampaggio;Ponte San Pietro;turni;A2;2;31/01/2027\r\n"
        "Plastica Rossi S.r.l.;;Addetto pressa;Seriate;;A2;1;31/01/2027\r\n"
        "Stampaggio Plastiche Calepio srl;10366480167;Addetto pressa;Grumello del Monte;;A2;1;\r\n"
        "Rossi Meccanica S.n.c.;;Tornitore;Dalmine;tornio CNC;B1;tanti;\r\n"
    )
    path = _write(tmp_path, "posizioni_dicembre.csv", text)
    import_id, counts = ingest_vacancy_file(session, path, "CONFINDUSTRIA-BG")
    session.commit()
    assert import_id is not None
    assert (counts["accepted"], counts["rejected"], counts["awaiting_company"]) == (3, 1, 2)
    (bad,) = session.exec(select(ImportRow)).all()  # only the openings in words refuse a row
    assert [e["column"] for e in bad.errors] == ["Posti"]
    waiting = session.exec(select(Vacancy).where(Vacancy.status == VacancyStatus.AWAITING_COMPANY)).all()
    assert {v.company_written for v in waiting} == {"Plastica Rossi S.r.l.", "Stampaggio Plastiche Calepio srl"}
    assert all(v.company_code is None for v in waiting)
    conflict = next(v for v in waiting if v.company_vat)
    assert conflict.company_match == "conflict" and "Gomma Tecnica dell'Isola" in (conflict.company_reason or "")
    # one email to the sender, in Italian, naming both rows and the way out
    (mail,) = session.exec(select(Outbox).where(Outbox.kind == "vacancy_company_unknown")).all()
    assert mail.recipient_code == "CONFINDUSTRIA-BG" and mail.recipient == "lavoro@confindustria-bergamo.example"
    assert "Plastica Rossi S.r.l." in mail.body_text and "Stampaggio Plastiche Calepio srl" in mail.body_text
    assert "riga 3" in mail.body_text and "riga 4" in mail.body_text and "partita IVA" in mail.body_text
    assert "2 aziende non riconosciute" in mail.subject and "posizioni_dicembre.csv" in mail.subject
    assert ingest_vacancy_file(session, path, "CONFINDUSTRIA-BG") == (import_id, {"already_imported": 1})
    session.commit()
    assert len(session.exec(select(Outbox).where(Outbox.kind == "vacancy_company_unknown")).all()) == 1
    # waiting positions are never matched; the known one is
    result = match_vacancies(session, import_id, today=clock.today())
    assert (result["vacancies"], result["not_open"]) == (1, 2)
    session.commit()
    matched = set(session.exec(select(Match.vacancy_id)).all())
    assert matched and not matched & {v.id for v in waiting}
    # the queue, and the way out
    queue = waiting_for_company(session)
    assert [q.code for q in queue] == sorted(v.code for v in waiting)
    assert (queue[0].company_written, queue[0].reason) == (
        "Plastica Rossi S.r.l.",
        "azienda non trovata tra le associate",
    )
    assert queue[1].reason == "partita IVA e nome indicano aziende diverse"
    assert set(queue[1].suggestions) == {"COMP-GOMMA-ISOLA", "COMP-STAMPAGGIO-CALEPIO"}
    plastica = next(v for v in waiting if v.company_written == "Plastica Rossi S.r.l.")
    opened = assign_company(session, plastica.code, "COMP-STAMPAGGIO-CALEPIO", actor="coord.bianchi")
    session.commit()
    assert (opened.status, opened.company_code, opened.company_match) == (
        VacancyStatus.OPEN,
        "COMP-STAMPAGGIO-CALEPIO",
        "manual",
    )
    assert [s.payload for s in sent if s.name == VACANCY_RECEIVED][-1] == {"vacancies": 1, "import_id": import_id}
    audit = session.exec(select(AuditLog).where(AuditLog.action == "assign_company")).one()
    assert audit.actor == "coord.bianchi" and plastica.code in audit.purpose
    assert [q.code for q in waiting_for_company(session)] == [conflict.code]
    # the matching of the file runs again: only the newly open position is scored and proposed
    again = match_vacancies(session, import_id, today=clock.today())
    assert again["vacancies"] == 2
    assert plastica.code in {p["vacancy_code"] for p in proposed_approvals(session, import_id)}
    with pytest.raises(AssignRefused, match="non è in attesa di un'azienda"):
        assign_company(session, plastica.code, "COMP-GOMMA-ISOLA", actor="coord")
    with pytest.raises(AssignRefused, match="azienda CARITAS-BG sconosciuta"):
        assign_company(session, conflict.code, "CARITAS-BG", actor="coord")
    with pytest.raises(AssignRefused, match="posizione VAC-9999-0001 inesistente"):
        assign_company(session, "VAC-9999-0001", "COMP-GOMMA-ISOLA", actor="coord")


@time_machine.travel(TODAY, tick=False)
def test_a_past_deadline_vacancy_is_stored_closed_and_never_matched(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    make_case(session, state=State.PROFILE_READY, profile={"occupations": ["7212"], "italian": Cefr.B1})
    text = (
        "Azienda;Mansione;Sede;Requisiti;Livello di italiano;Patente;Scadenza\r\n"
        "COMP-OFFICINE-VALSERIANA;Saldatore a filo;Albino;saldatura;A2;;30/11/2026\r\n"  # passed
        "Officine Meccaniche Valseriana;Saldatore TIG;Albino;saldatura tig;A2;;04/12/2026\r\n"  # today: open
        "Officine Meccaniche Valseriana;Carpentiere;Albino;;A2;;31 gennaio 2027\r\n"
        "Plastica Rossi srl;Saldatore;Bergamo;;A2;;1/11/2026\r\n"  # passed, and an unknown company
    )
    import_id, counts = ingest_vacancy_file(session, _write(tmp_path, "scadenze.csv", text), "CONFINDUSTRIA-BG")
    session.commit()
    assert import_id is not None
    assert (counts["accepted"], counts["closed"], counts["awaiting_company"]) == (4, 2, 0)
    status = {v.title: v.status for v in session.exec(select(Vacancy))}
    assert status == {
        "Saldatore a filo": VacancyStatus.CLOSED,
        "Saldatore TIG": VacancyStatus.OPEN,
        "Carpentiere": VacancyStatus.OPEN,
        "Saldatore": VacancyStatus.CLOSED,  # closed: nobody needs to name its company
    }
    assert session.exec(select(Outbox).where(Outbox.kind == "vacancy_company_unknown")).all() == []
    assert match_vacancies(session, import_id, today=clock.today())["vacancies"] == 2
    session.commit()
    matched = set(
        session.exec(select(Vacancy.title).join(Match, col(Match.vacancy_id) == col(Vacancy.id)).distinct()).all()
    )
    assert matched == {"Saldatore TIG", "Carpentiere"}
    assert {p["vacancy_code"] for p in proposed_approvals(session, import_id)} == {
        v.code for v in session.exec(select(Vacancy).where(Vacancy.status == VacancyStatus.OPEN))
    }
    # an open position whose deadline passes before its matching runs is not matched either
    later = date(2027, 2, 1)
    text2 = "Azienda;Mansione;Scadenza\r\nCOMP-OFFICINE-VALSERIANA;Tornitore;31/01/2027\r\n"
    import2, _ = ingest_vacancy_file(session, _write(tmp_path, "tardi.csv", text2), "CONFINDUSTRIA-BG")
    assert import2 is not None
    assert match_vacancies(session, import2, today=later) == {"vacancies": 0, "matches": 0, "pool": 1, "not_open": 1}
    assert proposed_approvals(session, import2, today=later) == []


def test_the_cli_lists_the_queue_and_assigns_a_company(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        seed_partners(session)
        text = "Azienda;Mansione;Posti\r\nPlastica Rossi S.r.l.;Addetto pressa;1\r\nOfficine Meccaniche;Fresatore;1\r\n"
        ingest_vacancy_file(session, _write(tmp_path, "coda.csv", text), "CONFINDUSTRIA-BG")
        session.commit()
        codes = sorted(session.exec(select(Vacancy.code)).all())
    assert main(["vacancy-queue"]) == 0
    listing = capsys.readouterr().out
    assert all(c in listing for c in codes) and "(2 posizioni in attesa dell'azienda)" in listing
    assert "Plastica Rossi S.r.l." in listing and "forse: COMP-OFFICINE-VALSERIANA" in listing
    assert "azienda non trovata tra le associate" in listing
    done = run_cli(
        "assign-company",
        codes[1].lower(),
        "--company",
        "comp-officine-valseriana",
        "--actor",
        "coord.bianchi",
        prefect_home=str(tmp_path / "prefect"),
        INCONTRO_VAR_DIR=str(tmp_path / "var"),
        INCONTRO_PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api",
    )
    assert done.returncode == 0, done.stderr
    assert f"posizione {codes[1]} assegnata a COMP-OFFICINE-VALSERIANA" in done.stdout
    assert "incontro run matching --params" in done.stdout and "Traceback" not in done.stderr
    with Session(engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.code == codes[1])).one()
        assert (vacancy.status, vacancy.company_code) == (VacancyStatus.OPEN, "COMP-OFFICINE-VALSERIANA")
    assert main(["assign-company", codes[1], "--company", "COMP-GOMMA-ISOLA", "--actor", "coord"]) == 2
    assert "non è in attesa di un'azienda" in capsys.readouterr().err


# --- matching with the configured rules (issues 18 and 21) ------------------------------------------

_WELDERS = "Azienda;Mansione;Sede;Livello di italiano\r\nCOMP-OFFICINE-VALSERIANA;Saldatore;Bergamo;A2\r\n"


def _ranked_cases(session: Session, vacancy_code: str) -> list[tuple[int, float]]:
    rows = session.exec(
        select(Match.case_id, Match.score)
        .join(Vacancy, col(Vacancy.id) == col(Match.vacancy_id))
        .where(Vacancy.code == vacancy_code)
        .order_by(col(Match.rank))
    ).all()
    return [(case_id, score) for case_id, score in rows]


@time_machine.travel(TODAY, tick=False)
def test_matching_keeps_the_configured_maximum_distance(session: Session, tmp_path: Path) -> None:
    """config/routing.yaml says 40 km: a person 44.5 km away (Colere, from Bergamo) who would travel
    100 km is not proposed, though the scoring's own default (50 km) would take her."""
    from config.data import load_routing, municipality_coords
    from tasks.matching.scoring import DEFAULT_MAX_KM, haversine_km

    seed_partners(session)
    near = make_case(session, state=State.PROFILE_READY, profile={"area": "Bergamo", "italian": Cefr.B1})
    far = make_case(
        session, state=State.PROFILE_READY, profile={"area": "Colere", "italian": Cefr.B1, "mobility_km": 100}
    )
    import_id, _ = ingest_vacancy_file(session, _write(tmp_path, "saldatori.csv", _WELDERS), "CONFINDUSTRIA-BG")
    session.commit()
    assert import_id is not None
    colere, bergamo = municipality_coords("Colere"), municipality_coords("Bergamo")
    assert colere is not None and bergamo is not None
    distance = haversine_km(*colere, *bergamo)
    assert load_routing().matching.max_distance_km < distance < DEFAULT_MAX_KM
    result = match_vacancies(session, import_id, today=clock.today())
    session.commit()
    assert (result["vacancies"], result["matches"], result["pool"]) == (1, 1, 2)
    matched = set(session.exec(select(Match.case_id)).all())
    assert matched == {near.id} and far.id not in matched


@time_machine.travel(TODAY, tick=False)
def test_matching_ranks_every_new_vacancy_at_once_with_the_configured_weights(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Weights tuned in config/routing.yaml decide the ranking and the stored score: with distance
    weighing most, the related welder next door passes the same-trade welder 25 km away. The
    file's open vacancies are ranked in one call, and a rerun ranks none again."""
    import config.data
    import tasks.vacancies as stage
    from models.cases import Profile
    from tasks.matching.facts import profile_facts, vacancy_facts
    from tasks.matching.scoring import MatchWeights, score_pair, top_k_all_vacancies

    rules = config.data.load_routing()
    tuned = {
        "occupation": 0.10,
        "skills": 0.05,
        "language": 0.05,
        "licence": 0.05,
        "distance": 0.70,
        "availability": 0.05,
    }
    matching = rules.matching.model_copy(update={"weights": rules.matching.weights.model_copy(update=tuned)})
    monkeypatch.setattr(config.data, "load_routing", lambda path=None: rules.model_copy(update={"matching": matching}))
    calls: list[tuple[list[str], MatchWeights, float, int]] = []

    def spy(vacancies, profiles, k, weights, max_km):  # type: ignore[no-untyped-def]
        calls.append(([v.vacancy_code for v in vacancies], weights, max_km, k))
        return top_k_all_vacancies(vacancies, profiles, k, weights, max_km)

    monkeypatch.setattr(stage, "top_k_all_vacancies", spy, raising=False)
    seed_partners(session)
    same_trade = make_case(
        session, state=State.PROFILE_READY, profile={"area": "Calcio", "italian": Cefr.B1, "mobility_km": 50}
    )
    related = make_case(
        session, state=State.PROFILE_READY, profile={"area": "Bergamo", "italian": Cefr.B1, "occupations": ["7213"]}
    )
    text = _WELDERS + "COMP-OFFICINE-VALSERIANA;Saldatore TIG;Bergamo;A2\r\n"
    import_id, _ = ingest_vacancy_file(session, _write(tmp_path, "saldatori.csv", text), "CONFINDUSTRIA-BG")
    session.commit()
    assert import_id is not None
    assert match_vacancies(session, import_id, today=clock.today())["matches"] == 4
    session.commit()
    weights = MatchWeights(**tuned)
    codes = sorted(session.exec(select(Vacancy.code)).all())
    for code in codes:
        ranked = _ranked_cases(session, code)
        assert [c for c, _ in ranked] == [related.id, same_trade.id]
        vacancy = session.exec(select(Vacancy).where(Vacancy.code == code)).one()
        for case, (_, stored) in zip((related, same_trade), ranked, strict=True):
            profile = session.exec(select(Profile).where(Profile.case_id == case.id)).one()
            expected = score_pair(profile_facts(case, profile), vacancy_facts(vacancy), weights, 40.0)
            assert stored == expected.score
            assert stored != score_pair(profile_facts(case, profile), vacancy_facts(vacancy)).score  # not the defaults
    assert calls == [(codes, weights, 40.0, 10)]  # one ranking for the whole file, the configured rules
    again = match_vacancies(session, import_id, today=clock.today())
    assert (again["vacancies"], again["matches"], again["pool"]) == (2, 0, 2) and len(calls) == 1
