"""The audit of reads: every look at a person's identifying data leaves a row (who, which case, why)."""

from __future__ import annotations

from sqlmodel import Session

from models.ops import AuditLog


def audit_read(session: Session, *, actor: str, case_code: str | None, purpose: str, action: str = "read") -> AuditLog:
    """Record that ``actor`` read (or changed) identifying data of ``case_code`` and why."""
    row = AuditLog(actor=actor, action=action, case_code=case_code, purpose=purpose)
    session.add(row)
    return row
