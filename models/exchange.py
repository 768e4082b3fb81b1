"""What goes to and comes from employers: dispatch batches, vacancies, matches, answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models import cases, ops, people  # noqa: F401  (its foreign keys' tables, registered before any flush)
from models.base import enum_column, json_column
from models.clock import utcnow
from models.enums import Cefr, InterestAnswer, Licence, OutcomeKind, PolicyKind, VacancyStatus


class DispatchBatch(SQLModel, table=True):
    """One sending of profiles to Confindustria."""

    __tablename__ = "dispatch_batch"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32, description="e.g. DSP-2026-W48")
    recipient_code: str = Field(foreign_key="organisation.code")
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    profile_count: int = 0


class DispatchItem(SQLModel, table=True):
    __tablename__ = "dispatch_item"
    __table_args__ = (UniqueConstraint("batch_id", "case_id", name="uq_dispatch_item"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="dispatch_batch.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)


class Vacancy(SQLModel, table=True):
    """An open position sent back by Confindustria for demand/supply matching."""

    __tablename__ = "vacancy"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    #: None while the company written in the file waits for the coordinators (incontro vacancy-queue).
    company_code: str | None = Field(default=None, foreign_key="organisation.code", index=True)
    company_written: str | None = Field(default=None, max_length=200, description="the company as the file names it")
    company_vat: str | None = Field(default=None, max_length=11, description="partita IVA from the file, when valid")
    company_match: str | None = Field(default=None, max_length=20, description="how it was found (companies.How)")
    company_confidence: int | None = None
    company_reason: str | None = Field(default=None, description="why, in Italian (tasks/files/companies.py)")
    status: VacancyStatus = Field(default=VacancyStatus.OPEN, sa_column=enum_column(VacancyStatus, index=True))
    title: str
    occupation_code: str | None = Field(default=None, index=True)
    #: The coder's confidence in ``occupation_code`` (below the coder's CONFIRM_BELOW: to be confirmed
    #: by a person, tasks/matching/occupations.py), not the raw similarity of the title; 100 once a
    #: person confirmed or replaced the code (incontro confirm-occupation, audited).
    occupation_score: float | None = None
    skills: list[str] = Field(default_factory=list, sa_column=json_column())
    #: The requirements coded to config/skills.yaml (tasks/matching/skills.py), what matching compares.
    skill_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    italian_required: Cefr = Field(default=Cefr.A2, sa_column=enum_column(Cefr))
    licence_required: Licence = Field(default=Licence.NONE, sa_column=enum_column(Licence))
    municipality: str | None = None
    contract: str | None = None
    openings: int = 1
    valid_until: date | None = None
    import_file_id: int | None = Field(default=None, foreign_key="import_file.id")
    created_at: datetime = Field(default_factory=utcnow)


class Match(SQLModel, table=True):
    """Profile × vacancy score with its parts, so an operator sees why."""

    __tablename__ = "match"
    __table_args__ = (UniqueConstraint("vacancy_id", "case_id", "version", name="uq_match"),)
    id: int | None = Field(default=None, primary_key=True)
    vacancy_id: int = Field(foreign_key="vacancy.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    score: float
    parts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    explanation: str = ""
    version: str
    rank: int = 0
    approved: bool | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Interest(SQLModel, table=True):
    """A company's answer about one profile (optionally for one vacancy)."""

    __tablename__ = "interest"
    __table_args__ = (UniqueConstraint("company_code", "case_id", "vacancy_id", name="uq_interest"),)
    id: int | None = Field(default=None, primary_key=True)
    company_code: str = Field(foreign_key="organisation.code", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    vacancy_id: int | None = Field(default=None, foreign_key="vacancy.id")
    answer: InterestAnswer = Field(sa_column=enum_column(InterestAnswer))
    reason: str | None = None
    channel: str = "operator"
    processed: bool = Field(default=False, index=True)
    answered_at: datetime = Field(default_factory=utcnow)
    contact_released_at: datetime | None = None
    #: The interview day the company gave on its shortlist page (migration 0016).
    interview_on: date | None = None


class Outcome(SQLModel, table=True):
    """Hire, non-selection or activated policy for one case."""

    __tablename__ = "outcome"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: OutcomeKind = Field(sa_column=enum_column(OutcomeKind))
    company_code: str | None = Field(default=None, foreign_key="organisation.code")
    contract_type: str | None = None
    start: date | None = None
    length_days: int | None = None
    policy: PolicyKind | None = Field(default=None, sa_column=enum_column(PolicyKind, nullable=True))
    #: The day a 180-day follow-up refers to: checked still employed on, or left on (migration 0014).
    observed_on: date | None = None
    #: The position a hire or non-selection answers, when the company decided on its shortlist
    #: page (per-vacancy funnel and time-to-fill; migration 0016).
    vacancy_code: str | None = Field(default=None, max_length=32, index=True)
    recorded_at: datetime = Field(default_factory=utcnow)


class CompanyLink(SQLModel, table=True):
    """What went to whom: one member company's signed page, with the profiles it showed when sent
    (a dispatch batch's profiles of its sectors, or a vacancy's approved shortlist)."""

    __tablename__ = "company_link"
    __table_args__ = (UniqueConstraint("kind", "subject_code", "company_code", name="uq_company_link"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, description="batch | shortlist")
    subject_code: str = Field(max_length=32, index=True, description="the batch code or the vacancy code")
    company_code: str = Field(foreign_key="organisation.code", index=True)
    case_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    sent_at: datetime = Field(default_factory=utcnow)
    sent_by: str = Field(max_length=64, description="who pressed send (an actor, never a person's name)")
    outbox_key: str = Field(max_length=200)
