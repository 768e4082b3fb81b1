"""The partners' feedback digest (tasks/referral/feedback.py) on a migrated SQLite database:
news of the people a partner referred (CPIA course, measure, hire, closure with its reason), to
that partner only, with the person's consent, once each, daily or weekly as the partner chose;
plus ``incontro partner-link``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cli.main import main
from models.cases import Case
from models.enums import ConsentPurpose, State
from models.ops import AuditLog, Outbox
from models.people import Organisation
from tasks.core.closure import close_cases
from tasks.core.transitions import transition
from tasks.mail.links import verify_partner_link
from tasks.referral.feedback import send_partner_digests
from tests.factories import make_case, seed_partners

CARITAS, PONTE = "CARITAS-BG", "ASSOC-PONTE-UCRAINA"
TOLD = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT)
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _move(session: Session, case: Case, *states: State) -> None:
    for state in states:
        transition(session, case, state, actor="test:operatore")
    session.commit()


@pytest.fixture
def referred(engine: Engine) -> dict[str, Case]:
    with time_machine.travel(MONDAY - timedelta(days=10), tick=False), Session(engine, expire_on_commit=False) as s:
        seed_partners(s)
        cases = {
            "olena": make_case(s, state=State.INTAKE_DONE, referrer=CARITAS, consents=TOLD,
                               family_name="Kovalenko", given_names="Olena"),
            "moussa": make_case(s, state=State.INTERVIEW, referrer=CARITAS, consents=TOLD,
                                family_name="Traoré", given_names="Moussa"),
            "silent": make_case(s, state=State.INTERVIEW, referrer=CARITAS, family_name="Petrenko",
                                given_names="Taras"),  # no REFERRER_CONTACT consent
            "iryna": make_case(s, state=State.ACCEPTED, referrer=PONTE, consents=TOLD,
                               family_name="Melnyk", given_names="Iryna"),
        }  # fmt: skip
        send_partner_digests(s, now=MONDAY - timedelta(days=10))  # first sweep: nothing new yet
        s.commit()
    return cases


def _digests(session: Session) -> list[Outbox]:
    return list(session.exec(select(Outbox).where(Outbox.kind == "partner_digest").order_by(Outbox.id)).all())


def test_digest_tells_the_referrer_its_news_with_names_and_reasons(engine: Engine, referred: dict[str, Case]) -> None:
    with time_machine.travel(MONDAY - timedelta(days=2), tick=False), Session(engine, expire_on_commit=False) as s:
        _move(s, referred["olena"], State.LITERACY)
        _move(s, referred["moussa"], State.HIRED)
        _move(s, referred["silent"], State.HIRED)
        close_cases(s, [referred["iryna"].code], "moved_away", note=None, actor="test:operatore")
        s.commit()
    with Session(engine) as s:
        assert send_partner_digests(s, now=MONDAY) == 2
        s.commit()
        by_org = {row.recipient_code: row for row in _digests(s)}
    caritas = by_org[CARITAS].body_text
    assert "Olena Kovalenko" in caritas and "corso di italiano del CPIA" in caritas
    assert "Moussa Traoré" in caritas and "assunzione" in caritas
    assert "Petrenko" not in caritas  # no consent to tell the referrer
    assert "Melnyk" not in caritas and referred["iryna"].code not in caritas
    ponte = by_org[PONTE].body_text
    assert "Iryna Melnyk" in ponte and "chiusura del percorso" in ponte and "trasferita fuori dal territorio" in ponte
    assert "moved_away" not in ponte and "literacy" not in caritas
    link = caritas.split("/segnalazioni/accesso/")[1].split()[0]
    assert verify_partner_link(link, now=MONDAY.timestamp()).org_code == CARITAS
    with Session(engine) as s:
        audited = {a.case_code for a in s.exec(select(AuditLog).where(AuditLog.actor == "system:partner-digest"))}
        assert audited == {referred["olena"].code, referred["moussa"].code, referred["iryna"].code}


def test_each_news_once_and_daily_or_weekly_as_chosen(engine: Engine, referred: dict[str, Case]) -> None:
    with Session(engine) as s:
        org = s.get(Organisation, CARITAS)
        assert org is not None
        org.digest_frequency = "daily"
        s.add(org)
        s.commit()
    with time_machine.travel(MONDAY - timedelta(hours=1), tick=False), Session(engine, expire_on_commit=False) as s:
        _move(s, referred["olena"], State.LITERACY)
    with Session(engine) as s:
        assert send_partner_digests(s, now=MONDAY) == 1
        s.commit()
    with time_machine.travel(MONDAY + timedelta(hours=2), tick=False), Session(engine, expire_on_commit=False) as s:
        _move(s, referred["moussa"], State.HIRED)
    with Session(engine) as s:
        assert send_partner_digests(s, now=MONDAY + timedelta(hours=3)) == 0  # same day: waits
        assert send_partner_digests(s, now=MONDAY + timedelta(days=1)) == 1  # next day: only the new news
        s.commit()
        second = _digests(s)[-1].body_text
        assert "Moussa" in second and "Olena" not in second
        assert send_partner_digests(s, now=MONDAY + timedelta(days=2)) == 0  # nothing new
    with time_machine.travel(MONDAY + timedelta(days=3), tick=False), Session(engine, expire_on_commit=False) as s:
        close_cases(s, [referred["iryna"].code], "found_job_alone", note=None, actor="test:operatore")
        s.commit()
    with Session(engine) as s:  # PONTE kept the weekly default and never had a digest: due
        assert send_partner_digests(s, now=MONDAY + timedelta(days=4)) == 1
        s.commit()
    with time_machine.travel(MONDAY + timedelta(days=5), tick=False), Session(engine, expire_on_commit=False) as s:
        late = make_case(s, state=State.INTERVIEW, referrer=PONTE, consents=TOLD, family_name="Bondar",
                         given_names="Yulia")  # fmt: skip
        _move(s, late, State.HIRED)
    with Session(engine) as s:
        assert send_partner_digests(s, now=MONDAY + timedelta(days=6)) == 0  # a week not yet gone
        assert send_partner_digests(s, now=MONDAY + timedelta(days=11)) == 1
        s.commit()
        assert "Yulia Bondar" in _digests(s)[-1].body_text


def test_partner_link_command_prints_or_queues(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["partner-link", CARITAS, "--days", "14"]) == 0
    printed = capsys.readouterr().out
    token = printed.split("/segnalazioni/accesso/")[1].split()[0]
    link = verify_partner_link(token)
    assert link.org_code == CARITAS and 13 * 86400 < link.expires_at - link.issued_at <= 14 * 86400
    assert main(["partner-link", CARITAS, "--email", "--actor", "coordinamento"]) == 0
    assert "/segnalazioni/" not in capsys.readouterr().out  # the credential goes by email only
    with Session(engine) as s:
        row = s.exec(select(Outbox).where(Outbox.kind == "partner_link")).one()
        assert row.recipient_code == CARITAS and "/segnalazioni/accesso/" in row.body_text
    assert main(["partner-link", "COMP-OFFICINE-VALSERIANA"]) == 2
    assert "non è un ente che segnala" in capsys.readouterr().err
