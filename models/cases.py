"""Cases, their append-only history, assessments, courses and profiles (no identifiers)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models import people  # noqa: F401  (its foreign keys' tables, registered before any flush)
from models.base import enum_column, json_column
from models.clock import utcnow
from models.enums import AssessmentSource, Cefr, Isced, Licence, Recognition, State


class Case(SQLModel, table=True):
    """One person's referral episode, addressed everywhere by its pseudonymous code."""

    __tablename__ = "case"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=20)
    person_key: str = Field(foreign_key="person_key.token", index=True, max_length=32)
    state: State = Field(sa_column=enum_column(State, index=True))
    office_code: str | None = Field(default=None, index=True)
    merged_into_id: int | None = Field(default=None, foreign_key="case.id")
    intake_at: datetime | None = None
    next_step: str | None = None
    next_due: date | None = Field(default=None, index=True)
    next_step_reason: str | None = Field(
        default=None, max_length=40, description="why the case waits at next_step: a code, never personal data"
    )
    owner: str | None = Field(
        default=None, index=True, max_length=40, description='who acts on next_step: office or org code, "coordinators"'
    )
    route: str | None = Field(default=None, description="policy/training route that led to the outcome")
    version: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class CaseEvent(SQLModel, table=True):
    """Append-only audit of every state change (one row per transition)."""

    __tablename__ = "case_event"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    from_state: State | None = Field(default=None, sa_column=enum_column(State, nullable=True))
    to_state: State = Field(sa_column=enum_column(State, index=True))
    actor: str
    reason: str | None = None
    at: datetime = Field(default_factory=utcnow, index=True)
    flow_run_id: str | None = Field(default=None, index=True, description="the Prefect run that made the move")


class CodeSequence(SQLModel, table=True):
    """Next case number per province and year (BG-2026-000123)."""

    __tablename__ = "code_sequence"
    prefix: str = Field(primary_key=True, max_length=16)
    last: int = 0


class Assessment(SQLModel, table=True):
    """Italian level per skill, with where it comes from."""

    __tablename__ = "assessment"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    listening: Cefr = Field(sa_column=enum_column(Cefr))
    reading: Cefr = Field(sa_column=enum_column(Cefr))
    interaction: Cefr = Field(sa_column=enum_column(Cefr))
    production: Cefr = Field(sa_column=enum_column(Cefr))
    writing: Cefr = Field(sa_column=enum_column(Cefr))
    source: AssessmentSource = Field(sa_column=enum_column(AssessmentSource))
    assessed_on: date


class Enrollment(SQLModel, table=True):
    """An Italian course at a CPIA for one case."""

    __tablename__ = "enrollment"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    cpia_code: str = Field(foreign_key="organisation.code")
    level: Cefr = Field(sa_column=enum_column(Cefr))
    requested_at: datetime = Field(default_factory=utcnow)
    start: date | None = None
    end: date | None = None
    outcome: str | None = Field(default=None, description="passed | failed | dropped")


class Profile(SQLModel, table=True):
    """What employers see: competences only, never identifiers."""

    __tablename__ = "profile"
    __table_args__ = (UniqueConstraint("case_id", name="uq_profile_case"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    occupations: list[str] = Field(default_factory=list, sa_column=json_column(), description="ISCO-08 unit codes")
    skills: list[str] = Field(default_factory=list, sa_column=json_column())
    experience_years: int = 0
    education: Isced = Field(default=Isced.LOWER_SECONDARY, sa_column=enum_column(Isced))
    education_country: str | None = None
    recognition: Recognition = Field(default=Recognition.NOT_NEEDED, sa_column=enum_column(Recognition))
    licence: Licence = Field(default=Licence.NONE, sa_column=enum_column(Licence))
    italian: Cefr = Field(default=Cefr.PRE_A1, sa_column=enum_column(Cefr))
    availability: str = "full_time"
    shifts: bool = True
    mobility_km: int = 20
    area: str | None = Field(default=None, description="municipality of residence (coarse location)")
    updated_at: datetime = Field(default_factory=utcnow)
