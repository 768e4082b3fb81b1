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

from sqlalchemy import ColumnElement, false, func, insert, or_, true
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


def _word_start(column: Any, word: str) -> ColumnElement[bool]:
    """``word`` starts one of the words of ``column`` (words are single-space separated)."""
    return or_(column.startswith(word, autoescape=True), column.contains(f" {word}", autoescape=True))


def _exact_people(query: Query) -> Any:
    """People whose normalised name holds every word typed (Cyrillic transliterated on both sides)."""
    return select(Person.id).where(*(col(Person.name_norm).contains(t, autoescape=True) for t in query.tokens))


def _folded_match(query: Query, name_norm: str) -> bool:
    """Spelling variants across transliterations (Olha/Olga, Serhii/Sergey): every typed word's
    matching key starts a word key of the name."""
    keys = [name_key_token(t) for t in name_norm.split()]
    return all(any(k.startswith(name_key_token(t)) for k in keys) for t in query.tokens)


def _folded_people(session: Session, query: Query) -> Any:
    """People whose folded name (``person.name_key``) has a word starting with each typed word's
    key; a name not folded yet (empty key: written before its key) is folded here, in Python."""
    keys = [name_key_token(t) for t in query.tokens]
    folded = select(Person.id).where(*(_word_start(col(Person.name_key), k) for k in keys))
    unfolded = select(Person.name_norm).distinct().where(Person.name_key == "", Person.name_norm != "")
    similar = [norm for norm in session.exec(unfolded).all() if _folded_match(query, norm)][:IN_CHUNK]
    if not similar:
        return folded
    return folded.union(select(Person.id).where(Person.name_key == "", col(Person.name_norm).in_(similar)))


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
    with spelling variants folded when the exact search finds nobody.

    An identifier typed selects the people first (by index: case code, tax code, phone; by one
    pass over an index of names for a name), then their cases in this account's scope, sorted by
    due date: the rows found are limited in SQL and only the page's rows become objects."""
    query = read_query(text)
    filters: list[ColumnElement[bool]] = []
    if state is not None:
        filters.append(col(Case.state) == state)
    if next_step:
        filters.append(col(Case.next_step) == next_step)
    if overdue:
        filters += [col(Case.next_due) < (today or date.min), col(Case.state).not_in(CLOSED_STATES)]
    order = (col(Case.next_due).is_(None), col(Case.next_due), col(Case.code))
    cases = select(Case, Person).join(Person, col(Person.key) == col(Case.person_key))
    if query.kind == "code":
        return _rows(session.exec(cases.where(office_scope(user), Case.code == query.value, *filters)).all())
    if query.kind == "empty":
        return _caseload(session, user, filters, limit)

    def of(people: Any) -> list[CaseRow]:
        # the office is a condition on the cases found, not an index to walk: without statistics
        # SQLite would otherwise read all of the office's cases and test each against the people
        stmt = cases.where(col(Person.id).in_(people), _office_filter(user), *filters)
        return _rows(session.exec(stmt.order_by(*order).limit(limit)).all())

    if query.kind == "tax_code":
        return of(select(Person.id).where(col(Person.codice_fiscale) == query.value))
    if query.kind == "phone":
        e164 = f"+{query.value}"
        exact = (
            select(Person.id)
            .where(col(Person.phone) == e164)
            .union(select(Person.id).where(col(Person.phone_secondary) == e164))
        )
        if session.exec(select(exact.subquery().c.id).limit(1)).first() is not None:
            return of(exact)  # somebody has this very number (in this scope or not)
        tail = query.value[-9:]  # written without (or with another) country code: compare the number
        return of(
            select(Person.id)
            .where(col(Person.phone).endswith(tail, autoescape=True))
            .union(select(Person.id).where(col(Person.phone_secondary).endswith(tail, autoescape=True)))
        )
    return of(_exact_people(query)) or of(_folded_people(session, query))


def _caseload(session: Session, user: DeskUser, filters: list[ColumnElement[bool]], limit: int) -> list[CaseRow]:
    """The page of the caseload in due order, without a search: first the ids of the page's cases
    (along the due-date index, or the office's cases; those without a due date after the others),
    then only those cases loaded with their people. Ordering by "due IS NULL" first, or joining
    the people before the limit, would sort or read every case of the scope."""
    ids = select(Case.id).where(office_scope(user), *filters)
    due = col(Case.next_due)
    found = list(session.exec(ids.where(due.is_not(None)).order_by(due, col(Case.code)).limit(limit)).all())
    if len(found) < limit:
        found += session.exec(ids.where(due.is_(None)).order_by(col(Case.code)).limit(limit - len(found))).all()
    if not found:
        return []
    loaded = {
        case.id: (case, person)
        for case, person in session.exec(
            select(Case, Person).join(Person, col(Person.key) == col(Case.person_key)).where(col(Case.id).in_(found))
        ).all()
    }
    return _rows([loaded[i] for i in found if i in loaded])


def _office_filter(user: DeskUser) -> ColumnElement[bool]:
    """:func:`office_scope` written as an expression (no index is walked for it)."""
    if user.role is Role.OPERATOR:
        return func.coalesce(col(Case.office_code), "") == user.office_code if user.office_code else false()
    return true()


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
