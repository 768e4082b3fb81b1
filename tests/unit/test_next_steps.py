"""Every open case has a next step, an owner and a due date: the table, the pure rule, the bulk
application by transition_many, refresh, and the migration that fills existing cases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import time_machine
from alembic import command
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.data import ConfigError
from config.next_steps import COORDINATORS, NEXT_STEPS_FILE, OwnerKind, load_next_steps
from models.cases import Case, Enrollment
from models.enums import ConsentPurpose, InterestAnswer, State
from models.exchange import Interest
from models.state_machine import OPEN
from tasks.core.consent import grant_consent
from tasks.core.next_steps import (
    choose_step,
    due_date,
    owner_code,
    refresh_steps,
    set_step,
    step_label,
    stuck_cases,
)
from tasks.core.transitions import record_creations, transition, transition_many
from tasks.runtime.db import alembic_config, make_engine
from tests.factories import SHAREABLE, make_case, seed_partners
from tests.invariants import assert_no_dead_ends, dead_ends

CPI = ConsentPurpose.CPI_PROCESSING
FRIDAY = "2026-12-04 10:00 +01:00"  # Tuesday 8 December is a holiday (Immacolata)

# --------------------------------------------------------------------------------------------
# The table (config/next_steps.yaml)


def test_the_table_covers_every_open_state_in_italian() -> None:
    table = load_next_steps()
    assert set(table.states) == set(OPEN)
    for step in table.steps.values():
        assert "_" not in step.label and step.label[0].islower(), step.code  # words, not codes


def _write(tmp_path: Path, text_: str) -> Path:
    path = tmp_path / "next_steps.yaml"
    path.write_text(text_, encoding="utf-8")
    return path


def _table_with(tmp_path: Path, old: str, new: str) -> Path:
    original = NEXT_STEPS_FILE.read_text(encoding="utf-8")
    assert old in original
    return _write(tmp_path, original.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  policy:\n    - step: choose_measure\n", "", r"no rule for the open states \['policy'\]"),
        ("when: {consent_cpia: false}", "when: {consent_given: false}", r"states.literacy\[0\]: unknown facts"),
        ("    - step: dispatch_profile\n", "", r"states.profile_ready: the last row must have no 'when'"),
        ("    - step: await_interest", "    - step: wait_for_companies", r"states.dispatched\[0\]: unknown step"),
        ('label: "fissare il primo colloquio"', 'label: "schedule_intake"', r"code='schedule_intake'.*Italian"),
        ("owner: cpia", "owner: volunteer", r"steps\[8\] \(code='literacy_course'\)"),
        ("  accepted:\n", "  hired:\n    - step: intake\n  accepted:\n", r"states.hired: hired is not an open state"),
    ],
)
def test_a_broken_table_names_file_entry_and_reason(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _table_with(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message) as err:
        load_next_steps(path)
    assert str(path) in str(err.value)


# --------------------------------------------------------------------------------------------
# The pure rule


def test_literacy_and_profile_ready_depend_on_consent_and_course() -> None:
    table = load_next_steps()

    def step(state: State, **facts: bool) -> str | None:
        chosen = choose_step(table, state, facts)
        return chosen.code if chosen else None

    assert step(State.LITERACY, consent_cpia=False, course_open=False) == "ask_consent_cpia"
    assert step(State.LITERACY, consent_cpia=True, course_open=False) == "request_enrolment"
    assert step(State.LITERACY, consent_cpia=True, course_open=True) == "literacy_course"
    assert step(State.PROFILE_READY, consent_confindustria=False) == "ask_consent_confindustria"
    assert step(State.PROFILE_READY, consent_confindustria=True) == "dispatch_profile"
    assert step(State.NOT_SELECTED) == "repropose_profile"
    assert step(State.HIRED) is None and step(State.CLOSED) is None
    assert table.steps["ask_consent_cpia"].owner is OwnerKind.OFFICE
    with pytest.raises(KeyError, match="consent_cpia"):
        step(State.LITERACY)  # a fact the rows test is never silently false


def test_owner_codes_fall_back_to_the_office_then_the_coordinators() -> None:
    assert owner_code(OwnerKind.OFFICE, office_code="CPI-BG") == "CPI-BG"
    assert owner_code(OwnerKind.OFFICE, office_code=None) == COORDINATORS
    assert owner_code(OwnerKind.COORDINATOR, office_code="CPI-BG") == COORDINATORS
    assert owner_code(OwnerKind.CPIA, office_code="CPI-BG", org_code="CPIA-BG") == "CPIA-BG"
    assert owner_code(OwnerKind.COMPANY, office_code="CPI-TRV") == "CPI-TRV"
    assert owner_code(OwnerKind.OPERATOR, office_code=None) == COORDINATORS


def test_due_dates_skip_weekends_and_holidays_and_labels_are_words() -> None:
    table = load_next_steps()
    assert due_date(table.steps["schedule_intake"], date(2026, 12, 4)) == date(2026, 12, 9)  # Mon 7, (Tue 8), Wed 9
    assert due_date(table.steps["route_after_intake"], date(2026, 8, 25)) == date(2026, 8, 27)  # 26/8 Bergamo
    assert step_label("ask_consent_confindustria") == "chiedere il consenso a inviare il profilo a Confindustria"
    assert step_label("misura gol") == "passo da verificare" and step_label(None) == "nessun prossimo passo"


# --------------------------------------------------------------------------------------------
# transition_many applies them


@time_machine.travel(FRIDAY, tick=False)
def test_every_move_sets_the_default_step_owner_and_due_date(session: Session) -> None:
    seed_partners(session)
    yes = make_case(session, state=State.INTAKE_DONE, office="CPI-TRV", consents=(CPI, ConsentPurpose.CPIA_ENROLMENT))
    no = make_case(session, state=State.INTAKE_DONE, office="CPI-TRV")
    shared = make_case(session, state=State.INTAKE_DONE, office="CPI-ALB", consents=SHAREABLE)
    kept = make_case(session, state=State.INTAKE_DONE, office="CPI-ALB")
    transition_many(session, [(yes, None), (no, None)], State.LITERACY, actor="test")
    transition_many(session, [(shared, None), (kept, None)], State.PROFILE_READY, actor="test")
    session.commit()
    session.expire_all()
    got = {c.code: (c.next_step, c.owner, c.next_due) for c in session.exec(select(Case)).all()}
    assert got == {
        yes.code: ("request_enrolment", "CPI-TRV", date(2026, 12, 14)),
        no.code: ("ask_consent_cpia", "CPI-TRV", date(2026, 12, 14)),  # 7 9 10 11 14
        shared.code: ("dispatch_profile", COORDINATORS, date(2026, 12, 14)),
        kept.code: ("ask_consent_confindustria", "CPI-ALB", date(2026, 12, 14)),
    }
    assert_no_dead_ends(session)


@time_machine.travel(FRIDAY, tick=False)
def test_the_owner_is_the_organisation_that_acts(session: Session) -> None:
    seed_partners(session)
    case = make_case(session, state=State.DISPATCHED, office="CPI-BG")
    assert case.id is not None
    session.add(Interest(company_code="COMP-GOMMA-ISOLA", case_id=case.id, answer=InterestAnswer.INTERESTED))
    transition(session, case, State.INTEREST, actor="test")
    assert (case.next_step, case.owner) == ("arrange_interview", "COMP-GOMMA-ISOLA")  # mirrored in memory
    course = make_case(
        session, state=State.INTAKE_DONE, office="CPI-LOV", consents=(CPI, ConsentPurpose.CPIA_ENROLMENT)
    )
    assert course.id is not None
    session.add(Enrollment(case_id=course.id, cpia_code="CPIA-BG", level="A1"))  # type: ignore[arg-type]
    transition(session, course, State.LITERACY, actor="test")
    session.commit()
    session.expire_all()
    assert (case.next_step, case.owner) == ("arrange_interview", "COMP-GOMMA-ISOLA")
    assert (course.next_step, course.owner, course.next_due) == ("literacy_course", "CPIA-BG", date(2027, 3, 4))


def test_a_closed_case_has_no_next_step_and_an_explicit_step_is_kept(session: Session) -> None:
    seed_partners(session)
    gone = make_case(session, state=State.PROFILE_READY)
    transition(session, gone, State.CLOSED, actor="test", reason="moved_away")
    slot = make_case(session, state=State.ACCEPTED, office="CPI-CLU")
    set_step(slot, "intake", due=date(2026, 12, 22))
    transition(session, slot, State.INTAKE_SCHEDULED, actor="test", keep_step=True)
    forgot = make_case(session, state=State.ACCEPTED, office="CPI-CLU")
    forgot.next_step = None
    transition(session, forgot, State.INTAKE_SCHEDULED, actor="test", keep_step=True)  # keeps nothing: default
    by_hand = make_case(session, state=State.ACCEPTED, office="CPI-ROM")
    by_hand.next_step, by_hand.next_due, by_hand.owner = "intake", date(2026, 12, 23), None
    by_hand.next_step_reason = "consent_to_collect"
    transition(session, by_hand, State.INTAKE_SCHEDULED, actor="test", keep_step=True)  # owner filled, rest kept
    session.commit()
    session.expire_all()
    assert (gone.next_step, gone.owner, gone.next_due) == (None, None, None)
    assert (slot.next_step, slot.owner, slot.next_due) == ("intake", "CPI-CLU", date(2026, 12, 22))
    assert (forgot.next_step, forgot.owner) == ("intake", "CPI-CLU") and forgot.next_due is not None
    assert (by_hand.next_step, by_hand.owner, by_hand.next_due, by_hand.next_step_reason) == (
        "intake",
        "CPI-ROM",
        date(2026, 12, 23),
        "consent_to_collect",
    )
    with pytest.raises(KeyError, match="non descritto"):
        set_step(slot, "call_the_person")


def test_new_referrals_wait_for_the_coordinators(session: Session) -> None:
    seed_partners(session)
    case = make_case(session)
    case.next_step = case.owner = case.next_due = None
    session.commit()
    assert dead_ends(session) == [f"{case.code} (referred): no step, no owner, no due date"]
    assert [c.code for c in stuck_cases(session)] == [case.code]
    assert case.id is not None
    record_creations(session, [(case.id, case.code)], State.REFERRED, actor="test")
    session.commit()
    assert (case.next_step, case.owner) == ("review_referral", COORDINATORS)
    assert stuck_cases(session) == []


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to ``engine`` inside the block."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_bulk_moves_cost_the_same_statements_for_3_or_60_cases(engine: Engine) -> None:
    counts = []
    for n in (3, 60):
        with Session(engine, expire_on_commit=False) as s:
            seed_partners(s)
            cases = [
                make_case(s, state=State.INTAKE_DONE, office=("CPI-BG", "CPI-TRV")[i % 2], consents=SHAREABLE)
                for i in range(n)
            ]
            for c in cases[::3]:
                c.next_step = None  # a stale or missing step does not matter: the move sets it
            s.commit()
            with _statements(engine) as seen:
                transition_many(s, [(c, None) for c in cases], State.PROFILE_READY, actor="test")
                s.flush()
            counts.append(len(seen))
            s.commit()
            assert_no_dead_ends(s)
    assert counts[0] == counts[1], counts  # no statement per case


# --------------------------------------------------------------------------------------------
# Refresh: a consent given later


def test_refresh_follows_a_later_consent_and_keeps_explicit_steps(session: Session) -> None:
    seed_partners(session)
    waiting = make_case(session, state=State.PROFILE_READY, office="CPI-BG")
    coordinators = make_case(session, state=State.REFERRED, office=None)
    set_step(coordinators, "assign_office", reason="out_of_province")
    bare = make_case(session, state=State.NOT_SELECTED)
    bare.owner = None
    session.commit()
    assert waiting.next_step == "ask_consent_confindustria"
    due = waiting.next_due
    assert due is not None
    assert refresh_steps(session, [waiting, coordinators, bare]) == 1  # only `bare`: nothing else changed
    grant_consent(session, waiting.person_key, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA, source="test")
    assert refresh_steps(session, [waiting, coordinators, bare]) == 1
    session.commit()
    session.expire_all()
    assert (waiting.next_step, waiting.owner) == ("dispatch_profile", COORDINATORS) and waiting.next_due is not None
    assert waiting.next_due >= due
    assert (coordinators.next_step, coordinators.next_step_reason) == ("assign_office", "out_of_province")
    assert_no_dead_ends(session)


# --------------------------------------------------------------------------------------------
# The migration fills the cases that exist


@time_machine.travel(FRIDAY, tick=False)
def test_migration_0011_gives_every_open_case_a_step_owner_and_due_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0007")
    engine = make_engine(url)
    rows = [  # code, state, office, next_step, next_due
        ("BG-2026-000001", "literacy", "CPI-TRV", None, None),  # no CPIA consent
        ("BG-2026-000002", "literacy", "CPI-TRV", "literacy_course", None),  # course open at CPIA-BG
        ("BG-2026-000003", "profile_ready", "CPI-ALB", None, None),  # consents to Confindustria
        ("BG-2026-000004", "policy", "CPI-BG", "misura gol", "2026-12-10"),
        ("BG-2026-000005", "referred", None, "assign_office", "2026-12-07"),
        ("BG-2026-000006", "hired", "CPI-BG", None, None),  # closed: left alone
        ("BG-2026-000007", "interest", "CPI-BG", None, None),
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organisation (code, kind, name, email, language) VALUES "
                "('CPIA-BG', 'cpia', 'CPIA', 'a@b.example', 'it'), ('COMP-X', 'company', 'X', 'x@b.example', 'it')"
            )
        )
        for n, (code, state, office, step, due) in enumerate(rows, start=1):
            conn.execute(text("INSERT INTO person_key (token, created_at) VALUES (:k, '2026-12-01')"), {"k": f"k{n}"})
            conn.execute(
                text(
                    'INSERT INTO "case" (id, code, person_key, state, office_code, next_step, next_due, version, '
                    "created_at, updated_at) VALUES (:id, :code, :k, :state, :office, :step, :due, 0, "
                    "'2026-12-01', '2026-12-01')"
                ),
                {"id": n, "code": code, "k": f"k{n}", "state": state, "office": office, "step": step, "due": due},
            )
        conn.execute(
            text(
                "INSERT INTO consent (person_key, purpose, recipient_code, source, given_at) VALUES "
                "('k3', 'profile_to_confindustria', '*', 'test', '2026-12-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO enrollment (case_id, cpia_code, level, requested_at) "
                "VALUES (2, 'CPIA-BG', 'A1', '2026-12-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO interest (company_code, case_id, answer, channel, processed, answered_at) "
                "VALUES ('COMP-X', 7, 'interested', 'file', 1, '2026-12-01')"
            )
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        got = {
            code: (step, owner, due)
            for code, step, owner, due in conn.execute(
                text('SELECT code, next_step, owner, next_due FROM "case" ORDER BY code')
            ).all()
        }
    engine.dispose()
    assert got == {
        "BG-2026-000001": ("ask_consent_cpia", "CPI-TRV", "2026-12-14"),
        "BG-2026-000002": ("literacy_course", "CPIA-BG", "2027-03-04"),
        "BG-2026-000003": ("dispatch_profile", COORDINATORS, "2026-12-14"),
        "BG-2026-000004": ("policy_measure", "CPI-BG", "2026-12-10"),
        "BG-2026-000005": ("assign_office", COORDINATORS, "2026-12-07"),
        "BG-2026-000006": (None, None, None),
        "BG-2026-000007": ("arrange_interview", "COMP-X", "2026-12-21"),
    }
