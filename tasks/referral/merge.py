"""Merging a referred case into the case of the same person (the duplicate search's ``merge``
band, or an operator's decision on a review): referrals, notices, consents, history.

A 100k import merges tens of thousands of cases at once: :func:`merge_cases` reads what the
merges need in a few queries per 1,000 cases, plays the merges in memory in order, and writes them
in bulk (issue 21); :func:`merge_case` is the same for one case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from config.data import load_offices
from models import clock
from models.base import insert_values
from models.cases import Case
from models.enums import ConsentPurpose, State
from models.people import Consent, Organisation, Referral
from tasks.core.transitions import transition_many
from tasks.mail.outbox import EmailSpec, enqueue_emails
from tasks.referral.store import ACTOR
from tasks.runtime.db import in_chunks


def merge_case(session: Session, case: Case, target: Case, reason: str, flow_run_id: str | None) -> None:
    """The new referral joins the existing case; the referrer is told which case it is."""
    merge_cases(session, [(case, target, reason)], flow_run_id)


def merge_cases(session: Session, merges: Sequence[tuple[Case, Case, str]], flow_run_id: str | None) -> None:
    """Each ``(case, target, reason)``, in order: the case's referrals join the target (each
    referrer told which case it is, once per case and referrer), the target's person gets every
    consent of the case's person it does not hold yet, the case becomes DUPLICATE.

    The referrals, organisations and consents of the whole batch are read in a few queries per
    1,000 cases and the merges played in memory in order, so a case merged into a case of the same
    batch that is merged later hands on what it received, as one merge after the other would; then
    one bulk enqueue of the notices and one bulk transition (its guards, its history rows).
    """
    if not merges:
        return
    case_ids = sorted({c.id for c, _, _ in merges if c.id is not None})
    referrals: dict[int | None, list[Referral]] = defaultdict(list)
    for ids in in_chunks(case_ids):
        for ref in session.exec(select(Referral).where(col(Referral.case_id).in_(ids))).all():
            referrals[ref.case_id].append(ref)
    codes = sorted({ref.referrer_code for refs in referrals.values() for ref in refs})
    referrers: dict[str, Organisation] = {}
    for chunk in in_chunks(codes):
        orgs = session.exec(select(Organisation).where(col(Organisation.code).in_(chunk))).all()
        referrers.update((o.code, o) for o in orgs)
    consents = _Consents.of(session, {p for c, t, _ in merges for p in (c.person_key, t.person_key)})
    offices = {office.code: office.name for office in load_offices()}
    notices: list[EmailSpec] = []
    now = clock.utcnow()
    for case, target, _ in merges:
        case.merged_into_id = target.id
        session.add(case)
        for ref in sorted(referrals.pop(case.id, []), key=lambda r: r.id or 0):
            ref.case_id = target.id
            session.add(ref)
            referrals[target.id].append(ref)
            referrer = referrers.get(ref.referrer_code)
            if referrer is not None:
                notices.append(
                    EmailSpec(
                        key=f"case:{case.code}:duplicate:{ref.referrer_code}",
                        kind="duplicate_notice",
                        recipient=referrer.email,
                        recipient_code=referrer.code,
                        case_code=target.code,
                        context={
                            "case_code": target.code,
                            "existing_office": offices.get(target.office_code or "", "da assegnare"),
                            "row": ref.row_number,
                        },
                    )
                )
        for purpose, recipient in consents.scopes(case.person_key, now):
            if not consents.holds(target.person_key, purpose, recipient, now):
                consents.grant(target.person_key, purpose, recipient, source=f"merge:{case.code}")
    consents.write(session)
    enqueue_emails(session, notices)
    transition_many(
        session,
        [(case, f"merge:{target.code}:{reason}") for case, target, reason in merges],
        State.DUPLICATE,
        actor=ACTOR,
        flow_run_id=flow_run_id,
    )


@dataclass(slots=True)
class _Row:
    """One consent row as the merges need it (no ORM object: a 100k import holds tens of thousands)."""

    id: int | None
    purpose: ConsentPurpose
    recipient_code: str
    withdrawn_at: datetime | None
    expires_at: datetime | None


@dataclass
class _Consents:
    """The consent rows of the people of a batch of merges, with what the merges grant, in memory:
    :func:`tasks.core.consent.has_consent` and :func:`~tasks.core.consent.grant_consent` played on
    them, then written at once (new rows in one INSERT, renewed rows updated)."""

    rows: dict[str, list[_Row]]
    new: list[dict[str, Any]] = field(default_factory=list)
    renewed: dict[int, str] = field(default_factory=dict)  # row id -> source of the last renewal

    @classmethod
    def of(cls, session: Session, person_keys: set[str]) -> _Consents:
        """Every consent row of these people (withdrawn and expired too), in the order recorded."""
        rows: dict[str, list[_Row]] = defaultdict(list)
        for chunk in in_chunks(sorted(person_keys)):
            found = session.execute(
                sql_select(
                    col(Consent.id),
                    col(Consent.person_key),
                    col(Consent.purpose),
                    col(Consent.recipient_code),
                    col(Consent.withdrawn_at),
                    col(Consent.expires_at),
                )
                .where(col(Consent.person_key).in_(chunk))
                .order_by(col(Consent.id))
            )
            for row_id, key, purpose, recipient, withdrawn_at, expires_at in found:
                rows[key].append(_Row(row_id, purpose, recipient, withdrawn_at, expires_at))
        return cls(rows)

    def scopes(self, person_key: str, now: datetime) -> list[tuple[ConsentPurpose, str]]:
        """The (purpose, recipient) of each of the person's current rows: a consent withdrawn or
        expired on the duplicate referral is not one the person gives the kept case."""
        return [(r.purpose, r.recipient_code) for r in self.rows[person_key] if _current(r, now)]

    def holds(self, person_key: str, purpose: ConsentPurpose, recipient: str, now: datetime) -> bool:
        """A current row for this purpose, for this recipient or any: not withdrawn nor expired."""
        return any(
            r.purpose == purpose and r.recipient_code in {"*", recipient} and _current(r, now)
            for r in self.rows[person_key]
        )

    def grant(self, person_key: str, purpose: ConsentPurpose, recipient: str, *, source: str) -> None:
        """The person's row of this purpose and recipient renewed (its expiry kept), or a new one."""
        for row in self.rows[person_key]:
            if row.purpose == purpose and row.recipient_code == recipient:
                row.withdrawn_at = None
                if row.id is not None:
                    self.renewed[row.id] = source
                return
        self.rows[person_key].append(_Row(None, purpose, recipient, None, None))
        self.new.append(
            insert_values(Consent, person_key=person_key, purpose=purpose, recipient_code=recipient, source=source)
        )

    def write(self, session: Session) -> None:
        if self.new:
            session.execute(insert(Consent), self.new)
        ids = sorted(self.renewed)
        for chunk in in_chunks(ids):
            for row in session.exec(select(Consent).where(col(Consent.id).in_(chunk))).all():
                row.withdrawn_at = None
                row.given_at = clock.utcnow()
                row.source = self.renewed[row.id or 0]
                session.add(row)


def _current(row: _Row, now: datetime) -> bool:
    return row.withdrawn_at is None and (row.expires_at is None or clock.as_utc(row.expires_at) > now)
