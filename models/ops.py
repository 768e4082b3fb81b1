"""Operational tables: outbox, imports, review queues and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from models import cases, people  # noqa: F401  (its foreign keys' tables, registered before any flush)
from models.base import enum_column
from models.clock import utcnow
from models.enums import OutboxStatus


class Outbox(SQLModel, table=True):
    """An email to send, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=200, description="idempotency key")
    kind: str = Field(index=True, max_length=48)
    case_code: str | None = Field(default=None, index=True)
    person_key: str | None = Field(
        default=None, index=True, description="whose data it carries (for withdrawal/erasure)"
    )
    consent_purpose: str | None = Field(default=None, description="consent that must still hold when sending")
    recipient: str
    recipient_code: str | None = None
    reply_to: str | None = None
    language: str = "it"
    subject: str
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: OutboxStatus = Field(
        default=OutboxStatus.PENDING,
        sa_column=enum_column(OutboxStatus, index=True),
    )
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    last_error: str | None = None
    server_reply: str | None = None
    message_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    sending_at: datetime | None = Field(
        default=None, description="when a drain claimed the row for its SMTP transaction (status sending)"
    )
    failure: str | None = Field(
        default=None, max_length=24, description="why it failed: permanent | uncertain | gave_up | invalid"
    )
    alerted_at: datetime | None = Field(
        default=None, index=True, description="when coordinators were alerted about the failure"
    )


class MailRelay(SQLModel, table=True):
    """Reachability of one SMTP relay (``host:port``): an outage backs off the whole drain, costs
    no message an attempt and alerts coordinators once (docs/ARCHITECTURE.md#mail).

    A row exists once the relay has been unreachable; ``down_since`` is None while it answers.
    """

    __tablename__ = "mail_relay"
    relay: str = Field(primary_key=True, max_length=300, description="host:port of the SMTP relay")
    down_since: datetime | None = Field(default=None, description="first failed connection of the current outage")
    failed_probes: int = Field(default=0, description="failed connection attempts in the current outage")
    next_probe_at: datetime | None = Field(default=None, description="no drain connects before this (backoff)")
    last_error: str | None = Field(default=None, description="why the last connection failed (no personal data)")
    alerted_at: datetime | None = Field(default=None, description="when coordinators were told of this outage")


class OutboxAttachment(SQLModel, table=True):
    __tablename__ = "outbox_attachment"
    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    filename: str
    content_type: str
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ImportFile(SQLModel, table=True):
    """Every partner file received, by content hash, and how far its import got: the same bytes
    again finish an import a stopped run left halfway, and change nothing once it is finished
    (docs/ARCHITECTURE.md#chaining, resumable steps)."""

    __tablename__ = "import_file"
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True, index=True, max_length=64)
    kind: str = Field(max_length=16, description="referral | vacancy | interest")
    sender_code: str = Field(foreign_key="organisation.code")
    filename: str
    received_at: datetime = Field(default_factory=utcnow)
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    status: str = "received"
    completed_steps: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="the import's steps done so far, each recorded in the transaction of its work",
    )
    pending_events: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="events that start the next stage, announced (confirmed) by the last step",
    )
    finished_at: datetime | None = Field(
        default=None, index=True, description="every step done; NULL: a rerun or the maintenance sweep finishes it"
    )
    notices: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="what the sender is told about the file as a whole: unused_columns (headers as "
        "written), warnings (codes, e.g. consent_columns_missing)",
    )


class ImportRow(SQLModel, table=True):
    """A rejected row with every error (row, column, reason) for the sender's report."""

    __tablename__ = "import_row"
    id: int | None = Field(default=None, primary_key=True)
    import_file_id: int = Field(foreign_key="import_file.id", index=True)
    row_number: int
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DedupReview(SQLModel, table=True):
    """A grey-band possible duplicate waiting for an operator's decision."""

    __tablename__ = "dedup_review"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    candidate_case_id: int = Field(foreign_key="case.id")
    score: float
    decision: str | None = None
    decided_at: datetime | None = None


class AuditLog(SQLModel, table=True):
    """Who read or changed identifying data, for which case, and why."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str
    action: str
    case_code: str | None = Field(default=None, index=True)
    purpose: str
