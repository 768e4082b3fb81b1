"""Missed intake appointments (issue 18): at most two new appointments, then the referrer is asked
to reach the person, then the CPI is asked to propose closing the case; the invitations say
"a new appointment", and the referrer's digest names who has no email (real Prefect test server,
real SQLite/PostgreSQL app database, real SMTP sink)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows._params import OfficeCode
from models.cases import Case
from models.clock import ROME
from models.enums import ConsentPurpose, Language, State
from tasks.intake import record_intake
from tasks.mail.smtp_sink import MailSink
from tests.factories import make_case, seed_partners
from tests.invariants import assert_no_dead_ends

LOVERE = OfficeCode("CPI-LOV")  # one desk, mornings 09:00-12:30, 45-minute appointments


def _body(message: Any) -> str:
    return str(message.message.get_body(preferencelist=("plain",)).get_content())


def _by_kind(mail: MailSink, kind: str) -> list[Any]:
    return [m for m in mail.messages if m.kind == kind]


def _absent(engine: Engine, codes: list[str], day: date) -> None:
    """The office's form: nobody came."""
    with Session(engine, expire_on_commit=False) as s:
        outcome = record_intake(s, [{"case_code": c, "present": False} for c in codes], today=day)
        s.commit()
    assert sorted(outcome.no_show) == sorted(codes)


def _cases(engine: Engine, *codes: str) -> list[Case]:
    with Session(engine, expire_on_commit=False) as s:
        return [s.exec(select(Case).where(Case.code == code)).one() for code in codes]


def test_two_new_appointments_then_the_referrer_then_the_closure_proposal(engine: Engine, mail: MailSink) -> None:
    from flows.intake import intake

    with Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        # Mariia has no email; Caritas may be told about her
        mariia = make_case(
            s,
            state=State.ACCEPTED,
            office="CPI-LOV",
            referrer="CARITAS-BG",
            consents=(ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT),
            family_name="Shevchenko",
            given_names="Mariia",
            municipality="Lovere",
            email=None,
        ).code
        # Bohdan reads Ukrainian and did not let the referrer be told about him
        bohdan = make_case(
            s,
            state=State.ACCEPTED,
            office="CPI-LOV",
            referrer="CARITAS-BG",
            family_name="Kovalenko",
            given_names="Bohdan",
            municipality="Costa Volpino",
            email="bohdan.kovalenko@ukr.example",
            preferred_language=Language.UK,
        ).code

    # first appointment: Mon 24 Aug 2026, two business days ahead skipping 26 August -> Thu 27
    assert intake(office=LOVERE, as_of=date(2026, 8, 24))["scheduled"] == {"CPI-LOV": 2}
    first, second = _cases(engine, mariia, bohdan)
    assert first.intake_at == datetime(2026, 8, 27, 9, 0, tzinfo=ROME)
    assert second.intake_at == datetime(2026, 8, 27, 9, 45, tzinfo=ROME)  # one desk: one after the other
    (digest,) = _by_kind(mail, "intake_appointment_referrer")
    text = _body(digest)
    assert "primo colloquio" in text and mariia in text and bohdan not in text  # no consent: not told
    assert f"caso {mariia}: giovedì 27 agosto 2026, ore 09:00 - senza email: avvisate voi la persona" in text
    assert "non ha un indirizzo email e non ha ricevuto la convocazione" in text
    (invitation,) = _by_kind(mail, "intake_appointment_candidate")
    assert invitation.message["To"] == "bohdan.kovalenko@ukr.example"
    assert "на першу зустріч" in _body(invitation) and "нова" not in str(invitation.message["Subject"])

    # two absences, two new appointments, each said to be a new one
    for missed_on, today, next_day in [
        (date(2026, 8, 27), date(2026, 8, 27), date(2026, 8, 31)),
        (date(2026, 8, 31), date(2026, 8, 31), date(2026, 9, 2)),
    ]:
        _absent(engine, [mariia, bohdan], missed_on)
        mail.reset()
        assert intake(office=LOVERE, as_of=today)["scheduled"] == {"CPI-LOV": 2}
        cases = _cases(engine, mariia, bohdan)
        assert [c.state for c in cases] == [State.INTAKE_SCHEDULED] * 2
        assert {c.intake_at.astimezone(ROME).date() for c in cases if c.intake_at} == {next_day}
        (invitation,) = _by_kind(mail, "intake_appointment_candidate")
        assert "Ваша нова зустріч" in str(invitation.message["Subject"])
        assert "нову зустріч" in _body(invitation) and "першу зустріч" not in _body(invitation)
        (digest,) = _by_kind(mail, "intake_appointment_referrer")
        assert "nuovo appuntamento" in str(digest.message["Subject"])
        assert "è stato fissato un nuovo appuntamento (al precedente non si è presentata)" in _body(digest)
        assert "primo colloquio" not in _body(digest)
        with Session(engine) as s:
            assert_no_dead_ends(s)

    # the third absence: no fourth appointment
    _absent(engine, [mariia, bohdan], date(2026, 9, 2))
    mail.reset()
    assert intake(office=LOVERE, as_of=date(2026, 9, 2))["scheduled"] == {}
    told, untold = _cases(engine, mariia, bohdan)
    assert told.state is untold.state is State.NO_SHOW
    # Caritas is asked to reach Mariia, by Wed 16 Sep (ten business days)
    assert (told.next_step, told.owner, told.next_due) == ("referrer_reach_person", "CARITAS-BG", date(2026, 9, 16))
    # nobody may tell Bohdan's referrer: the CPI proposes the closure straight away
    assert (untold.next_step, untold.owner) == ("propose_closure", "CPI-LOV")
    (ask,) = mail.messages
    assert ask.kind == "intake_no_show_referrer"
    assert "ascolto.bergamo@caritas-bergamo.example" in str(ask.message["To"])
    text = _body(ask)
    assert mariia in text and bohdan not in text and "Shevchenko" not in text  # codes only
    assert "3 appuntamenti mancati, l'ultimo mercoledì 2 settembre 2026, ore 09:00" in text
    assert "entro mercoledì 16 settembre 2026" in text and "proporrà la chiusura della pratica" in text
    assert mariia in str(ask.message["Subject"])
    with Session(engine) as s:
        assert_no_dead_ends(s)

    # the sweep runs again and again: nothing more is sent, nothing moves while Caritas has time
    mail.reset()
    for day in (date(2026, 9, 2), date(2026, 9, 10), date(2026, 9, 16)):
        assert intake(as_of=day)["scheduled"] == {}
    assert mail.messages == []
    assert _cases(engine, mariia)[0].next_step == "referrer_reach_person"

    # no news by the due date: the CPI is asked to propose the closure
    assert intake(as_of=date(2026, 9, 17))["scheduled"] == {}
    (proposal,) = _cases(engine, mariia)
    assert (proposal.state, proposal.next_step, proposal.owner) == (State.NO_SHOW, "propose_closure", "CPI-LOV")
    assert mail.messages == []
    with Session(engine) as s:
        assert_no_dead_ends(s)

    # Caritas reached her after all: the operator asks for a new appointment by naming the case
    result = intake(office=LOVERE, case_codes=[mariia], as_of=date(2026, 9, 17))
    assert result["scheduled"] == {"CPI-LOV": 1}
    (again,) = _cases(engine, mariia)
    assert again.state is State.INTAKE_SCHEDULED and again.next_step == "intake"
    (digest,) = _by_kind(mail, "intake_appointment_referrer")
    assert "nuovo appuntamento" in _body(digest) and "senza email" in _body(digest)
    with Session(engine) as s:
        assert_no_dead_ends(s)
