"""The desk's reads of cases and people: always scoped to what the account may see, always audited.

An operator sees her CPI's cases only: the office condition is part of every query that loads a
case, so another office's case is simply not found (404), never loaded and then refused.
Coordinators and the privacy officer see every office. Each read of a person's identifying data
writes an audit row (who, which case, why) in the same transaction (tasks/core/audit.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, false, insert, or_, true
from sqlmodel import Session, col, select

from models.accounts import DeskUser, Role
from models.cases import Case
from models.clock import utcnow
from models.enums import State
from models.ops import AuditLog
from models.people import Person, Referral
from tasks.files.normalize import name_key_token, normalize_name
from tasks.runtime.db import IN_CHUNK

#: Case codes as operators type them: "bg-2026-000103", "BG 2026 103", "2026-103".
_CODE_RE = re.compile(r"^\s*(?:([a-z]{2})[\s-]*)?(\d{4})[\s-]+(\d{1,9})\s*$", re.I)
_CF_RE = re.compile(r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$")
_PHONE_RE = re.compile(r"^\+?[\d\s()./-]{6,}$")
CLOSED_STATES = frozenset({State.HIRED, State.REJECTED, State.DUPLICATE, State.WITHDRAWN, State.CLOSED, State.ERASED})
RESULT_LIMIT = 50


@dataclass(frozen=True)
class Query:
    """What a search box holds, read as one kind of identifier."""

    kind: str  # code | tax_code | phone | name | empty
    value: str
    tokens: tuple[str, ...] = ()


def read_query(text: str, province: str = "BG") -> Query:
    """Decide what the operator typed: a case code, a tax code, a phone or a name (any script)."""
    raw = " ".join((text or "").split())
    if not raw:
        return Query("empty", "")
    code = _CODE_RE.match(raw)
    if code:
        prefix = (code.group(1) or province).upper()
        return Query("code", f"{prefix}-{code.group(2)}-{int(code.group(3)):06d}")
    compact = re.sub(r"\s", "", raw).upper()
    if _CF_RE.match(compact) or (compact.isdigit() and len(compact) == 11):
        return Query("tax_code", compact)
    if _PHONE_RE.match(raw) and sum(ch.isdigit() for ch in raw) >= 6:
        digits = re.sub(r"\D", "", raw)
        if raw.startswith("00"):
            digits = digits[2:]
        elif not raw.startswith("+") and digits.startswith("3") and len(digits) in (9, 10):
            digits = "39" + digits  # an Italian mobile written without the country code
        return Query("phone", digits)
    norm = normalize_name(raw)
    if not norm:
        return Query("empty", "")
    return Query("name", norm, tuple(norm.split()))


def office_scope(user: DeskUser) -> ColumnElement[bool]:
    """The cases this account may see: its office's, or every case for coordinators and privacy."""
    if user.role is Role.OPERATOR:
        return col(Case.office_code) == user.office_code if user.office_code else false()
    return true()


def load_case(session: Session, user: DeskUser, code: str) -> Case | None:
    """The case ``code`` if this account may see it (else None: the page answers 404)."""
    return session.exec(select(Case).where(Case.code == code, office_scope(user))).first()


@dataclass(frozen=True)
class CaseRow:
    """One line of a list: the case and the person's name as stored (both scripts)."""

    case: Case
    name: str
    native_name: str
    referrer_code: str | None = None


def _display(person: Person | None) -> tuple[str, str]:
    if person is None:
        return "—", ""
    latin = f"{person.family_name} {person.given_names}".strip()
    native = f"{person.native_family_name} {person.native_given_names}".strip()
    return latin or native or "—", native if native and native != latin else ""


def _name_condition(query: Query) -> ColumnElement[bool]:
    """Every word typed appears in the normalised name (Cyrillic is transliterated on both sides)."""
    return and_(*(col(Person.name_norm).contains(token, autoescape=True) for token in query.tokens))


#: Initials that differ between transliterations of one name (Yevhen/Evgeny, Hryhorii/Grigory,
#: Wolodymyr/Volodymyr, Filip/Philip): a folded search looks at words starting with any of them.
_INITIALS = ("eiyj", "hgk", "vw", "fp", "ck", "sz")


def _initial_condition(token: str) -> ColumnElement[bool]:
    """The name has a word starting with this token's initial (or an equivalent one)."""
    letters = next((group for group in _INITIALS if token[:1] in group), token[:1])
    return or_(
        *(col(Person.name_norm).startswith(ch, autoescape=True) for ch in letters),
        *(col(Person.name_norm).contains(f" {ch}", autoescape=True) for ch in letters),
    )


def _folded_match(query: Query, name_norm: str) -> bool:
    """Spelling variants across transliterations (Olha/Olga, Serhii/Sergey): every typed word's
    matching key starts a word key of the name."""
    keys = [name_key_token(t) for t in name_norm.split()]
    return all(any(k.startswith(name_key_token(t)) for k in keys) for t in query.tokens)


def search_cases(
    session: Session,
    user: DeskUser,
    text: str = "",
    *,
    state: State | None = None,
    next_step: str | None = None,
    overdue: bool = False,
    today: date | None = None,
    limit: int = RESULT_LIMIT,
) -> list[CaseRow]:
    """The caseload of this account, filtered; a name is searched exactly (normalised) first, then
    with spelling variants folded when the exact search finds nobody."""
    query = read_query(text)
    stmt = select(Case, Person).join(Person, col(Person.key) == col(Case.person_key)).where(office_scope(user))
    if state is not None:
        stmt = stmt.where(Case.state == state)
    if next_step:
        stmt = stmt.where(Case.next_step == next_step)
    if overdue:
        stmt = stmt.where(col(Case.next_due) < (today or date.min), col(Case.state).not_in(CLOSED_STATES))
    stmt = stmt.order_by(col(Case.next_due).is_(None), col(Case.next_due), col(Case.code))
    if query.kind == "code":
        stmt = stmt.where(Case.code == query.value)
    elif query.kind == "tax_code":
        stmt = stmt.where(col(Person.key).in_(select(Person.key).where(col(Person.codice_fiscale) == query.value)))
    elif query.kind == "phone":
        e164 = f"+{query.value}"
        exact = select(Person.key).where(or_(col(Person.phone) == e164, col(Person.phone_secondary) == e164))
        found = session.exec(stmt.where(col(Person.key).in_(exact)).limit(limit)).all()
        if found:
            return _rows(found)
        tail = query.value[-9:]  # written without (or with another) country code: compare the number
        stmt = stmt.where(
            or_(
                col(Person.phone).endswith(tail, autoescape=True),
                col(Person.phone_secondary).endswith(tail, autoescape=True),
            )
        )
    elif query.kind == "name":
        # the names are matched once, in a subquery (a LIKE cannot use an index, so it must not be
        # re-evaluated per case row the planner walks in due-date order)
        matching = select(Person.key).where(_name_condition(query))
        found = session.exec(stmt.where(col(Case.person_key).in_(matching)).limit(limit)).all()
        if found:
            return _rows(found)
        # spelling variants: each distinct candidate name (same initials) is folded once, in Python
        names = session.exec(
            select(Person.name_norm)
            .distinct()
            .join(Case, col(Person.key) == col(Case.person_key))
            .where(office_scope(user), *(_initial_condition(t) for t in query.tokens[:3]))
        ).all()
        similar = [norm for norm in names if _folded_match(query, norm)][:IN_CHUNK]
        if not similar:
            return []
        stmt = stmt.where(col(Person.name_norm).in_(similar))
    return _rows(session.exec(stmt.limit(limit)).all())


def _rows(found: Any) -> list[CaseRow]:
    rows = []
    for case, person in found:
        name, native = _display(person)
        rows.append(CaseRow(case, name, native))
    return rows


def people_of(session: Session, cases: list[Case]) -> dict[str, Person]:
    keys = sorted({c.person_key for c in cases})
    if not keys:
        return {}
    return {p.key: p for p in session.exec(select(Person).where(col(Person.key).in_(keys))).all()}


def first_referrers(session: Session, cases: list[Case]) -> dict[int, str]:
    """Case id → the code of the organisation that referred it first."""
    ids = [c.id for c in cases if c.id is not None]
    if not ids:
        return {}
    found: dict[int, str] = {}
    for case_id, code in session.exec(
        select(Referral.case_id, Referral.referrer_code)
        .where(col(Referral.case_id).in_(ids))
        .order_by(col(Referral.id))
    ).all():
        if case_id is not None:
            found.setdefault(case_id, code)
    return found


def audit_reads(session: Session, actor: str, codes: list[str], purpose: str, action: str = "read") -> None:
    """One audit row per case whose person's data this page shows (a bulk insert)."""
    if codes:
        now = utcnow()
        session.execute(
            insert(AuditLog),
            [{"at": now, "actor": actor, "action": action, "case_code": code, "purpose": purpose} for code in codes],
        )
