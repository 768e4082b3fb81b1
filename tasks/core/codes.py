"""Pseudonymous codes: case codes (BG-2026-000123) allocated in blocks inside the transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from models.cases import CodeSequence


def allocate_codes(session: Session, prefix: str, count: int) -> list[str]:
    """Reserve ``count`` consecutive numbers under ``prefix`` (e.g. ``BG-2026``).

    The UPDATE takes the row lock on PostgreSQL (and the write lock on SQLite) until the caller
    commits, so concurrent importers never hand out the same code.
    """
    if count <= 0:
        return []
    result = session.execute(
        update(CodeSequence)
        .where(CodeSequence.prefix == prefix)  # type: ignore[arg-type]
        .values(last=CodeSequence.last + count)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(CodeSequence(prefix=prefix, last=count))
        except IntegrityError:
            return allocate_codes(session, prefix, count)
    last = session.scalar(select(col(CodeSequence.last)).where(col(CodeSequence.prefix) == prefix))
    assert last is not None
    return [f"{prefix}-{n:06d}" for n in range(last - count + 1, last + 1)]
