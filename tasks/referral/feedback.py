"""The feedback digest to referring partners (issue 20): what happened to the people they sent.

Once a day or once a week (the partner's choice, ``organisation.digest_frequency``, set on its
status page), one ``partner_digest`` email per partner lists the news since its last digest:
routed to an Italian course at the CPIA, offered an active-policy measure, hired, or closed with
the reason. The news are the ``case_event`` rows of the cases the partner referred, after the
partner's watermark (``digest_last_event_id``), so each is told once; a person is named only to
the partner who referred them, and only with their REFERRER_CONTACT consent (as the closure
email, tasks/mail/closure_notice.py). Each case told leaves an audit row. Called by the
maintenance sweep (flows/maintenance.py); returns counts only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from models import clock
from models.cases import Case, CaseEvent
from models.enums import ConsentPurpose, OrgKind, State
from models.people import Organisation, Person, Referral
from tasks.core.audit import audit_read
from tasks.core.closure import closure_label
from tasks.core.consent import consenting_persons
from tasks.mail.links import partner_url
from tasks.mail.outbox import enqueue_email

KIND = "partner_digest"
ACTOR = "system:partner-digest"
#: The organisations that refer people and may get a digest.
REFERRING: frozenset[OrgKind] = frozenset({OrgKind.CARITAS, OrgKind.AMBITO, OrgKind.ASSOCIATION, OrgKind.CPIA})
#: The moves a partner hears about, and how the digest says them.
NEWS: dict[State, str] = {
    State.LITERACY: "iscrizione a un corso di italiano del CPIA",
    State.POLICY: "proposta di una misura di politica attiva (formazione o tirocinio)",
    State.HIRED: "assunzione presso un'azienda",
    State.CLOSED: "chiusura del percorso",
}
PERIOD_DAYS: dict[str, int] = {"daily": 1, "weekly": 7}


@dataclass(frozen=True)
class NewsItem:
    """One line of a digest (the email's context, no internal codes as words)."""

    person_name: str
    case_code: str
    news: str
    on: date
    reason_label: str | None


def digest_due(org: Organisation, today: date) -> bool:
    """A daily digest once per Rome date, a weekly one seven days after the last."""
    if org.digest_sent_at is None:
        return True
    last = clock.in_rome(org.digest_sent_at).date()
    return (today - last).days >= PERIOD_DAYS.get(org.digest_frequency, 7)


def partner_news(session: Session, org: Organisation, *, since: datetime | None = None) -> tuple[list[NewsItem], int]:
    """The partner's news after its watermark (or since ``since`` for a first digest) that it
    may be told, and the last event id looked at (the new watermark; 0 when none)."""
    query = (
        select(CaseEvent.id, CaseEvent.to_state, CaseEvent.reason, CaseEvent.at, Case.code, Referral.person_key)  # type: ignore[call-overload]
        .join(Referral, col(Referral.case_id) == col(CaseEvent.case_id))
        .join(Case, col(Case.id) == col(CaseEvent.case_id))
        .where(col(Referral.referrer_code) == org.code, col(CaseEvent.to_state).in_(list(NEWS)))
        .order_by(col(CaseEvent.id))
    )
    if org.digest_last_event_id is not None:
        query = query.where(col(CaseEvent.id) > org.digest_last_event_id)
    elif since is not None:
        query = query.where(col(CaseEvent.at) >= since)
    rows = session.exec(query).all()
    if not rows:
        return [], 0
    keys = {row[5] for row in rows}
    allowed = consenting_persons(session, keys, ConsentPurpose.REFERRER_CONTACT)
    names = {
        p.key: f"{p.given_names} {p.family_name}".strip()
        for p in session.exec(select(Person).where(col(Person.key).in_(sorted(allowed)))).all()
    }
    items = [
        NewsItem(
            person_name=names[key],
            case_code=code,
            news=NEWS[State(state)],
            on=clock.in_rome(at).date(),
            reason_label=closure_label(reason or "") if State(state) is State.CLOSED else None,
        )
        for _id, state, reason, at, code, key in rows
        if key in allowed and names.get(key)
    ]
    return items, max(int(row[0] or 0) for row in rows)


def send_partner_digests(session: Session, *, now: datetime | None = None) -> int:
    """Queue the digest of every partner whose period is due and who has news; returns emails
    queued. The watermark moves past news that may not be told (no consent) as well."""
    now = now or clock.utcnow()
    today = clock.in_rome(now).date()
    queued = 0
    orgs: Sequence[Organisation] = session.exec(
        select(Organisation).where(col(Organisation.kind).in_(list(REFERRING))).order_by(col(Organisation.code))
    ).all()
    for org in orgs:
        if not digest_due(org, today):
            continue
        period = timedelta(days=PERIOD_DAYS.get(org.digest_frequency, 7))
        items, last_id = partner_news(session, org, since=now - period)
        if last_id:
            org.digest_last_event_id = last_id
        if items:
            added = enqueue_email(
                session,
                key=f"{KIND}:{org.code}:{last_id}",
                kind=KIND,
                recipient=org.email,
                recipient_code=org.code,
                context={
                    "referrer_name": org.name,
                    "period": "giorno" if org.digest_frequency == "daily" else "settimana",
                    "items": [item.__dict__ for item in items],
                    "status_url": partner_url(org.code, now=now.timestamp()),
                },
            )
            if added is not None:
                queued += 1
                for code in sorted({i.case_code for i in items}):
                    audit_read(
                        session, actor=ACTOR, case_code=code, purpose="riepilogo delle novità all'ente segnalante"
                    )
            org.digest_sent_at = now
        session.add(org)
    return queued
