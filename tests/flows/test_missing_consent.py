"""A partner file without consent columns (issue 17): imported, not rejected; its sender warned in
the first line of the acknowledgement and reminded once; the cases wait for the consent to be
collected at the CPI intake, and nothing reaches Confindustria before the consent is recorded
(real Prefect test server, real SQLite/PostgreSQL app database, real SMTP sink)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import clock
from models.cases import Case, CaseEvent
from models.enums import ConsentPurpose, State
from models.ops import Outbox
from models.people import Consent
from tasks.core.consent import CONSENT_TO_COLLECT, grant_consent
from tasks.intake import record_intake, validate_intake
from tasks.mail.smtp_sink import MailSink
from tests.invariants import assert_no_dead_ends

# An association's own sheet, exported from its contact manager: English headers, no consent.
HEADER = "Surname,First name,Date of birth,Town of residence,Mobile,Languages,Occupation,Notes"
ROWS = [
    "Haddad,Rami,14/05/1988,Bergamo,+39 351 234 5678,arabic,welder,needs evening shifts",
    "Okafor,Grace,02/11/1994,Dalmine,347 998 8776,english,cleaner,",
    "Moroz,Andrii,30/01/1991,Seriate,333 456 7890,ukrainian,driver,",
    "Kane,Moussa,11/09/1985,Treviglio,320 111 2233,french,warehouse,",
]


def _body(message: Any) -> str:
    return str(message.message.get_body(preferencelist=("plain",)).get_content())


def _row(code: str, **extra: Any) -> dict[str, Any]:
    levels = dict.fromkeys(("listening", "reading", "interaction", "production", "writing"), "B1")
    return {"case_code": code, "present": True, **levels, "occupations": ["7212"], **extra}


def test_a_file_without_consent_columns_waits_for_the_consent_at_the_cpi_and_shares_nothing(
    engine: Engine, mail: MailSink, tmp_path: Path
) -> None:
    from flows.dispatch import dispatch
    from flows.intake import intake
    from flows.referral import referral

    path = tmp_path / "mondo_migrante_list.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    result = referral(str(path), "ASSOC-MONDO-MIGRANTE")
    assert (result["rows_accepted"], result["rows_rejected"]) == (4, 0)
    assert result["accepted"] == 4 and result["consent_to_collect"] == 4 and "rejected" not in result
    with Session(engine, expire_on_commit=False) as s:
        cases = list(s.exec(select(Case).order_by(col(Case.id))).all())
        assert s.exec(select(Consent)).all() == []  # nothing was consented: nothing is pretended
        assert not s.exec(select(CaseEvent).where(CaseEvent.to_state == State.REJECTED)).all()
    assert len(cases) == 4
    for case in cases:
        assert case.state is State.ACCEPTED and case.office_code is not None
        assert (case.next_step, case.next_step_reason) == ("schedule_intake", CONSENT_TO_COLLECT)
        assert case.owner == case.office_code and case.next_due is not None  # the CPI acts, by a date
    codes = [c.code for c in cases]

    (ack,) = [m for m in mail.messages if m.kind == "referral_ack"]
    first_line = _body(ack).splitlines()[0]
    assert first_line.startswith("ATTENZIONE: nel file mancano le colonne del consenso al trattamento dei dati")
    assert "raccolto dal Centro per l'Impiego al primo colloquio" in first_line
    assert "consensi da raccogliere" in str(ack.message["Subject"])
    assert "colonne non usate: «Notes»" in _body(ack)
    (reminder,) = [m for m in mail.messages if m.kind == "consent_reminder"]
    assert reminder.message["To"] == ack.message["To"]
    assert all(code in _body(reminder) for code in codes)
    assert "Consenso privacy" in _body(reminder) and "Haddad" not in _body(reminder)

    # the same file again changes nothing, and reminds nobody twice
    assert referral(str(path), "ASSOC-MONDO-MIGRANTE")["already_imported"] is True
    with Session(engine) as s:
        assert len(s.exec(select(Outbox).where(Outbox.kind == "consent_reminder")).all()) == 1

    # the intake is scheduled like any other; the step still says what the office must collect
    today = clock.today()
    assert sum(intake(as_of=today)["scheduled"].values()) == 4
    with Session(engine) as s:
        waiting = s.exec(select(Case).where(col(Case.code).in_(codes))).all()
        assert {(c.state, c.next_step, c.next_step_reason) for c in waiting} == {
            (State.INTAKE_SCHEDULED, "intake", CONSENT_TO_COLLECT)
        }
    assert dispatch(as_of=today)["profiles"] == 0  # not even a profile yet: nothing leaves

    # the intake form: the consent is asked for, then recorded (or refused)
    given, given_all, refused, absent = codes
    with Session(engine, expire_on_commit=False) as s:
        problems = validate_intake(s, codes, [_row(c) for c in codes])
        assert all(
            any(p.startswith(f"{c}: consenso al trattamento dei dati da raccogliere") for p in problems) for c in codes
        )
        rows = [
            _row(given, consent_privacy=True),
            _row(given_all, consent_privacy=True, consent_confindustria=True),
            _row(refused, consent_privacy=False),
            _row(absent, present=False),
        ]
        assert validate_intake(s, codes, rows) == []
        outcome = record_intake(s, rows, today=today)
        s.commit()
        assert outcome.consent_refused == [refused] and outcome.no_show == [absent]
        states = {c.code: c.state for c in s.exec(select(Case)).all()}
        assert states == {
            given: State.PROFILE_READY,
            given_all: State.PROFILE_READY,
            refused: State.WITHDRAWN,
            absent: State.NO_SHOW,
        }

    # only the profile whose person consented to the share goes to Confindustria ...
    assert dispatch(as_of=today)["profiles"] == 1
    with Session(engine, expire_on_commit=False) as s:
        by_code = {c.code: c for c in s.exec(select(Case)).all()}
        assert by_code[given_all].state is State.DISPATCHED and by_code[given].state is State.PROFILE_READY
        # ... the other once its consent is recorded
        grant_consent(s, by_code[given].person_key, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA, source="operator")
        s.commit()
    assert dispatch(as_of=today)["profiles"] == 1
    with Session(engine) as s:
        assert s.exec(select(Case).where(Case.code == given)).one().state is State.DISPATCHED
        assert_no_dead_ends(s)
