"""Art. 17 erasure and retention: blanking a person while history and counts stay for the reports."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.cases import Case
from models.clock import as_utc, day_start, utcnow
from models.enums import ConsentPurpose, Language, OutboxStatus, State
from models.ops import ImportRow, Outbox
from models.people import Person, PersonKey, Referral
from models.state_machine import TERMINAL
from tasks.core.audit import audit_read
from tasks.core.consent import withdraw
from tasks.core.transitions import transition
from tasks.files.normalize import normalize_cf, normalize_email, normalize_name, normalize_phone
from tasks.privacy.identifiers import (
    ACTOR,
    ERASED_TEXT,
    PrivacyError,
    cases_of,
    find_case,
    linked_keys,
    needle_pattern,
    scrub,
)
from tasks.runtime.progress import Progress

_log = logging.getLogger(__name__)

#: Days after the last change of a closed case before its person is anonymised. Read at call
#: time from settings (``retention_days``) when present, else from this environment variable.
RETENTION_ENV = "INCONTRO_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 730
#: Case states after which nothing more happens to a person (retention may start counting).
CLOSED_STATES = TERMINAL - {State.ERASED}


# --------------------------------------------------------------------------------------------
# Blanking (shared by erasure and retention)


@dataclass
class Blanked:
    """What one blanking changed (counts only: safe to return to Prefect)."""

    people: int = 0
    outbox_rows: int = 0
    import_rows: int = 0
    referrals: int = 0
    cancelled: int = 0
    desk_rows: int = 0


_OUTBOX_TEXT = ("recipient", "reply_to", "subject", "body_text", "body_html", "last_error", "server_reply")


def _blank_person(person: Person) -> None:
    person.family_name = person.given_names = ""
    person.native_family_name = person.native_given_names = ""
    person.name_norm = ""
    person.birth_date = person.permit_expiry = None
    person.sex = person.birth_place = person.citizenship = None
    person.codice_fiscale = person.phone = person.phone_secondary = person.email = None
    person.phone_raw = person.phone_secondary_raw = person.phone_verified = person.phone_secondary_verified = None
    person.municipality = person.permit_type = None
    person.languages = []
    person.preferred_language = Language.IT


def _raw_matches(raw: Mapping[str, Any], person: Person) -> bool:
    """A rejected import row about ``person``: same code, phone or email, or both names."""
    values = [str(v) for v in raw.values() if v not in (None, "")]
    for value in values:
        if person.codice_fiscale and normalize_cf(value) == person.codice_fiscale:
            return True
        if person.email and normalize_email(value) == person.email:
            return True
        if person.phone and normalize_phone(value) == person.phone:
            return True
    names = {normalize_name(v) for v in values}
    family = {normalize_name(n) for n in (person.family_name, person.native_family_name) if n}
    given = {normalize_name(n) for n in (person.given_names, person.native_given_names) if n}
    return bool(family & names) and bool(given & names)


def _blank_import_rows(session: Session, person: Person, keys: set[str], pattern: re.Pattern[str] | None) -> int:
    """Rejected rows from the person's own referral rows, or about the person, lose every value."""
    own = {
        (r.import_file_id, r.row_number)
        for r in session.exec(select(Referral).where(col(Referral.person_key).in_(keys))).all()
        if r.import_file_id is not None
    }
    changed = 0
    for row in session.exec(select(ImportRow)).all():
        if (row.import_file_id, row.row_number) in own or _raw_matches(row.raw, person):
            row.raw = {k: (ERASED_TEXT if v not in (None, "") else v) for k, v in row.raw.items()}
            row.errors = [{**e, "value": ERASED_TEXT} if e.get("value") else e for e in row.errors]
        else:
            errors = [{k: scrub(v, pattern) if isinstance(v, str) else v for k, v in e.items()} for e in row.errors]
            if errors == row.errors:
                continue
            row.errors = errors
        session.add(row)
        changed += 1
    return changed


def _scrub_outbox(session: Session, keys: set[str], own: re.Pattern[str] | None, strong: re.Pattern[str] | None) -> int:
    """The person's rows lose every identifier; other rows lose the ones that identify alone."""
    changed = 0
    for row in session.exec(select(Outbox)).all():
        pattern = own if row.person_key in keys else strong
        if pattern is None:
            continue
        before = {f: getattr(row, f) for f in _OUTBOX_TEXT}
        after = {f: scrub(v, pattern) for f, v in before.items()}
        if after == before:
            continue
        if after["recipient"] != before["recipient"]:
            after["recipient"] = ERASED_TEXT
        for f, v in after.items():
            setattr(row, f, v)
        session.add(row)
        changed += 1
    return changed


def cancel_rows(session: Session, ids: Sequence[int], reason: str) -> int:
    """Pending rows among ``ids`` become cancelled (a claimed row is past the point of no return)."""
    if not ids:
        return 0
    result = session.execute(
        update(Outbox)
        .where(col(Outbox.id).in_(list(ids)), col(Outbox.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, last_error=reason)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _delete_desk_rows(session: Session, keys: set[str]) -> int:
    """The operators' notes and attendance marks of these people's cases: free text about a
    person, kept only in the application database, gone with the identity."""
    from models.accounts import Attendance, CaseNote

    case_ids = select(Case.id).where(col(Case.person_key).in_(list(keys)))
    deleted = 0
    for model in (CaseNote, Attendance):
        rows = session.exec(select(model).where(col(model.case_id).in_(case_ids))).all()
        for row in rows:
            session.delete(row)
        deleted += len(rows)
    return deleted


def blank_people(session: Session, keys: set[str], *, reason: str) -> Blanked:
    """Blank every Person of ``keys`` and scrub their identifiers from outbox and import rows."""
    out = Blanked()
    people = list(session.exec(select(Person).where(col(Person.key).in_(list(keys)))).all())
    pending = session.exec(
        select(Outbox.id).where(col(Outbox.person_key).in_(list(keys)), col(Outbox.status) == OutboxStatus.PENDING)
    ).all()
    out.cancelled = cancel_rows(session, [i for i in pending if i is not None], f"cancelled: {reason}")
    own = needle_pattern(people)
    strong = needle_pattern(people, strong_only=True)
    out.outbox_rows = _scrub_outbox(session, keys, own, strong)
    for person in people:
        out.import_rows += _blank_import_rows(session, person, keys, own)
    for ref in session.exec(select(Referral).where(col(Referral.person_key).in_(list(keys)))).all():
        ref.experiences_text, ref.education_text, ref.licence_text = "", None, None
        session.add(ref)
        out.referrals += 1
    out.desk_rows = _delete_desk_rows(session, keys)
    now = utcnow()
    for person in people:
        _blank_person(person)
        session.add(person)
        out.people += 1
    for key in session.exec(select(PersonKey).where(col(PersonKey.token).in_(list(keys)))).all():
        key.erased_at = key.erased_at or now
        session.add(key)
    session.flush()
    return out


# --------------------------------------------------------------------------------------------
# Art. 17 erasure and retention


@dataclass
class ErasureResult:
    case_codes: list[str] = field(default_factory=list)
    blanked: Blanked = field(default_factory=Blanked)
    already_erased: bool = False

    def counts(self) -> dict[str, int]:
        return {"cases": len(self.case_codes), **asdict(self.blanked), "already_erased": int(self.already_erased)}


def erase_person(
    session: Session, case_code: str, *, actor: str = ACTOR, flow_run_id: str | None = None
) -> ErasureResult:
    """Art. 17: blank the person behind ``case_code``; keep key, history and counts; record the request.

    Every case of the same person (duplicates included) moves to ERASED, so no stage picks it
    up again; ``case_event`` rows, profiles, matches and outcomes stay for the aggregates. A
    second request for the same person only records itself.
    """
    case = find_case(session, case_code)
    keys = linked_keys(session, case)
    cases = cases_of(session, keys)
    result = ErasureResult(case_codes=[c.code for c in cases])
    audit_read(
        session,
        actor=actor,
        case_code=case.code,
        purpose="Art. 17 GDPR: richiesta di cancellazione",
        action="erasure_request",
    )
    erased = session.exec(select(PersonKey).where(col(PersonKey.token).in_(list(keys)))).all()
    if erased and all(k.erased_at is not None for k in erased) and all(c.state is State.ERASED for c in cases):
        result.already_erased = True
        return result
    for key in keys:
        for purpose in ConsentPurpose:
            withdraw(session, key, purpose)
    for c in cases:
        if c.state is not State.ERASED:
            transition(session, c, State.ERASED, actor=actor, reason="gdpr_art17", flow_run_id=flow_run_id)
    result.blanked = blank_people(session, keys, reason="erasure (Art. 17)")
    for c in cases:
        audit_read(
            session,
            actor=actor,
            case_code=c.code,
            purpose="Art. 17 GDPR: dati identificativi cancellati",
            action="erasure",
        )
    _log.info("erasure: %d cases, %d outbox rows scrubbed", len(cases), result.blanked.outbox_rows)
    return result


def retention_days() -> int:
    """The retention period (``INCONTRO_RETENTION_DAYS``), read afresh: a bad value is a clear
    Italian error for the retention run, not a crash of every settings reader."""
    from pydantic import ValidationError

    from config.settings import Settings

    try:
        return Settings().retention_days
    except ValidationError as exc:
        if not any(e["loc"] and e["loc"][0] == "retention_days" for e in exc.errors()):
            raise
        raise PrivacyError(f"{RETENTION_ENV} deve essere un numero intero di giorni maggiore di zero") from None


@dataclass
class RetentionResult:
    case_codes: list[str] = field(default_factory=list)
    blanked: Blanked = field(default_factory=Blanked)
    cutoff: date | None = None

    def counts(self) -> dict[str, int]:
        return {"cases": len(self.case_codes), **asdict(self.blanked)}


def anonymise_closed_cases(
    session: Session, *, as_of: date, days: int | None = None, actor: str = "flow:retention"
) -> RetentionResult:
    """Blank the people whose every case is closed and unchanged for ``days`` before ``as_of``.

    Case states, history and profiles stay, so every report counts the same before and after.
    """
    days = days if days is not None else retention_days()
    cutoff = day_start(as_of - timedelta(days=days))
    result = RetentionResult(cutoff=as_of - timedelta(days=days))
    live_keys = select(PersonKey.token).where(col(PersonKey.erased_at).is_(None))
    rows = session.exec(
        select(Case.person_key, Case.state, Case.updated_at).where(col(Case.person_key).in_(live_keys))
    ).all()
    by_key: dict[str, list[tuple[State, datetime]]] = {}
    for key, state, updated in rows:
        by_key.setdefault(key, []).append((State(state), as_utc(updated)))
    done: set[str] = set()
    progress = Progress("retention", len(by_key), "Persone esaminate per la conservazione")
    for key in progress.track(sorted(by_key)):
        if key in done:
            continue
        first = session.exec(select(Case).where(Case.person_key == key)).first()
        assert first is not None
        keys = linked_keys(session, first)
        done |= keys
        moves = [m for k in keys for m in by_key.get(k, [])]
        if not moves or any(s not in CLOSED_STATES for s, _ in moves) or max(t for _, t in moves) > cutoff:
            continue
        blanked = blank_people(session, keys, reason="retention")
        for name in ("people", "outbox_rows", "import_rows", "referrals", "cancelled"):
            setattr(result.blanked, name, getattr(result.blanked, name) + getattr(blanked, name))
        for c in cases_of(session, keys):
            result.case_codes.append(c.code)
            audit_read(
                session,
                actor=actor,
                case_code=c.code,
                purpose=f"conservazione: chiusa da oltre {days} giorni",
                action="retention",
            )
    progress.finish()
    return result
