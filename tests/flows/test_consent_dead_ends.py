"""Consent dead ends (issue 18): a LITERACY case without the consent to the CPIA and a
PROFILE_READY case without the consent to Confindustria never moved again. Now the CPI owns
"ask for the consent"; when late, the sweep reminds the office (once per cadence), the table
sees it after ten business days, a consent given later moves the step on, and the sweep gives
every open case its step back. Real SQLite, real SMTP server, real Prefect for the sweep."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.cases import Case
from models.enums import ConsentPurpose, State
from models.ops import Outbox
from tasks.core.consent import grant_consent
from tasks.mail.smtp_sink import MailSink
from tasks.maintenance import refresh_open_steps, remind_consent_steps
from tasks.policy.tavolo import agenda_markdown, build_agenda
from tests.factories import make_case, seed_partners
from tests.invariants import assert_no_dead_ends

CPI = ConsentPurpose.CPI_PROCESSING
MONDAY = "2026-11-16 09:00 +01:00"


def _stuck_pair(session: Session) -> tuple[Case, Case]:
    """An Italian learner at Lovere and a ready profile at Clusone, neither asked for the consent."""
    seed_partners(session)
    learner = make_case(session, state=State.LITERACY, office="CPI-LOV", consents=(CPI,), family_name="Hrytsenko")
    ready = make_case(
        session,
        state=State.PROFILE_READY,
        office="CPI-CLU",
        consents=(CPI, ConsentPurpose.CPIA_ENROLMENT),
        family_name="Diallo",
    )
    return learner, ready


def test_the_cpi_owns_the_consent_step_and_is_reminded_then_the_table_sees_it(engine: Engine) -> None:
    with time_machine.travel(MONDAY, tick=False), Session(engine, expire_on_commit=False) as s:
        learner, ready = _stuck_pair(s)
        assert (learner.next_step, learner.owner) == ("ask_consent_cpia", "CPI-LOV")
        assert (ready.next_step, ready.owner) == ("ask_consent_confindustria", "CPI-CLU")
        assert learner.next_due == date(2026, 11, 23)  # five business days
        assert remind_consent_steps(s, today=date(2026, 11, 23)) == 0  # due today: not late yet

    with time_machine.travel("2026-11-24 08:00 +01:00", tick=False), Session(engine, expire_on_commit=False) as s:
        assert remind_consent_steps(s, today=date(2026, 11, 24)) == 2  # one digest per office
        s.commit()
        lovere = s.exec(select(Outbox).where(Outbox.recipient_code == "CPI-LOV")).one()
        assert lovere.kind == "consent_to_ask" and lovere.recipient == "cpi.lovere@provincia.bergamo.example"
        assert learner.code in lovere.body_text and ready.code not in lovere.body_text
        assert "consenso a comunicare i dati al CPIA per il corso di italiano" in lovere.body_text
        assert "Hrytsenko" not in lovere.body_text and "ask_consent" not in lovere.body_text + lovere.subject
        # the next days: no new reminder until five business days have passed
        assert remind_consent_steps(s, today=date(2026, 11, 27)) == 0
        assert build_agenda(s, date(2026, 11, 27)).consent == []  # late by 4 business days only

    with time_machine.travel("2026-12-02 08:00 +01:00", tick=False), Session(engine, expire_on_commit=False) as s:
        assert remind_consent_steps(s, today=date(2026, 12, 2)) == 2  # again, a week later
        s.commit()
        # the Lovere office asks and records the consent: the sweep moves the step on
        grant_consent(s, learner.person_key, ConsentPurpose.CPIA_ENROLMENT, source="sportello")
        assert refresh_open_steps(s, today=date(2026, 12, 2)) == 1
        s.commit()
        moved = s.exec(select(Case).where(Case.code == learner.code)).one()
        assert (moved.next_step, moved.owner) == ("request_enrolment", "CPI-LOV")

    with time_machine.travel("2026-12-09 08:00 +01:00", tick=False), Session(engine, expire_on_commit=False) as s:
        agenda = build_agenda(s, date(2026, 12, 9))  # 23/11 + 10 business days (8/12 a holiday)
        assert [r["case_code"] for r in agenda.consent] == [ready.code]
        assert agenda.consent[0]["consent"] == "consenso a inviare il profilo a Confindustria"
        text = agenda_markdown(agenda)
        assert "## Consensi da chiedere, in ritardo (1)" in text and ready.code in text and "Diallo" not in text
        assert agenda.codes()["consent"] == [ready.code]


def test_the_sweep_gives_every_open_case_its_step_back_and_mails_the_reminder(engine: Engine, mail: MailSink) -> None:
    from flows.maintenance import maintenance

    with Session(engine, expire_on_commit=False) as s:
        learner, _ = _stuck_pair(s)
        learner.next_due = date(2026, 11, 2)  # asked to ask a month ago
        s.add(learner)
        lost = make_case(s, state=State.INTERVIEW, office="CPI-BG", consents=(CPI,))
        lost.next_step, lost.owner, lost.next_due = None, None, None  # an older release left it here
        s.add(lost)
        s.commit()

    swept = maintenance()

    assert swept["steps_refreshed"] >= 1 and swept["consent_reminders"] == 1
    with Session(engine, expire_on_commit=False) as s:
        back = s.exec(select(Case).where(Case.code == lost.code)).one()
        assert (back.next_step, back.owner) == ("interview_outcome", "CPI-BG") and back.next_due is not None
        assert_no_dead_ends(s)
    (reminder,) = [m for m in mail.messages if m.kind == "consent_to_ask"]
    assert reminder.rcpt_tos == ("cpi.lovere@provincia.bergamo.example",)
    body = reminder.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert learner.code in body and "Centro per l'Impiego di Lovere" in body
    assert maintenance()["consent_reminders"] == 0  # the same day: once
