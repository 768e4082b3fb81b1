"""Factories for tests: organisations, people and cases with sensible defaults."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from sqlmodel import Session

from models.cases import Case, Profile
from models.enums import Cefr, ConsentPurpose, Licence, State
from models.people import Person, PersonKey, Referral
from tasks.consent import grant_consent
from tasks.partners import sync_organisations

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
    session.commit()
    return case
