"""Data-subject rights and consent withdrawal (GDPR Art. 15-17; DESIGN §1 Consent, §8).

Everything here takes a case code, works in the caller's transaction and records what it did
in ``audit_log``; messages (and exceptions, which reach Prefect) name case codes and field
names, never a value. The identifiers themselves only ever leave the ``person`` table in two
places: the access export files (written under ``var/private/``, like the database) and the
outbox rows that were meant to carry them.

- :func:`withdraw_consent`: the consent stops every pending share that depends on it - personal
  outbox rows are cancelled, batch emails (Confindustria sheet, CPIA request) are re-issued
  without the person, open CPIA courses are closed.
- :func:`erase_person` (Art. 17): Person blanked, PersonKey kept with ``erased_at``, cases moved to
  ERASED (history, profiles and counts stay), the person's identifiers scrubbed from outbox
  rows and rejected import rows; the request is an audit row.
- :func:`anonymise_closed_cases`: the same blanking for people whose cases all closed longer
  than the retention period ago, without touching case states (reports do not move).
- :func:`access_export` (Art. 15): JSON plus a readable HTML page.
- :func:`rectify_person` (Art. 16): validated corrections of identifiers.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
from jinja2 import Environment
from sqlalchemy import or_, update
from sqlmodel import Session, SQLModel, col, select

from config.settings import get_settings
from models.base import utcnow
from models.cases import Assessment, Case, CaseEvent, Enrollment, Profile
from models.enums import CloseReason, ConsentPurpose, Language, OutboxStatus, State
from models.exchange import DispatchBatch, DispatchItem, Interest, Match, Outcome
from models.forms import CASE_CODE
from models.ops import AuditLog, ImportRow, Outbox
from models.people import Consent, Organisation, Person, PersonKey, Referral
from models.state_machine import OPEN, TERMINAL
from tasks.core.audit import audit_read
from tasks.core.consent import valid_consent_clause, withdraw
from tasks.core.profiles import profile_row
from tasks.core.transitions import transition
from tasks.files.normalize import normalize_cf, normalize_email, normalize_name, normalize_phone
from tasks.files.sheets import XLSX, profiles_xlsx
from tasks.mail.notify import consent_still_valid
from tasks.mail.outbox import enqueue_email
from tasks.runtime.progress import Progress

_log = logging.getLogger(__name__)

ACTOR = "flow:privacy"
ERASED_TEXT = "[dato cancellato]"
CASE_CODE_RE = re.compile(CASE_CODE)
#: Days after the last change of a closed case before its person is anonymised. Read at call
#: time from settings (``retention_days``) when present, else from this environment variable.
RETENTION_ENV = "INCONTRO_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 730
#: Case states after which nothing more happens to a person (retention may start counting).
CLOSED_STATES = TERMINAL - {State.ERASED}
MIN_NEEDLE = 3  # shorter name parts are not searched for (they match inside ordinary words)


class PrivacyError(ValueError):
    """A privacy request that cannot be carried out; the message is Italian and has no personal data."""


# --------------------------------------------------------------------------------------------
# Lookups and the audit trail


def check_case_code(case_code: str) -> str:
    """The case code, or an error that does not echo what was typed (it could be a name)."""
    code = (case_code or "").strip().upper()
    if not CASE_CODE_RE.match(code):
        raise PrivacyError("codice pratica non valido: atteso il formato BG-AAAA-NNNNNN (es. BG-2026-000123)")
    return code


def find_case(session: Session, case_code: str) -> Case:
    code = check_case_code(case_code)
    case = session.exec(select(Case).where(Case.code == code)).first()
    if case is None:
        raise PrivacyError(f"pratica {code} non trovata nel database")
    return case


def linked_keys(session: Session, case: Case) -> set[str]:
    """Person keys of the same human reached from ``case``: its own, merged duplicates, their referrals."""
    keys = {case.person_key}
    for _ in range(3):  # a duplicate of a duplicate is as deep as merges go
        case_ids = set(session.exec(select(Case.id).where(col(Case.person_key).in_(keys))).all())
        merged = session.exec(
            select(Case.person_key).where(
                or_(col(Case.merged_into_id).in_(case_ids), col(Case.id).in_(_merge_targets(session, case_ids)))
            )
        ).all()
        referred = session.exec(select(Referral.person_key).where(col(Referral.case_id).in_(case_ids))).all()
        grown = keys | set(merged) | set(referred)
        if grown == keys:
            break
        keys = grown
    return keys


def _merge_targets(session: Session, case_ids: set[int | None]) -> list[int]:
    return [
        t for t in session.exec(select(Case.merged_into_id).where(col(Case.id).in_(case_ids))).all() if t is not None
    ]


def cases_of(session: Session, keys: Iterable[str]) -> list[Case]:
    return list(session.exec(select(Case).where(col(Case.person_key).in_(list(keys))).order_by(col(Case.id))).all())


# --------------------------------------------------------------------------------------------
# Identifiers of one person, as they may be written anywhere


def _name_forms(text: str) -> list[str]:
    """As written, and in Latin letters when written in Cyrillic."""
    forms = [text.strip()]
    if any("\u0400" <= c <= "\u04ff" for c in text):
        forms.append(normalize_name(text))
    return [f for f in forms if f]


def phone_forms(e164: str) -> list[str]:
    """E.164, national as printed (``333 123 4567``) and national digits only."""
    forms = [e164]
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return forms
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    forms += [national, re.sub(r"\D", "", national)]
    return forms


def identifier_strings(person: Person, *, strong_only: bool = False) -> list[str]:
    """Every string that identifies ``person``: names (Latin and Cyrillic, alone and together),
    birth date (ISO and dd/mm/yyyy), codice fiscale, phone (E.164 and national), email.

    ``strong_only`` keeps what identifies on its own (full names, codes, phone, email): safe to
    scrub from text about other people too. Longest first, so replacing them in order never
    leaves a fragment of a longer one.
    """
    family = [f for n in (person.family_name, person.native_family_name) for f in _name_forms(n or "")]
    given = [f for n in (person.given_names, person.native_given_names) for f in _name_forms(n or "")]
    found: set[str] = set()
    for fam in family:
        for giv in given:
            found |= {f"{giv} {fam}", f"{fam} {giv}"}
    if person.name_norm:
        found.add(person.name_norm)
    if person.codice_fiscale:
        found.add(person.codice_fiscale)
    if person.email:
        found.add(person.email)
    if person.phone:
        found |= set(phone_forms(person.phone))
    if not strong_only:
        found |= {*family, *given}
        found |= {w for n in (*family, *given) for w in n.split()}
        if person.birth_date:
            found |= {person.birth_date.isoformat(), person.birth_date.strftime("%d/%m/%Y")}
    found |= {html.escape(s) for s in found}
    return sorted((s for s in found if len(s) >= MIN_NEEDLE), key=lambda s: (-len(s), s))


def phone_regex(e164: str) -> str:
    """The number however it is spaced: national digits, or the significant number after +CC/00CC."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.escape(e164)
    sep = r"[\s./()-]{0,2}"
    national = re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    significant = phonenumbers.national_significant_number(number)
    return rf"(?<!\d)(?:(?:\+|00){number.country_code}{sep}{sep.join(significant)}|{sep.join(national)})(?!\d)"


def needle_pattern(people: Sequence[Person], *, strong_only: bool = False) -> re.Pattern[str] | None:
    """One case-insensitive pattern for every identifier of ``people`` (phones with any spacing)."""
    needles = sorted(
        {s for p in people for s in identifier_strings(p, strong_only=strong_only)}, key=lambda s: (-len(s), s)
    )
    parts = [phone_regex(p.phone) for p in people if p.phone] + [re.escape(n) for n in needles]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def scrub(text: str | None, pattern: re.Pattern[str] | None) -> str | None:
    """``text`` with every match of ``pattern`` replaced by :data:`ERASED_TEXT`."""
    if text is None or pattern is None:
        return text
    return pattern.sub(ERASED_TEXT, text)


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


_OUTBOX_TEXT = ("recipient", "reply_to", "subject", "body_text", "body_html", "last_error", "server_reply")


def _blank_person(person: Person) -> None:
    person.family_name = person.given_names = ""
    person.native_family_name = person.native_given_names = ""
    person.name_norm = ""
    person.birth_date = person.permit_expiry = None
    person.sex = person.birth_place = person.citizenship = None
    person.codice_fiscale = person.phone = person.email = None
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


def _cancel_rows(session: Session, ids: Sequence[int], reason: str) -> int:
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


def blank_people(session: Session, keys: set[str], *, reason: str) -> Blanked:
    """Blank every Person of ``keys`` and scrub their identifiers from outbox and import rows."""
    out = Blanked()
    people = list(session.exec(select(Person).where(col(Person.key).in_(list(keys)))).all())
    pending = session.exec(
        select(Outbox.id).where(col(Outbox.person_key).in_(list(keys)), col(Outbox.status) == OutboxStatus.PENDING)
    ).all()
    out.cancelled = _cancel_rows(session, [i for i in pending if i is not None], f"cancelled: {reason}")
    own = needle_pattern(people)
    strong = needle_pattern(people, strong_only=True)
    out.outbox_rows = _scrub_outbox(session, keys, own, strong)
    for person in people:
        out.import_rows += _blank_import_rows(session, person, keys, own)
    for ref in session.exec(select(Referral).where(col(Referral.person_key).in_(list(keys)))).all():
        ref.experiences_text, ref.education_text, ref.licence_text = "", None, None
        session.add(ref)
        out.referrals += 1
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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
    cutoff = datetime.combine(as_of - timedelta(days=days), datetime.min.time(), tzinfo=UTC)
    result = RetentionResult(cutoff=cutoff.date())
    live_keys = select(PersonKey.token).where(col(PersonKey.erased_at).is_(None))
    rows = session.exec(
        select(Case.person_key, Case.state, Case.updated_at).where(col(Case.person_key).in_(live_keys))
    ).all()
    by_key: dict[str, list[tuple[State, datetime]]] = {}
    for key, state, updated in rows:
        by_key.setdefault(key, []).append((State(state), _aware(updated)))
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


# --------------------------------------------------------------------------------------------
# Consent withdrawal


@dataclass
class WithdrawalResult:
    consents: int = 0
    cancelled: int = 0
    reissued: int = 0
    courses_closed: int = 0
    cases_withdrawn: int = 0


def _pending(session: Session, *conditions: Any) -> list[Outbox]:
    return list(session.exec(select(Outbox).where(col(Outbox.status) == OutboxStatus.PENDING, *conditions)).all())


def _mentions(row: Outbox, codes: Iterable[str]) -> bool:
    text = f"{row.body_text}\n{row.body_html or ''}"
    return any(code in text for code in codes)


def _reissue(
    session: Session, row: Outbox, context: dict[str, Any], attachments: Sequence[tuple[str, str, bytes]] = ()
) -> int:
    """Cancel a pending batch email and enqueue it again from ``context`` (1 when re-issued)."""
    _cancel_rows(
        session, [row.id] if row.id is not None else [], "cancelled: consent withdrawn, re-issued without the case"
    )
    if not context.get("cases", context.get("profiles")):
        return 0
    # A fresh key without the original's case codes (it may name the case that left).
    stem = f"{row.kind}:reissue:{hashlib.sha256(row.key.encode()).hexdigest()[:16]}"
    n = len(session.exec(select(Outbox.id).where(col(Outbox.key).startswith(stem))).all())
    enqueue_email(
        session,
        key=f"{stem}:r{n + 1}",
        kind=row.kind,
        recipient=row.recipient,
        recipient_code=row.recipient_code,
        reply_to=row.reply_to,
        language=row.language,
        context=context,
        attachments=attachments,
    )
    return 1


def _reissue_dispatch(session: Session, codes: list[str]) -> int:
    """Pending Confindustria sheets listing one of ``codes``: re-issued with consenting profiles only."""
    count = 0
    for row in _pending(session, Outbox.kind == "dispatch_confindustria"):
        if not _mentions(row, codes):
            continue
        batch = session.exec(select(DispatchBatch).where(DispatchBatch.code == row.key.split(":")[1])).first()
        if batch is None:
            continue
        pairs = session.exec(
            select(Case, Profile)
            .join(DispatchItem, col(DispatchItem.case_id) == col(Case.id))
            .join(Profile, col(Profile.case_id) == col(Case.id))
            .where(
                DispatchItem.batch_id == batch.id,
                valid_consent_clause(col(Case.person_key), ConsentPurpose.PROFILE_TO_CONFINDUSTRIA),
            )
            .order_by(col(Case.id))
        ).all()
        profiles = [profile_row(c, p) for c, p in pairs]
        batch.profile_count = len(profiles)
        session.add(batch)
        when = batch.sent_at.date() if batch.sent_at else date.today()
        context = {"batch_code": batch.code, "count": len(profiles), "profiles": profiles, "date": when}
        sheet = [(f"profili-{batch.code}.xlsx", XLSX, profiles_xlsx(profiles, title=f"Profili {batch.code}"))]
        count += _reissue(session, row, context, sheet if profiles else ())
    return count


def _reissue_cpia(session: Session, codes: list[str]) -> int:
    """Pending CPIA enrolment requests listing one of ``codes``: re-issued with the other cases only."""
    count = 0
    for row in _pending(session, Outbox.kind == "cpia_enrolment_request"):
        if not _mentions(row, codes):
            continue
        pairs = session.exec(
            select(Case, Enrollment)
            .join(Enrollment, col(Enrollment.case_id) == col(Case.id))
            .where(
                Enrollment.cpia_code == row.recipient_code,
                col(Enrollment.outcome).is_(None),
                valid_consent_clause(col(Case.person_key), ConsentPurpose.CPIA_ENROLMENT),
            )
            .order_by(col(Case.id))
        ).all()
        cpia = session.get(Organisation, row.recipient_code or "")
        cases = [
            {"case_code": c.code, "target_level": e.level.value, "office_name": c.office_code}
            for c, e in pairs
            if _mentions(row, [c.code])
        ]
        count += _reissue(session, row, {"cpia_name": cpia.name if cpia else "", "cases": cases})
    return count


def withdraw_consent(
    session: Session,
    case_code: str,
    purpose: ConsentPurpose,
    recipient_code: str = "*",
    *,
    actor: str = ACTOR,
    flow_run_id: str | None = None,
) -> WithdrawalResult:
    """Withdraw a consent and stop every pending share that depended on it; logged.

    - rows carrying the person's data under that consent (contact release...) are cancelled;
    - batch emails not yet sent (Confindustria sheet, CPIA request) are re-issued without the case;
    - CPIA: open courses are closed (``consent_withdrawn``); referrer contact: pending notices to
      the referrer are cancelled; CPI processing: open cases move to WITHDRAWN and every pending
      row with the person's data is cancelled.
    Sent messages cannot be recalled; the audit row says when the consent stopped.
    """
    purpose = ConsentPurpose(purpose)
    recipient = (recipient_code or "*").strip() or "*"
    case = find_case(session, case_code)
    keys = linked_keys(session, case)
    cases = cases_of(session, keys)
    codes = [c.code for c in cases]
    result = WithdrawalResult()
    for key in keys:
        result.consents += len(withdraw(session, key, purpose, recipient))
    personal = _pending(session, col(Outbox.person_key).in_(list(keys)))
    stop = [
        r.id
        for r in personal
        if r.id is not None and r.consent_purpose == purpose.value and not consent_still_valid(session, r)
    ]
    if purpose is ConsentPurpose.CPI_PROCESSING:
        stop = [r.id for r in personal if r.id is not None]
    if purpose is ConsentPurpose.REFERRER_CONTACT:
        stop += [
            r.id
            for r in _pending(session, col(Outbox.case_code).in_(codes), col(Outbox.key).contains(":referrer:"))
            if r.id is not None
        ]
    result.cancelled = _cancel_rows(session, stop, f"cancelled: consent {purpose.value} withdrawn")
    if purpose is ConsentPurpose.PROFILE_TO_CONFINDUSTRIA:
        result.reissued = _reissue_dispatch(session, codes)
    if purpose is ConsentPurpose.CPIA_ENROLMENT:
        ids = [c.id for c in cases]
        for course in session.exec(
            select(Enrollment).where(col(Enrollment.case_id).in_(ids), col(Enrollment.outcome).is_(None))
        ).all():
            course.outcome, course.end = "consent_withdrawn", date.today()
            session.add(course)
            result.courses_closed += 1
        session.flush()
        result.reissued = _reissue_cpia(session, codes)
    if purpose is ConsentPurpose.CPI_PROCESSING:
        for c in cases:
            if c.state in OPEN:
                transition(
                    session,
                    c,
                    State.WITHDRAWN,
                    actor=actor,
                    reason=CloseReason.CONSENT_WITHDRAWN.value,
                    flow_run_id=flow_run_id,
                )
                result.cases_withdrawn += 1
    audit_read(
        session,
        actor=actor,
        case_code=case.code,
        purpose=f"revoca consenso {purpose.value} (destinatario {recipient}): {result.cancelled} email annullate",
        action="consent_withdrawn",
    )
    _log.info("consent %s withdrawn for %s: %s", purpose.value, case.code, asdict(result))
    return result


def cancel_for_expired_consents(session: Session, *, now: datetime | None = None) -> int:
    """Pending personal rows whose consent has expired are cancelled (the drain would refuse them)."""
    rows = _pending(session, col(Outbox.person_key).is_not(None), col(Outbox.consent_purpose).is_not(None))
    stop = [r.id for r in rows if r.id is not None and not consent_still_valid(session, r)]
    return _cancel_rows(session, stop, "cancelled: consent expired")


# --------------------------------------------------------------------------------------------
# Art. 15 access export


def private_dir(*parts: str) -> Path:
    """``var/private/...``: files with personal data, kept with the database, never with Prefect."""
    path = get_settings().var_dir.joinpath("private", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _plain(obj: SQLModel, drop: Sequence[str] = ()) -> dict[str, Any]:
    return {k: v for k, v in obj.model_dump(mode="json").items() if k not in drop}


_HTML = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="it"><head><meta charset="utf-8"><title>Accesso ai dati – {{ data.richiesta.pratica }}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th{background:#f3f3f3}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}</style></head>
<body><h1>Copia dei dati personali (art. 15 GDPR)</h1>
<p>Pratica {{ data.richiesta.pratica }} · generata il {{ data.richiesta.generata_il }}.
I dati sono trattati dal Centro per l'Impiego per il percorso «Incontro al lavoro».</p>
{% macro table(rows) -%}
{% if rows is mapping %}{% set rows = [rows] %}{% endif %}
{% if rows %}<table><tr>{% for k in rows[0] %}<th>{{ k }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for k in rows[0] %}<td>{{ r[k] if r[k] is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}
</table>{% else %}<p><em>nessun dato</em></p>{% endif %}
{%- endmacro %}
{% for title, key in sections %}<h2>{{ title }}</h2>{{ table(data[key]) }}{% endfor %}
</body></html>
"""
)

_SECTIONS = [
    ("Dati anagrafici e di contatto", "persona"),
    ("Pratiche", "pratiche"),
    ("Storia delle pratiche", "storia"),
    ("Segnalazioni", "segnalazioni"),
    ("Consensi", "consensi"),
    ("Valutazioni della lingua italiana", "valutazioni"),
    ("Corsi CPIA", "corsi"),
    ("Profilo professionale", "profili"),
    ("Invii a Confindustria", "invii"),
    ("Abbinamenti con posizioni aperte", "abbinamenti"),
    ("Risposte delle aziende", "interessi"),
    ("Esiti", "esiti"),
    ("Comunicazioni", "comunicazioni"),
    ("Registro degli accessi", "accessi"),
]


@dataclass
class ExportResult:
    json_path: Path
    html_path: Path
    sections: dict[str, int]


def collect_personal_data(session: Session, case: Case) -> dict[str, Any]:
    """Everything the application holds about the person behind ``case``, grouped for reading."""
    keys = linked_keys(session, case)
    cases = cases_of(session, keys)
    ids = [c.id for c in cases]
    codes = {c.id: c.code for c in cases}

    def per_case(model: type[SQLModel], drop: Sequence[str] = ("id",)) -> list[dict[str, Any]]:
        rows = session.exec(select(model).where(col(model.case_id).in_(ids))).all()  # type: ignore[attr-defined]
        return [{"pratica": codes.get(getattr(r, "case_id", None)), **_plain(r, (*drop, "case_id"))} for r in rows]

    batches = {b.id: b.code for b in session.exec(select(DispatchBatch)).all()}
    mail = session.exec(
        select(Outbox).where(
            or_(col(Outbox.person_key).in_(list(keys)), col(Outbox.case_code).in_(list(codes.values())))
        )
    ).all()
    return {
        "richiesta": {"pratica": case.code, "generata_il": utcnow().isoformat(timespec="seconds")},
        "persona": [
            _plain(p, ("id", "key")) for p in session.exec(select(Person).where(col(Person.key).in_(list(keys)))).all()
        ],
        "pratiche": [_plain(c, ("id", "person_key", "merged_into_id", "version")) for c in cases],
        "storia": per_case(CaseEvent, ("id", "flow_run_id")),
        "segnalazioni": [
            _plain(r, ("id", "person_key", "case_id", "import_file_id"))
            for r in session.exec(select(Referral).where(col(Referral.person_key).in_(list(keys)))).all()
        ],
        "consensi": [
            _plain(c, ("id", "person_key"))
            for c in session.exec(select(Consent).where(col(Consent.person_key).in_(list(keys)))).all()
        ],
        "valutazioni": per_case(Assessment),
        "corsi": per_case(Enrollment),
        "profili": per_case(Profile),
        "invii": [
            {"pratica": codes.get(i.case_id), "invio": batches.get(i.batch_id)}
            for i in session.exec(select(DispatchItem).where(col(DispatchItem.case_id).in_(ids))).all()
        ],
        "abbinamenti": per_case(Match),
        "interessi": per_case(Interest),
        "esiti": per_case(Outcome),
        "comunicazioni": [
            {
                "pratica": m.case_code,
                "tipo": m.kind,
                "destinatario": m.recipient_code or "interessato",
                "stato": OutboxStatus(m.status).value,
                "creata": m.created_at.isoformat(timespec="seconds"),
                "inviata": m.sent_at.isoformat(timespec="seconds") if m.sent_at else None,
            }
            for m in mail
        ],
        "accessi": [
            _plain(a, ("id",))
            for a in session.exec(select(AuditLog).where(col(AuditLog.case_code).in_(list(codes.values())))).all()
        ],
    }


def access_export(session: Session, case_code: str, *, actor: str = ACTOR, out_dir: Path | None = None) -> ExportResult:
    """Art. 15: write the person's data as JSON and as a readable HTML page under ``var/private/exports``."""
    case = find_case(session, case_code)
    audit_read(
        session,
        actor=actor,
        case_code=case.code,
        purpose="Art. 15 GDPR: copia dei dati all'interessato",
        action="access_export",
    )
    data = collect_personal_data(session, case)
    target = out_dir or private_dir("exports")
    target.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    json_path = target / f"accesso-{case.code}-{stamp}.json"
    html_path = json_path.with_suffix(".html")
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    html_path.write_text(_HTML.render(data=data, sections=_SECTIONS), encoding="utf-8")
    sections = {k: len(v) if isinstance(v, list) else 1 for k, v in data.items() if k != "richiesta"}
    return ExportResult(json_path=json_path, html_path=html_path, sections=sections)


# --------------------------------------------------------------------------------------------
# Art. 16 rectification


RECTIFIABLE = (
    "family_name",
    "given_names",
    "native_family_name",
    "native_given_names",
    "birth_date",
    "sex",
    "birth_place",
    "citizenship",
    "codice_fiscale",
    "phone",
    "email",
    "municipality",
    "permit_type",
    "permit_expiry",
    "languages",
    "preferred_language",
)

_LABELS = {
    "family_name": "cognome",
    "given_names": "nome",
    "native_family_name": "cognome (scrittura originale)",
    "native_given_names": "nome (scrittura originale)",
    "birth_date": "data di nascita",
    "sex": "sesso",
    "birth_place": "luogo di nascita",
    "citizenship": "cittadinanza",
    "codice_fiscale": "codice fiscale",
    "phone": "telefono",
    "email": "e-mail",
    "municipality": "comune di residenza",
    "permit_type": "tipo di permesso",
    "permit_expiry": "scadenza del permesso",
    "languages": "lingue",
    "preferred_language": "lingua preferita",
}


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    raise ValueError("data non valida: usare gg/mm/aaaa o aaaa-mm-gg")


def _clean(name: str, value: Any) -> Any:
    """One field, validated and normalised; ValueError with an Italian reason (no value quoted)."""
    if name in ("birth_date", "permit_expiry"):
        parsed = _parse_date(value)
        if name == "birth_date" and parsed is not None and not (date(1900, 1, 1) <= parsed <= date.today()):
            raise ValueError("data di nascita fuori dall'intervallo plausibile")
        return parsed
    if name == "languages":
        items = value if isinstance(value, list) else str(value or "").split(",")
        return [str(i).strip() for i in items if str(i).strip()]
    if name == "preferred_language":
        try:
            return Language(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"lingua non gestita: ammesse {', '.join(v.value for v in Language)}") from None
    text = "" if value is None else " ".join(str(value).split())
    if name in ("family_name", "given_names"):
        if not text:
            raise ValueError("obbligatorio")
        return text
    if not text:
        return "" if name.startswith("native_") else None
    checks = {"codice_fiscale": normalize_cf, "phone": normalize_phone, "email": normalize_email}
    if name in checks:
        normalised = checks[name](text)
        if normalised is None:
            raise ValueError("formato non valido")
        return normalised
    if name == "sex" and text.upper() not in ("M", "F", "X"):
        raise ValueError("ammessi M, F o X")
    return text.upper() if name == "sex" else text


def validate_rectification(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Every change checked at once; a :class:`PrivacyError` lists each bad field and why."""
    errors: list[str] = []
    clean: dict[str, Any] = {}
    if not changes:
        raise PrivacyError("nessuna correzione indicata")
    for name, value in changes.items():
        if name not in RECTIFIABLE:
            errors.append(f"campo «{name}» non correggibile (ammessi: {', '.join(RECTIFIABLE)})")
            continue
        try:
            clean[name] = _clean(name, value)
        except ValueError as exc:
            errors.append(f"{_LABELS[name]} ({name}): {exc}")
    if errors:
        raise PrivacyError("rettifica rifiutata, nulla è stato modificato: " + "; ".join(errors))
    return clean


def rectify_person(session: Session, case_code: str, changes: Mapping[str, Any], *, actor: str = ACTOR) -> list[str]:
    """Art. 16: apply validated corrections to the person of ``case_code``; returns the fields changed."""
    clean = validate_rectification(changes)
    case = find_case(session, case_code)
    person = session.exec(select(Person).where(Person.key == case.person_key)).first()
    key = session.get(PersonKey, case.person_key)
    if person is None or (key is not None and key.erased_at is not None):
        raise PrivacyError(f"pratica {case.code}: i dati della persona sono stati cancellati, nulla da rettificare")
    changed = [n for n, v in clean.items() if getattr(person, n) != v]
    for name in changed:
        setattr(person, name, clean[name])
    if {"family_name", "given_names"} & set(changed):
        person.name_norm = normalize_name(f"{person.family_name} {person.given_names}")
    session.add(person)
    audit_read(
        session,
        actor=actor,
        case_code=case.code,
        purpose=f"Art. 16 GDPR: rettifica di {', '.join(changed) or 'nessun campo (valori già corretti)'}",
        action="rectification",
    )
    return changed


def rectification_request_path(case_code: str) -> Path:
    """Where an operator's rectification waits for the flow: ``var/private/requests/rettifica-<code>.json``."""
    return private_dir("requests") / f"rettifica-{check_case_code(case_code)}.json"


def save_rectification_request(case_code: str, changes: Mapping[str, Any]) -> Path:
    """Validate and store a rectification for the ``rectification`` flow (values never go to Prefect)."""
    validate_rectification(changes)
    path = rectification_request_path(case_code)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(changes), ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def load_rectification_request(case_code: str) -> dict[str, Any]:
    path = rectification_request_path(case_code)
    if not path.exists():
        raise PrivacyError(
            f"nessuna richiesta di rettifica per la pratica {check_case_code(case_code)}: "
            f"registrarla prima in {path.parent} (save_rectification_request)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise PrivacyError(
            f"{path.name}: file di rettifica illeggibile (JSON non valido); registrarla di nuovo"
        ) from None
    if not isinstance(data, dict):
        raise PrivacyError(f"{path.name}: atteso un oggetto JSON campo → valore")
    return data


def apply_rectification_request(session: Session, case_code: str, *, actor: str = ACTOR) -> list[str]:
    """Apply the stored request of ``case_code``; the file is removed once the change is written."""
    changed = rectify_person(session, case_code, load_rectification_request(case_code), actor=actor)
    session.flush()
    return changed


def delete_rectification_request(case_code: str) -> None:
    rectification_request_path(case_code).unlink(missing_ok=True)
