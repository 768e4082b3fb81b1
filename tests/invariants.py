"""The invariant every stage keeps (docs/ARCHITECTURE.md#data): an open case always has a next
step described in config/next_steps.yaml, an owner and a due date.

Read with plain SQL, not with the application's own query, so a bug there cannot hide here.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from config.next_steps import load_next_steps

CLOSED = ("duplicate", "rejected", "hired", "withdrawn", "closed", "erased")


def dead_ends(session: Session) -> list[str]:
    """Every open case breaking the invariant, as "code (state): what is wrong"."""
    known = load_next_steps().steps
    rows = session.execute(
        text(
            'SELECT code, state, next_step, owner, next_due FROM "case" '
            f"WHERE state NOT IN ({', '.join(repr(s) for s in CLOSED)}) ORDER BY code"
        )
    ).all()
    out = []
    for code, state, step, owner, due in rows:
        wrong = [
            *(["no step"] if step is None else [] if step in known else [f"unknown step {step!r}"]),
            *(["no owner"] if owner is None else []),
            *(["no due date"] if due is None else []),
        ]
        if wrong:
            out.append(f"{code} ({state}): {', '.join(wrong)}")
    return out


def assert_no_dead_ends(session: Session) -> None:
    """Fail listing every open case without a next step, an owner or a due date."""
    session.expire_all()
    found = dead_ends(session)
    assert not found, f"{len(found)} open cases are dead ends:\n" + "\n".join(found[:20])
