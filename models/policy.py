"""Active policies and funded training: offers, the measure a case is on, its history, the
monthly coordination table — and the operator forms that decide them (structured fields only)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models import cases, exchange, ops, people  # noqa: F401  (its foreign keys' tables, registered before any flush)
from models.base import enum_column, json_column
from models.clock import utcnow


class MeasureKind(StrEnum):
    """Families of measures (GOL, DUL, Garanzia Giovani, territorial projects, a course)."""

    GOL = "gol"
    DUL = "dul"
    GARANZIA_GIOVANI = "garanzia_giovani"
    TERRITORIAL = "territorial"
    TRAINING = "training"


class MeasureStatus(StrEnum):
    """Where a measure stands; ``hired`` closes the case as HIRED with this measure as route."""

    PROPOSED = "proposed"  # suggested by the rules, waiting for the operator
    CHOSEN = "chosen"  # picked by the operator (or the table); provider notified
    NOT_CHOSEN = "not_chosen"  # another proposal was picked
    STARTED = "started"  # enrolled / measure started
    COMPLETED = "completed"
    INTERNSHIP = "internship"
    HIRED = "hired"
    DROPPED = "dropped"


OPEN_MEASURE = (MeasureStatus.CHOSEN, MeasureStatus.STARTED, MeasureStatus.COMPLETED, MeasureStatus.INTERNSHIP)


class TrainingOffer(SQLModel, table=True):
    """A course of an accredited training body, possibly tied to a company position."""

    __tablename__ = "training_offer"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32, description="TRN-<import>-<row>")
    body_code: str = Field(foreign_key="organisation.code", index=True)
    title: str
    occupation_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    skills: list[str] = Field(default_factory=list, sa_column=json_column(), description="what the course teaches")
    italian_min: str | None = Field(default=None, max_length=8, description="CEFR entry level")
    italian_target: str | None = Field(default=None, max_length=8, description="CEFR level reached")
    hours: int
    seats: int
    start: date
    ends_on: date | None = None
    co_funded: bool = False
    vacancy_code: str | None = Field(default=None, foreign_key="vacancy.code", index=True)
    internship: bool = False
    allowance: bool = False
    import_file_id: int | None = Field(default=None, foreign_key="import_file.id")
    created_at: datetime = Field(default_factory=utcnow)


class PolicyMeasure(SQLModel, table=True):
    """One measure proposed to / taken by a case (the route recorded when it leads to a hire)."""

    __tablename__ = "policy_measure"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: MeasureKind = Field(sa_column=enum_column(MeasureKind))
    code: str = Field(
        max_length=64, index=True, description="gol | dul | garanzia_giovani | territorial:X | training:TRN-…"
    )
    pathway: str | None = Field(default=None, max_length=64, description="GOL pathway or DUL band")
    training_offer_id: int | None = Field(default=None, foreign_key="training_offer.id", index=True)
    provider_code: str | None = Field(default=None, foreign_key="organisation.code")
    status: MeasureStatus = Field(sa_column=enum_column(MeasureStatus, index=True))
    rank: int = 0
    reasons: list[str] = Field(default_factory=list, sa_column=json_column(), description="why (Italian, app DB only)")
    proposed_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    started_on: date | None = None
    expected_end: date | None = None
    completed_on: date | None = None
    hours_attended: int = 0
    allowance_due: bool | None = None
    internship_on: date | None = None
    hired_on: date | None = None
    contract_days: int | None = None
    success: bool | None = Field(default=None, description="the programme's own success rule (DUL: ≥180 days)")


class PolicyEvent(SQLModel, table=True):
    """Append-only history of a case's policy route: proposals, decisions, enrolment,
    attendance, completion, internship, hire and the table's decisions."""

    __tablename__ = "policy_event"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    measure_id: int | None = Field(default=None, foreign_key="policy_measure.id", index=True)
    kind: str = Field(max_length=32, index=True)
    detail: str | None = Field(default=None, max_length=200, description="codes and counts only")
    occurred_on: date
    actor: str
    at: datetime = Field(default_factory=utcnow, index=True)
    flow_run_id: str | None = None


class TavoloMeeting(SQLModel, table=True):
    """One monthly meeting of the coordination table and the window its agenda covered."""

    __tablename__ = "tavolo_meeting"
    id: int | None = Field(default=None, primary_key=True)
    held_on: date = Field(unique=True, index=True)
    since: date
    agenda: dict[str, list[str]] = Field(default_factory=dict, sa_column=json_column(), description="case codes")
    decisions_recorded: int = 0
    created_at: datetime = Field(default_factory=utcnow)
