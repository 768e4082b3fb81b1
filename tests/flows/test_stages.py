"""One test per stage flow, run by Prefect (test harness) against a real SQLite app database
and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from demo.synthetic.vacancies import VACANCY_HEADERS
from flows._params import OfficeCode
from models import clock
from models.cases import Case, CaseEvent, Enrollment, Profile
from models.enums import Cefr, ConsentPurpose, State
from models.exchange import DispatchBatch, Interest, Match, Outcome, Vacancy
from models.ops import ImportRow, Outbox
from tasks.mail.smtp_sink import MailSink
from tests.factories import SHAREABLE, make_case, seed_partners
from tests.invariants import assert_no_dead_ends

HEADER = (
    "Cognome;Nome;Data di nascita;Sesso;Luogo di nascita;Cittadinanza;Codice fiscale;Cellulare;E-mail;"
    "Comune di residenza;Lingue parlate;Titolo di studio;Esperienze;Patente;Livello italiano;"
    "Consenso privacy;Consenso Confindustria"
)
ROWS = [
    "Kovalenko;Olena;12/03/1985;F;Ucraina;Ucraina;;+380 67 123 4567;olena.k@mail.example;Albino;ucraino, russo;"
    "laurea;contabile;B;A1;SI;SI",
    "Diallo;Mamadou;01/07/1999;M;Senegal;Senegal;;333 1234567;;Treviglio;francese, wolof;licenza media;"
    "magazziniere;nessuna;A2;SI;SI",
    "Коваленко;Олена;12/03/1985;F;Ucraina;Ucraina;;+380 67 123 4567;;Albino;ucraino;laurea;бухгалтер;B;A1;SI;SI",
    "Rossi;;05/05/1980;M;Italia;Italia;;;;Bergamo;italiano;diploma;muratore;B;C2;SI;SI",
    "Quispe;José Luis;31/02/1990;M;Perù;Perù;;;;Bergamo;spagnolo;diploma;cuoco;B;B1;SI;NO",
    "Gómez;María;10/10/1992;F;Ecuador;Ecuador;;3471112233;maria@;Seriate;spagnolo;diploma;badante;nessuna;B1;SI;SI",
    "Bianchi;Luca;10/10/1970;M;Italia;Italia;;;;Milano;italiano;diploma;autista;C;C2;SI;SI",
    "Verdi;Anna;10/10/1975;F;Italia;Italia;;;;Bergamo;italiano;diploma;commessa;B;C2;NO;NO",
]


def _referral_file(tmp_path: Path) -> Path:
    path = tmp_path / "segnalazioni.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("cp1252", errors="replace"))
    return path


def _events(session: Session, case: Case) -> list[tuple[str | None, str]]:
    rows = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))).all()
    return [(r.from_state.value if r.from_state else None, r.to_state.value) for r in rows]


def _no_dead_ends(engine: Engine) -> None:
    """After every stage flow: each open case has a next step, an owner and a due date."""
    with Session(engine) as s:
        assert_no_dead_ends(s)


def test_referral_flow_validates_dedups_accepts_and_acknowledges(
    engine: Engine, mail: MailSink, tmp_path: Path
) -> None:
    from flows.referral import referral

    path = tmp_path / "segnalazioni.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("utf-8-sig"))
    result = referral(str(path), "CARITAS-BG")
    assert result["rows_accepted"] == 5 and result["rows_rejected"] == 3
    assert result["merged"] == 1  # the Cyrillic row is the same person as row 1
    with Session(engine, expire_on_commit=False) as s:
        states = sorted(c.state.value for c in s.exec(select(Case)).all())
        # Verdi: no privacy consent; Bianchi (Milano) waits for a CPI (tests/flows/test_office_queue.py)
        assert states == ["accepted", "accepted", "duplicate", "referred", "rejected"]
        errors = {r.row_number: r.errors for r in s.exec(select(ImportRow)).all()}
        assert set(errors) == {5, 6, 7}  # file line numbers, header = line 1
        assert errors[5][0]["column"] == "Nome"
        assert "data" in errors[6][0]["reason"] or "non riconosciuta" in errors[6][0]["reason"]
        assert any(e["column"] == "E-mail" for e in errors[7])
        albino = s.exec(select(Case).where(Case.office_code == "CPI-ALB")).one()
        assert _events(s, albino) == [(None, "referred"), ("referred", "accepted")]
        kinds = sorted(o.kind for o in s.exec(select(Outbox)).all())
    assert kinds == ["duplicate_notice", "import_errors", "referral_ack"]
    assert sorted(m.kind for m in mail.messages) == kinds
    _no_dead_ends(engine)
    again = referral(str(path), "CARITAS-BG")
    assert again["already_imported"] is True


def test_intake_flow_schedules_by_capacity_and_notifies(engine: Engine, mail: MailSink) -> None:
    from flows.intake import intake

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        consents = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT)
        codes = [make_case(s, state=State.ACCEPTED, office="CPI-LOV", consents=consents).code for _ in range(7)]
    result = intake(office=OfficeCode("CPI-LOV"), as_of=date(2026, 8, 24))  # Mon; 26/8 is a holiday in Bergamo
    assert result["scheduled"] == {"CPI-LOV": 7}
    with Session(engine, expire_on_commit=False) as s:
        cases = s.exec(select(Case).where(col(Case.code).in_(codes))).all()
        days = sorted({c.intake_at.date() for c in cases if c.intake_at})  # type: ignore[union-attr]
        assert all(c.state is State.INTAKE_SCHEDULED for c in cases)
    assert date(2026, 8, 26) not in days and days[0] == date(2026, 8, 27)  # 2 business days ahead, skipping 26/8
    assert {m.kind for m in mail.messages} == {"intake_appointment_candidate", "intake_appointment_referrer"}
    # the referrer gets one digest listing its seven people, not seven emails
    (digest,) = [m for m in mail.messages if m.kind == "intake_appointment_referrer"]
    assert "7 persone segnalate" in str(digest.message["Subject"])
    body = digest.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert all(code in body for code in codes)
    _no_dead_ends(engine)
    assert intake(office=OfficeCode("CPI-LOV"), as_of=date(2026, 8, 24))["scheduled"] == {}  # idempotent


def _resume_when_paused(answer: dict[str, Any], box: dict[str, Any]) -> None:
    """The operator: wait until the run asks, then answer (in another thread)."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            paused = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                )
            )
        if paused:
            for attempt in box.setdefault("answers", [answer]):
                resume_flow_run(paused[0].id, run_input=attempt)
                box["resumed"] = box.get("resumed", 0) + 1
                time.sleep(0.2)
                if len(box["answers"]) > 1 and attempt is not box["answers"][-1]:
                    box["answers"] = box["answers"][1:]
                    return _resume_when_paused(answer, box)
            return
        time.sleep(0.3)


def _approve_all(box: dict[str, Any]) -> None:
    """The operator approves the proposed shortlist as it is."""
    from deploy.client import resume
    from tasks.runtime.prefect_api import form_inputs, paused_runs

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        runs = paused_runs()
        if runs:
            box["proposed"] = form_inputs(runs[0].id)
            resume(runs[0].id, {"vacancies": box["proposed"]})
            return
        time.sleep(0.3)


def test_intake_form_routes_by_literacy_threshold(engine: Engine, mail: MailSink) -> None:
    from flows.intake import intake_form

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        low = make_case(s, state=State.INTAKE_SCHEDULED, office="CPI-TRV")
        high = make_case(s, state=State.INTAKE_SCHEDULED, office="CPI-TRV")
        for c in (low, high):
            c.intake_at = __import__("datetime").datetime(2026, 12, 1, 9, tzinfo=__import__("datetime").UTC)
            s.add(c)
        s.commit()

    def row(code: str, level: str, **extra: Any) -> dict[str, Any]:
        return {
            "case_code": code,
            "present": True,
            "listening": level,
            "reading": level,
            "interaction": level,
            "production": level,
            "writing": level,
            "occupations": ["7212"],
            "consent_confindustria": True,
            "consent_cpia": True,
            **extra,
        }

    bad = {"results": [row(low.code, "A1", occupations=["0000"]), row(high.code, "B1")]}
    good = {"results": [row(low.code, "A1"), row(high.code, "B1")]}
    box: dict[str, Any] = {"answers": [bad, good]}
    operator = threading.Thread(target=_resume_when_paused, args=(good, box))
    operator.start()
    result = intake_form(OfficeCode("CPI-TRV"), up_to=date(2026, 12, 31))
    operator.join(timeout=60)
    assert result["attempts"] == 2  # the invalid form was refused and asked again
    assert result["literacy"] == 1 and result["profile_ready"] == 1
    with Session(engine, expire_on_commit=False) as s:
        assert _events(s, s.get(Case, low.id))[-2:] == [
            ("intake_scheduled", "intake_done"),
            ("intake_done", "literacy"),
        ]  # type: ignore[arg-type]
        assert s.get(Case, high.id).state is State.PROFILE_READY  # type: ignore[union-attr]
        profile = s.exec(select(Profile).where(Profile.case_id == high.id)).one()
        assert profile.italian is Cefr.B1 and profile.occupations == ["7212"]
    _no_dead_ends(engine)


def test_literacy_flows_enrol_with_consent_and_reassess(engine: Engine, mail: MailSink) -> None:
    from flows.literacy import literacy, literacy_outcomes, reassessment

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        yes = make_case(
            s,
            state=State.LITERACY,
            profile={"italian": Cefr.A1},
            consents=(ConsentPurpose.CPI_PROCESSING, ConsentPurpose.CPIA_ENROLMENT),
        )
        no = make_case(s, state=State.LITERACY, profile={"italian": Cefr.A1})
    assert literacy()["requested"] == {"CPIA-BG": 1}  # the case without CPIA consent is not shared
    assert [m.kind for m in mail.messages] == ["cpia_enrolment_request"]
    _no_dead_ends(engine)
    with Session(engine) as s:  # the CPIA reports the course; the CPI asks the other person's consent
        steps = {c.code: (c.next_step, c.owner) for c in s.exec(select(Case)).all()}
    assert steps == {yes.code: ("literacy_course", "CPIA-BG"), no.code: ("ask_consent_cpia", "CPI-BG")}
    level = {k: "A2" for k in ("listening", "reading", "interaction", "production", "writing")}
    box: dict[str, Any] = {"answers": [{"results": [{"case_code": yes.code, "outcome": "superato", **level}]}]}
    operator = threading.Thread(target=_resume_when_paused, args=(box["answers"][0], box))
    operator.start()
    result = literacy_outcomes()
    operator.join(timeout=60)
    assert result["recorded"] == 1
    _no_dead_ends(engine)
    with Session(engine, expire_on_commit=False) as s:
        assert s.get(Case, yes.id).state is State.LITERACY  # type: ignore[union-attr]  # routing is the next step
    routed = reassessment()
    assert routed["profile_ready"] == 1 and routed["re_enrolled"] == 0
    assert reassessment()["profile_ready"] == 0  # idempotent: a sweep after the trigger moves nothing
    with Session(engine, expire_on_commit=False) as s:
        assert s.get(Case, yes.id).state is State.PROFILE_READY  # type: ignore[union-attr]
        assert s.get(Case, no.id).state is State.LITERACY  # type: ignore[union-attr]
        assert s.exec(select(Enrollment).where(Enrollment.case_id == yes.id)).one().outcome == "passed"
    _no_dead_ends(engine)


def test_dispatch_flow_sends_only_consenting_profiles(engine: Engine, mail: MailSink) -> None:
    from flows.dispatch import dispatch

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        ok = make_case(
            s,
            state=State.PROFILE_READY,
            profile={},
            consents=SHAREABLE,
        )
        no = make_case(s, state=State.PROFILE_READY, profile={})
    result = dispatch(as_of=date(2026, 11, 30))
    assert result["profiles"] == 1 and result["batch_codes"] == ["DSP-20261130-01"]
    with Session(engine, expire_on_commit=False) as s:
        assert s.get(Case, ok.id).state is State.DISPATCHED  # type: ignore[union-attr]
        assert s.get(Case, no.id).state is State.PROFILE_READY  # type: ignore[union-attr]
        assert s.exec(select(DispatchBatch)).one().profile_count == 1
    (message,) = mail.messages
    assert message.kind == "dispatch_confindustria"
    raw = message.raw.decode("utf-8", errors="replace")
    assert ok.code in raw and no.code not in raw and "Rossi" not in raw  # profiles, not people
    assert ".xlsx" in raw
    _no_dead_ends(engine)


def test_dispatch_flow_splits_a_backlog_into_batches_of_the_set_size(
    engine: Engine, mail: MailSink, monkeypatch: Any
) -> None:
    from config.settings import get_settings
    from flows.dispatch import dispatch

    monkeypatch.setenv("INCONTRO_DISPATCH_MAX_PROFILES", "2")
    get_settings.cache_clear()
    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        cases = [make_case(s, state=State.PROFILE_READY, profile={}, consents=SHAREABLE) for _ in range(5)]
    result = dispatch(as_of=date(2026, 11, 30))
    assert result["profiles"] == 5 and result["emails"]["sent"] == 3
    assert result["batch_codes"] == ["DSP-20261130-01", "DSP-20261130-02", "DSP-20261130-03"]
    with Session(engine, expire_on_commit=False) as s:
        batches = s.exec(select(DispatchBatch).order_by(col(DispatchBatch.id))).all()
        assert [b.profile_count for b in batches] == [2, 2, 1]
        assert {s.get(Case, c.id).state for c in cases} == {State.DISPATCHED}  # type: ignore[union-attr]
    bodies = [m.raw.decode("utf-8", errors="replace") for m in mail.messages]
    for code in (c.code for c in cases):  # each profile in exactly one email
        assert sum(code in body for body in bodies) == 1, code
    _no_dead_ends(engine)
    assert dispatch(as_of=date(2026, 11, 30), batch_code="DSP-20261130-01")["profiles"] == 0  # rerun: no-op
    assert len(mail.messages) == 3


def test_interest_flow_moves_cases_and_releases_contacts_only_with_consent(
    engine: Engine, mail: MailSink, tmp_path: Path
) -> None:
    from flows.interest import interest
    from tasks.core.consent import grant_consent

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        a = make_case(s, state=State.DISPATCHED, profile={}, office="CPI-BG")
        b = make_case(s, state=State.DISPATCHED, profile={}, office="CPI-BG")
        grant_consent(s, a.person_key, ConsentPurpose.CONTACT_TO_COMPANY, recipient="COMP-GOMMA-ISOLA", source="test")
        grant_consent(s, a.person_key, ConsentPurpose.REFERRER_CONTACT, source="test")
        s.commit()
    path = tmp_path / "risposte.csv"
    path.write_text(
        "Azienda;Codice profilo;Esito;Motivo\r\n"
        f"COMP-GOMMA-ISOLA;{a.code};colloquio;\r\nCOMP-GOMMA-ISOLA;{b.code};interessato;\r\n"
        "COMP-GOMMA-ISOLA;BG-2026-999999;interessato;\r\nCOMP-GOMMA-ISOLA;{b.code};forse;\r\n",
        encoding="utf-8",
    )
    result = interest(file_path=str(path))
    assert result["imported"] == {"accepted": 2, "rejected": 2}
    assert result["contacts_released"] == 1
    with Session(engine, expire_on_commit=False) as s:
        assert s.get(Case, a.id).state is State.INTERVIEW  # type: ignore[union-attr]
        assert s.get(Case, b.id).state is State.INTEREST  # type: ignore[union-attr]
        assert len(s.exec(select(Interest)).all()) == 2
    releases = [m for m in mail.messages if m.kind == "contact_release"]
    assert len(releases) == 1 and a.code in releases[0].raw.decode("utf-8", errors="replace")
    assert {m.kind for m in mail.messages} >= {"interest_notice", "contact_release"}
    _no_dead_ends(engine)


def test_vacancies_and_matching_flows_store_explained_shortlists(
    engine: Engine, mail: MailSink, tmp_path: Path
) -> None:
    from flows.vacancies import matching, vacancies

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        welder = make_case(s, state=State.PROFILE_READY, profile={"occupations": ["7212"], "italian": Cefr.A2})
        make_case(s, state=State.PROFILE_READY, profile={"occupations": ["5120"], "italian": Cefr.A2})
    wb = Workbook()
    ws = wb.active
    ws.append(list(VACANCY_HEADERS))
    ws.append(
        [
            "COMP-OFFICINE-VALSERIANA",
            "Saldatore TIG",
            "Albino",
            "saldatura tig",
            "A2",
            "B",
            "tempo determinato",
            2,
            "31/01/2027",
        ]
    )
    ws.append(["AZIENDA-IGNOTA", "Magazziniere", "Bergamo", "", "A2", "", "", 1, ""])
    path = tmp_path / "posizioni.xlsx"
    wb.save(path)
    result = vacancies(str(path))
    assert (result["accepted"], result["rejected"], result["awaiting_company"]) == (2, 0, 1)
    assert result["emails"]["sent"] == 1
    (report,) = mail.messages  # the unknown company waits; Confindustria is asked which it is
    assert report.kind == "vacancy_company_unknown"
    assert report.rcpt_tos == ("lavoro@confindustria-bergamo.example",)
    text = report.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "posizioni.xlsx" in text and "AZIENDA-IGNOTA" in text and "non registrato" in text
    _no_dead_ends(engine)
    box: dict[str, Any] = {}
    operator = threading.Thread(target=_approve_all, args=(box,))
    operator.start()
    shortlist = matching(result["import_id"])
    operator.join(timeout=60)
    assert shortlist["vacancies"] == 1 and shortlist["matches"] >= 1 and shortlist["shortlists"] == 1
    with Session(engine, expire_on_commit=False) as s:
        vacancy = s.exec(select(Vacancy).where(Vacancy.company_code == "COMP-OFFICINE-VALSERIANA")).one()
        assert vacancy.occupation_code == "7212"
        best = s.exec(select(Match).order_by(col(Match.rank))).first()
        assert best is not None and best.case_id == welder.id and "7212" in best.explanation
        assert best.approved is True
    assert [m.kind for m in mail.messages] == ["vacancy_company_unknown", "vacancy_shortlist"]
    _no_dead_ends(engine)


def test_outcomes_flow_hires_and_routes_unpicked_profiles_to_policy(
    engine: Engine, mail: MailSink, tmp_path: Path
) -> None:
    from flows.outcomes import outcomes
    from tasks.core.transitions import transition

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        hired = make_case(s, state=State.INTERVIEW, profile={})
        idle = make_case(
            s,
            state=State.PROFILE_READY,
            profile={},
            consents=SHAREABLE,
        )
        transition(s, idle, State.DISPATCHED, actor="test")
        s.commit()
    path = tmp_path / "esiti.csv"
    path.write_text(
        f"Codice pratica;Esito;Azienda;Tipo contratto;Data inizio;Durata giorni\n"
        f"{hired.code};assunto;COMP-GOMMA-ISOLA;tempo determinato;01/12/2026;180\n",
        encoding="utf-8",
    )
    result = outcomes(file_path=str(path), sender_code="PROV-LAVORO", as_of=clock.today() + timedelta(days=31))
    assert result["recorded"] == {"hired": 1}
    assert sum(result["policy"].values()) == 1
    with Session(engine, expire_on_commit=False) as s:
        assert s.get(Case, hired.id).state is State.HIRED  # type: ignore[union-attr]
        assert s.get(Case, idle.id).state is State.POLICY  # type: ignore[union-attr]
        assert {o.kind.value for o in s.exec(select(Outcome)).all()} == {"hired", "policy"}
    _no_dead_ends(engine)


def test_reports_and_maintenance_flows(engine: Engine, mail: MailSink) -> None:
    from flows.maintenance import maintenance
    from flows.reports import reports

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        make_case(s, state=State.ACCEPTED, office="CPI-CLU")
        make_case(s, state=State.HIRED)
    assert maintenance(as_of=date(2026, 12, 1))["scheduled"] == 1  # the sweep catches what a trigger missed
    _no_dead_ends(engine)
    counts = reports()
    assert counts == {"intake_scheduled": 1, "hired": 1}
    _no_dead_ends(engine)
