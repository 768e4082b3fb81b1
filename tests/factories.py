"""Factories and helpers for tests: organisations, people and cases with sensible defaults; outbox drains."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, timedelta
from itertools import count
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from models.cases import Case, CaseEvent, Profile
from models.clock import utcnow
from models.enums import Cefr, ConsentPurpose, Licence, OutboxStatus, State
from models.ops import Outbox
from models.people import Person, PersonKey, Referral
from models.state_machine import ConcurrentTransition
from tasks.core.consent import grant_consent
from tasks.core.next_steps import apply_default_steps
from tasks.core.partners import sync_organisations
from tasks.core.transitions import transition
from tasks.mail.drain import DrainReport, drain_outbox

_seq = count(1)

#: The consents that make a profile shareable with Confindustria (dispatch's gate).
SHAREABLE = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA)


def seed_partners(session: Session) -> None:
    sync_organisations(session)
    session.commit()


def make_case(
    session: Session,
    *,
    state: State = State.REFERRED,
    office: str | None = "CPI-BG",
    consents: tuple[ConsentPurpose, ...] = (ConsentPurpose.CPI_PROCESSING,),
    referrer: str = "CARITAS-BG",
    profile: dict[str, Any] | None = None,
    **person: Any,
) -> Case:
    """A committed case in ``state`` with its person, referral, consents and optional profile."""
    n = next(_seq)
    key = PersonKey()
    session.add(key)
    session.flush()
    fields: dict[str, Any] = {
        "family_name": f"Rossi{n}",
        "given_names": "Anna",
        "birth_date": date(1990, 1, 1),
        "municipality": "Bergamo",
        "email": f"anna{n}@mail.example",
    }
    fields.update(person)
    session.add(Person(key=key.token, **fields))
    case = Case(code=f"BG-2026-9{n:05d}", person_key=key.token, state=state, office_code=office)
    session.add(case)
    session.flush()
    session.add(Referral(person_key=key.token, case_id=case.id, referrer_code=referrer, experiences_text="saldatore"))
    for purpose in consents:
        grant_consent(session, key.token, purpose, source="test")
    if profile is not None:
        defaults: dict[str, Any] = {
            "occupations": ["7212"],
            "italian": Cefr.A2,
            "licence": Licence.B,
            "area": "Bergamo",
        }
        session.add(Profile(case_id=case.id, **(defaults | profile)))
    apply_default_steps(session, [case], state)  # as the move into ``state`` would have (next_steps.yaml)
    session.commit()
    return case


# ---------------------------------------------------------------------------------- outbox


def drain(engine: Engine, settings: Settings, **kwargs: Any) -> DrainReport:
    """One real drain of the outbox (to whatever SMTP server ``settings`` names)."""
    return asyncio.run(drain_outbox(engine, settings=settings, **kwargs))


def make_due(engine: Engine) -> None:
    """Time travel past every backoff: each pending row becomes due now."""
    with Session(engine) as session:
        for row in session.exec(select(Outbox).where(Outbox.status == OutboxStatus.PENDING)).all():
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
            session.add(row)
        session.commit()


# ----------------------------------------------------------------------------- concurrency


def race_two_transitions(engine: Engine) -> tuple[list[str], list[State], State]:
    """Two sessions read one REFERRED case, then both try to move it (ACCEPTED vs REJECTED).

    Returns each side's outcome ("won"/"lost"), the target of every case event written and the
    case's final state: the optimistic state check must let exactly one through, on any engine.
    """
    with Session(engine) as s:
        seed_partners(s)
        case_id = make_case(s).id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(target: State) -> None:
        with Session(engine, expire_on_commit=False) as s:
            case = s.get(Case, case_id)
            assert case is not None and case.state is State.REFERRED  # both read the same state
            s.commit()  # read done; decide, then write (the optimistic pattern)
            barrier.wait()
            try:
                transition(s, case, target, actor=f"worker:{target.value}", reason="race")
                s.commit()
                outcomes.append("won")
            except ConcurrentTransition:
                s.rollback()
                outcomes.append("lost")

    threads = [threading.Thread(target=move, args=(t,)) for t in (State.ACCEPTED, State.REJECTED)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with Session(engine) as s:
        targets = [State(e.to_state) for e in s.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()]
        final = s.get(Case, case_id)
        assert final is not None
        return outcomes, targets, State(final.state)
