"""Consent checks that every share joins on: no valid consent, nothing leaves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from models.clock import utcnow
from models.enums import ConsentPurpose
from models.people import Consent
from tasks.runtime.db import in_chunks

#: Why an accepted case waits at its office's step without the consent to processing: its referral
#: came in a file without consent columns, the CPI records the consent at the intake
#: (tasks/intake.py) and nothing is shared until then (tasks/referral/missing_consent.py).
CONSENT_TO_COLLECT = "consent_to_collect"


def _current(purpose: ConsentPurpose, recipient: str) -> ColumnElement[bool]:
    """A consent row that holds now: this purpose, this or any recipient, not withdrawn or expired."""
    now = utcnow()
    return and_(
        col(Consent.purpose) == purpose,
        col(Consent.recipient_code).in_({"*", recipient}),
        col(Consent.withdrawn_at).is_(None),
        or_(col(Consent.expires_at).is_(None), col(Consent.expires_at) > now),
    )


def valid_consent_clause(person_key_col: Any, purpose: ConsentPurpose, recipient: str = "*") -> ColumnElement[bool]:
    """SQL ``EXISTS`` clause: the person has a current, unwithdrawn consent for this purpose."""
    return exists(
        select(col(Consent.id)).where(col(Consent.person_key) == person_key_col, _current(purpose, recipient))
    )


def consenting_persons(
    session: Session, person_keys: Iterable[str], purpose: ConsentPurpose, recipient: str = "*"
) -> set[str]:
    """Which of ``person_keys`` currently consent to ``purpose``: one query per 1,000 people."""
    keys = sorted(set(person_keys))
    found: set[str] = set()
    for chunk in in_chunks(keys):
        found.update(
            session.exec(
                sqlmodel_select(Consent.person_key)
                .where(col(Consent.person_key).in_(chunk), _current(purpose, recipient))
                .distinct()
            ).all()
        )
    return found


def has_consent(session: Session, person_key: str, purpose: ConsentPurpose, recipient: str = "*") -> bool:
    """True when ``person_key`` currently consents to ``purpose`` for ``recipient``."""
    from sqlalchemy import literal

    return bool(session.scalar(select(valid_consent_clause(literal(person_key), purpose, recipient))))


def grant_consent(
    session: Session, person_key: str, purpose: ConsentPurpose, *, recipient: str = "*", source: str
) -> Consent:
    """Record (or renew) a consent; idempotent per person, purpose and recipient."""
    return grant_consents(session, [person_key], purpose, recipient=recipient, source=source)[0]


def grant_consents(
    session: Session, person_keys: Sequence[str], purpose: ConsentPurpose, *, recipient: str = "*", source: str
) -> list[Consent]:
    """Record (or renew) the consent of each person: one lookup per 1,000 people, not per person."""
    keys = list(dict.fromkeys(person_keys))
    existing: dict[str, Consent] = {}
    for chunk in in_chunks(keys):
        for row in session.exec(
            sqlmodel_select(Consent).where(
                col(Consent.person_key).in_(chunk),
                Consent.purpose == purpose,  # type: ignore[arg-type]
                Consent.recipient_code == recipient,  # type: ignore[arg-type]
            )
        ).all():
            existing.setdefault(row.person_key, row)
    rows = []
    for key in keys:
        found = existing.get(key)
        if found is None:
            found = Consent(person_key=key, purpose=purpose, recipient_code=recipient, source=source)
        else:
            found.withdrawn_at = None
            found.given_at = utcnow()
            found.source = source
        session.add(found)
        rows.append(found)
    return rows


def withdraw(
    session: Session, person_key: str, purpose: ConsentPurpose, recipient: str = "*", *, at: datetime | None = None
) -> list[Consent]:
    """Mark the person's current consents for ``purpose`` withdrawn; returns the rows it changed.

    ``recipient="*"`` withdraws the purpose for every recipient (the usual one and each named
    company); a named recipient withdraws only that row. Runs in the caller's transaction.
    """
    query = sqlmodel_select(Consent).where(
        Consent.person_key == person_key,  # type: ignore[arg-type]
        Consent.purpose == purpose,  # type: ignore[arg-type]
        col(Consent.withdrawn_at).is_(None),
    )
    if recipient != "*":
        query = query.where(Consent.recipient_code == recipient)  # type: ignore[arg-type]
    rows = list(session.exec(query).all())
    when = at or utcnow()
    for row in rows:
        row.withdrawn_at = when
        session.add(row)
    session.flush()
    return rows


def expired_consents(session: Session, *, now: datetime | None = None) -> list[Consent]:
    """Unwithdrawn consents whose expiry has passed (they no longer allow any share)."""
    when = now or utcnow()
    return list(
        session.exec(
            sqlmodel_select(Consent).where(
                col(Consent.withdrawn_at).is_(None),
                col(Consent.expires_at).is_not(None),
                col(Consent.expires_at) <= when,
            )
        ).all()
    )


def expiring_consents(session: Session, *, within: timedelta, now: datetime | None = None) -> list[Consent]:
    """Valid consents that expire within ``within`` (to ask for a renewal in time)."""
    when = now or utcnow()
    return list(
        session.exec(
            sqlmodel_select(Consent).where(
                col(Consent.withdrawn_at).is_(None),
                col(Consent.expires_at) > when,
                col(Consent.expires_at) <= when + within,
            )
        ).all()
    )
