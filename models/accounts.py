"""The operators' desk: accounts, their sessions, login attempts, case notes and attendance marks.

These rows live only in the application database (Prefect never sees them). Passwords are stored
as Argon2 hashes, sessions by the SHA-256 of their random token (a stolen database copy holds no
usable session), notes as typed by the operator (personal data: kept under the retention rules).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models import cases  # noqa: F401  (its foreign keys' tables, registered before any flush)
from models.base import enum_column
from models.clock import utcnow


class Role(StrEnum):
    """What a desk account may see and do."""

    OPERATOR = "operator"  # one CPI office's cases
    COORDINATOR = "coordinator"  # every office's cases
    PRIVACY_OFFICER = "privacy_officer"  # every case, reads and consents, with the access log


#: The Italian name of each role (pages and the command line never show the stored value).
ROLE_LABELS: dict[Role, str] = {
    Role.OPERATOR: "operatore CPI",
    Role.COORDINATOR: "coordinatore",
    Role.PRIVACY_OFFICER: "responsabile della protezione dei dati",
}


class DeskUser(SQLModel, table=True):
    """A person who signs in to the desk."""

    __tablename__ = "desk_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    full_name: str = Field(default="", max_length=200)
    role: Role = Field(sa_column=enum_column(Role))
    office_code: str | None = Field(default=None, max_length=20, description="the CPI of an operator")
    password_hash: str = Field(max_length=512)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)


class DeskSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, the row its hash and the CSRF token."""

    __tablename__ = "desk_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="desk_user.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class LoginAttempt(SQLModel, table=True):
    """One try at signing in, kept to throttle guessing (per account name and per address)."""

    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, max_length=64)
    client: str = Field(index=True, max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)
    succeeded: bool = False


class CaseNote(SQLModel, table=True):
    """An operator's note on a case (only in this database; erased with the person's data)."""

    __tablename__ = "case_note"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    author: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)
    text: str = Field(sa_column=Column(Text, nullable=False))


class Attendance(SQLModel, table=True):
    """Present or absent at the intake appointment of ``day``, marked at the desk; the office's
    intake form is pre-filled with it (the form's answer is what moves the case)."""

    __tablename__ = "desk_attendance"
    __table_args__ = (UniqueConstraint("case_id", "day", name="uq_attendance_case_day"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    day: date
    present: bool
    actor: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)
