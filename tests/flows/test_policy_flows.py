"""Policy and training route under Prefect (test harness), a real SQLite app database and a real
SMTP server on 127.0.0.1: no interest → proposals → operator's choice → training body emailed →
register → HIRED with the policy as route; and the monthly table's agenda for a seeded month."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import clock
from models.cases import Case, CaseEvent
from models.enums import Cefr, OutcomeKind, PolicyKind, State
from models.exchange import Outcome, Vacancy
from models.policy import MeasureKind, MeasureStatus, PolicyEvent, PolicyMeasure, TrainingOffer
from tasks.mail.smtp_sink import MailSink
from tests.factories import SHAREABLE, make_case, seed_partners


def _operator(answer: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], box: dict[str, Any]) -> None:
    """Wait for the suspended form, read its rows, answer them (in another thread)."""
    from deploy.client import resume
    from tasks.runtime.prefect_api import form_inputs, paused_runs

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = paused_runs()
        if runs:
            box["asked"] = form_inputs(runs[0].id)
            resume(runs[0].id, {"decisions": answer(box["asked"])})
            return
        time.sleep(0.3)


def _answered(
    run: Callable[[], dict[str, Any]], answer: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    box: dict[str, Any] = {}
    operator = threading.Thread(target=_operator, args=(answer, box))
    operator.start()
    result = run()
    operator.join(timeout=60)
    return result, box


def test_no_interest_to_training_to_hire(engine: Engine, mail: MailSink, tmp_path: Path) -> None:
    from flows.policy import policy, policy_progress, training_offers
    from tasks.core.transitions import transition

    today = clock.today()
    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        case = make_case(
            s,
            state=State.PROFILE_READY,
            birth_date=date(1988, 3, 1),  # no Garanzia Giovani: the course must come first anyway
            profile={"occupations": ["7212"], "skills": ["saldatura mig"], "italian": Cefr.A2, "experience_years": 4},
            consents=SHAREABLE,
        )
        transition(s, case, State.DISPATCHED, actor="test")
        s.add(
            Vacancy(
                code="VAC-0009-0002",
                company_code="COMP-OFFICINE-VALSERIANA",
                title="Saldatore TIG",
                occupation_code="7212",
                skills=["saldatura tig", "lettura disegno tecnico"],
                italian_required=Cefr.A2,
                municipality="Albino",
            )
        )
        s.commit()
    start = today + timedelta(days=40)
    courses = tmp_path / "corsi.csv"
    courses.write_text(
        "Ente di formazione;Titolo corso;Codici ISCO;Competenze;Ore;Posti;Data inizio;Data fine;Cofinanziato;"
        "Codice posizione;Tirocinio;Indennità di frequenza\n"
        f"FORM-OROBICA;Saldatura TIG per Officine Valseriana;7212;saldatura tig, lettura disegno tecnico;100;10;"
        f"{start:%d/%m/%Y};{start + timedelta(days=60):%d/%m/%Y};SI;VAC-0009-0002;SI;SI\n",
        encoding="utf-8",
    )
    assert training_offers(str(courses), "FORM-OROBICA")["accepted"] == 1

    early = policy(as_of=today + timedelta(days=29))  # not yet N=30 days without interest: nothing to ask
    assert early["routed"] == {} and early["proposed"] == 0 and early["attempts"] == 0

    with Session(engine, expire_on_commit=False) as s:
        offer = s.exec(select(TrainingOffer)).one()
    training = f"training:{offer.code}"

    def pick_training(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "choice": training} for r in rows]

    result, box = _answered(lambda: policy(as_of=today + timedelta(days=31)), pick_training)
    assert result["routed"] == {"gol": 1} and result["proposed"] == 1
    assert result["decided"] == {"chosen": 1, "notified": 1}
    (asked,) = box["asked"]
    assert (
        asked["case_code"] == case.code and asked["options"][0] == f"corso «{offer.title}»"
    )  # the course for the gap first
    assert "GOL – Garanzia di Occupabilità dei Lavoratori" in asked["options"]
    assert "Garanzia Giovani" not in asked["options"]

    (proposal,) = [m for m in mail.messages if m.kind == "policy_proposal"]
    assert proposal.rcpt_tos == ("corsi@formazione-orobica.example",)
    body = proposal.raw.decode("utf-8", errors="replace")
    assert case.code in body and offer.code in body and "Rossi" not in body and "anna" not in body.casefold()

    register = tmp_path / "registro.csv"
    d = start
    register.write_text(
        "Codice pratica;Codice misura;Evento;Data;Ore frequentate;Azienda;Tipo contratto;Durata giorni\n"
        f"{case.code};{offer.code};iscritto;{d:%d/%m/%Y};;;;\n"
        f"{case.code};{offer.code};frequenza;{d + timedelta(days=30):%d/%m/%Y};85;;;\n"
        f"{case.code};{offer.code};completato;{d + timedelta(days=60):%d/%m/%Y};;;;\n"
        f"BG-2026-999999;{offer.code};completato;{d:%d/%m/%Y};;;;\n"
        f"{case.code};{offer.code};tirocinio;{d + timedelta(days=61):%d/%m/%Y};;;;\n"
        f"{case.code};{offer.code};assunto;{d + timedelta(days=150):%d/%m/%Y};;COMP-OFFICINE-VALSERIANA;"
        "tempo determinato;180\n",
        encoding="utf-8",
    )
    progress = policy_progress(str(register), "FORM-OROBICA")
    assert progress["rejected"] == 1 and progress["hired"] == 1

    with Session(engine, expire_on_commit=False) as s:
        done = s.get(Case, case.id)
        assert done is not None and done.state is State.HIRED and done.route == training
        hire = s.exec(select(Outcome).where(Outcome.case_id == case.id, Outcome.kind == OutcomeKind.HIRED)).one()
        assert hire.policy is PolicyKind.TRAINING and hire.company_code == "COMP-OFFICINE-VALSERIANA"
        measure = s.exec(select(PolicyMeasure).where(PolicyMeasure.code == training)).one()
        assert measure.status is MeasureStatus.HIRED and measure.allowance_due is True and measure.success is True
        assert measure.kind is MeasureKind.TRAINING and measure.hours_attended == 85
        others = s.exec(select(PolicyMeasure).where(PolicyMeasure.case_id == case.id, PolicyMeasure.code != training))
        assert {m.status for m in others} == {MeasureStatus.NOT_CHOSEN}
        history = [
            e.kind
            for e in s.exec(select(PolicyEvent).where(PolicyEvent.case_id == case.id).order_by(col(PolicyEvent.id)))
        ]
        assert history == ["proposed", "chosen", "enrolled", "attendance", "completed", "internship", "hired"]
        moves = [
            (e.from_state, e.to_state)
            for e in s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id)))
        ]
        assert moves[-2:] == [(State.DISPATCHED, State.POLICY), (State.POLICY, State.HIRED)]
    errors = [m for m in mail.messages if m.kind == "import_errors"]
    assert len(errors) == 1 and "BG-2026-999999" in errors[0].raw.decode("utf-8", errors="replace")


def _id(case: Case) -> int:
    assert case.id is not None
    return case.id


def _seed_month(s: Session) -> dict[str, Case]:
    """A hand-made October 2026 for the table meeting of Tuesday 3 November 2026."""

    def at(y: int, m: int, d: int) -> datetime:
        return datetime(y, m, d, 10, 0, tzinfo=UTC)

    def case(code: str, state: State, office: str, history: list[tuple[State | None, State, datetime]]) -> Case:
        c = make_case(s, state=state, office=office)
        c.code = code
        s.add(c)
        for from_state, to_state, when in history:
            s.add(CaseEvent(case_id=_id(c), from_state=from_state, to_state=to_state, actor="test", at=when))
        s.commit()
        return c

    r, a, p, h = State.REFERRED, State.ACCEPTED, State.POLICY, State.HIRED
    out = {
        "new": case("BG-2026-000101", a, "CPI-BG", [(None, r, at(2026, 10, 5)), (r, a, at(2026, 10, 5))]),
        "wait": case(
            "BG-2026-000102", p, "CPI-TRV", [(None, r, at(2026, 9, 20)), (State.DISPATCHED, p, at(2026, 10, 10))]
        ),
        "today": case("BG-2026-000103", r, "CPI-BG", [(None, r, at(2026, 11, 3))]),  # the meeting day: next agenda
        "dup": case("BG-2026-000104", State.DUPLICATE, "CPI-BG", [(None, r, at(2026, 10, 6))]),
        "ending": case(
            "BG-2026-000105", p, "CPI-ALB", [(None, r, at(2026, 8, 1)), (State.DISPATCHED, p, at(2026, 9, 1))]
        ),
        "later": case(
            "BG-2026-000106", p, "CPI-ALB", [(None, r, at(2026, 8, 1)), (State.DISPATCHED, p, at(2026, 9, 1))]
        ),
        "hired": case(
            "BG-2026-000107", h, "CPI-PSP", [(None, r, at(2026, 6, 1)), (State.INTERVIEW, h, at(2026, 10, 20))]
        ),
        "old_hire": case(
            "BG-2026-000108", h, "CPI-PSP", [(None, r, at(2026, 6, 1)), (State.INTERVIEW, h, at(2026, 10, 2))]
        ),
    }
    measures = [
        PolicyMeasure(
            case_id=_id(out["wait"]),
            kind=MeasureKind.GOL,
            code="gol",
            pathway="upskilling",
            provider_code="PROV-LAVORO",
            status=MeasureStatus.PROPOSED,
            rank=1,
        ),
        PolicyMeasure(
            case_id=_id(out["wait"]),
            kind=MeasureKind.DUL,
            code="dul",
            provider_code="PROV-LAVORO",
            status=MeasureStatus.PROPOSED,
            rank=2,
        ),
        PolicyMeasure(
            case_id=_id(out["ending"]),
            kind=MeasureKind.GOL,
            code="gol",
            provider_code="PROV-LAVORO",
            status=MeasureStatus.STARTED,
            started_on=date(2026, 6, 1),
            expected_end=date(2026, 11, 20),
        ),
        PolicyMeasure(
            case_id=_id(out["later"]),
            kind=MeasureKind.DUL,
            code="dul",
            provider_code="PROV-LAVORO",
            status=MeasureStatus.STARTED,
            started_on=date(2026, 7, 1),
            expected_end=date(2026, 12, 10),
        ),
    ]
    s.add_all(measures)
    out["hired"].route = "gol"
    s.add(out["hired"])
    s.add(
        Outcome(
            case_id=_id(out["hired"]),
            kind=OutcomeKind.HIRED,
            company_code="COMP-GOMMA-ISOLA",
            length_days=180,
            policy=PolicyKind.GOL,
        )
    )
    s.commit()
    return out


EXPECTED_AGENDA = """# Tavolo Sistema Lavoro – 03/11/2026

Periodo: dal 03/10/2026 al 02/11/2026

## Nuove segnalazioni (1)

| Pratica | CPI | Stato | Segnalata il |
|---|---|---|---|
| BG-2026-000101 | CPI-BG | accepted | 05/10/2026 |

## In attesa di decisione (1)

| Pratica | CPI | In politica dal | Giorni | Misure proposte |
|---|---|---|---|---|
| BG-2026-000102 | CPI-TRV | 10/10/2026 | 24 | gol, dul |

## Misure in scadenza (1)

| Pratica | Misura | Stato | Fine prevista |
|---|---|---|---|
| BG-2026-000105 | gol | avviata | 20/11/2026 |

## Inserimenti lavorativi (1)

| Pratica | Percorso | Azienda | Giorni contratto | Data |
|---|---|---|---|---|
| BG-2026-000107 | gol | COMP-GOMMA-ISOLA | 180 | 20/10/2026 |

## Corsi di italiano senza progressi (0)

Nessuna.

## Consensi da chiedere, in ritardo (0)

Nessuna.
"""


def test_tavolo_agenda_for_a_seeded_month_and_decisions(engine: Engine, mail: MailSink) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from flows.policy import tavolo

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        cases = _seed_month(s)

    def assign_gol(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "decision": "assign", "measure": "gol"} for r in rows]

    result, box = _answered(lambda: tavolo(as_of=date(2026, 11, 3)), assign_gol)
    assert result["agenda"] == {
        "new_referrals": 1,
        "awaiting": 1,
        "ending": 1,
        "placements": 1,
        "literacy": 0,
        "consent": 0,
    }
    assert box["asked"] == [
        {
            "case_code": "BG-2026-000102",
            "decision": "rinviare al prossimo tavolo",
            "measure": "GOL – Garanzia di Occupabilità dei Lavoratori",
        }
    ]
    assert result["decisions"] == {"assign": 1}

    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(  # the latest version of the keyed artifact
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["tavolo-agenda"])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert artifact.data == EXPECTED_AGENDA

    agendas = [m for m in mail.messages if m.kind == "tavolo_agenda"]
    assert sorted(a for m in agendas for a in m.rcpt_tos) == [  # the table's members (config/policies.yaml)
        "coordinamento.incontro@provincia.bergamo.example",
        "lavoro@confindustria-bergamo.example",
        "politiche.lavoro@provincia.bergamo.example",
        "servizi.sociali@ambito-bergamo.example",
        "servizi.sociali@ambito-dalmine.example",
        "servizi.sociali@ambito-isola.example",
        "servizi.sociali@ambito-treviglio.example",
        "servizi.sociali@ambito-vallebrembana.example",
        "servizi.sociali@ambito-valleseriana.example",
        "ufficiodipiano@ambito-bergamo.example",
    ]
    text = agendas[0].raw.decode("utf-8", errors="replace")
    assert "BG-2026-000102" in text and "Rossi" not in text
    assert "Presiede: Ufficio di Piano - Ambito territoriale di Bergamo" in text
    assert [m.kind for m in mail.messages].count("policy_proposal") == 1  # the assigned measure's provider

    with Session(engine, expire_on_commit=False) as s:
        (decision,) = s.exec(select(PolicyEvent).where(PolicyEvent.kind == "tavolo_decision")).all()
        assert decision.case_id == cases["wait"].id and decision.detail == "assign:gol"
        assert decision.occurred_on == date(2026, 11, 3) and decision.actor == "tavolo"
        statuses = {
            m.code: m.status for m in s.exec(select(PolicyMeasure).where(PolicyMeasure.case_id == cases["wait"].id))
        }
        assert statuses == {"gol": MeasureStatus.CHOSEN, "dul": MeasureStatus.NOT_CHOSEN}
