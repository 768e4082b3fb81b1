"""Lookups on the person table that several stages share (identifiers stay in this table)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from models.cases import Case
from models.people import Person
from tasks.runtime.db import in_chunks


def municipalities_of(session: Session, cases: Iterable[Case]) -> dict[str, str | None]:
    """Person key -> comune of residence for ``cases``: one query per 1,000 people."""
    towns: dict[str, str | None] = {}
    for chunk in in_chunks(sorted({c.person_key for c in cases})):
        towns.update(session.exec(select(Person.key, Person.municipality).where(col(Person.key).in_(chunk))).all())
    return towns
