"""Case-code lookups and the identifier strings of a person, shared by every data-subject request."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.cases import Case
from models.forms import CASE_CODE
from models.people import Person, Referral
from tasks.files.normalize import normalize_name

ACTOR = "flow:privacy"
ERASED_TEXT = "[dato cancellato]"
CASE_CODE_RE = re.compile(CASE_CODE)
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
    import phonenumbers  # here, not at import: the privacy flow starts without it

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
    for phone in (person.phone, person.phone_secondary):
        if phone:
            found |= set(phone_forms(phone))
    if not strong_only:
        found |= {*family, *given}
        found |= {w for n in (*family, *given) for w in n.split()}
        if person.birth_date:
            found |= {person.birth_date.isoformat(), person.birth_date.strftime("%d/%m/%Y")}
    found |= {html.escape(s) for s in found}
    return sorted((s for s in found if len(s) >= MIN_NEEDLE), key=lambda s: (-len(s), s))


def phone_regex(e164: str) -> str:
    """The number however it is spaced: national digits, or the significant number after +CC/00CC."""
    import phonenumbers

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
    phones = [n for p in people for n in (p.phone, p.phone_secondary) if n]
    parts = [phone_regex(n) for n in phones] + [re.escape(n) for n in needles]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def scrub(text: str | None, pattern: re.Pattern[str] | None) -> str | None:
    """``text`` with every match of ``pattern`` replaced by :data:`ERASED_TEXT`."""
    if text is None or pattern is None:
        return text
    return pattern.sub(ERASED_TEXT, text)
