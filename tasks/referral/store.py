"""Writing a referral file's rows: the bulk INSERTs of one chunk (docs/ARCHITECTURE.md#data).

Each chunk of validated rows becomes person keys, REFERRED cases (with their first step),
people, referrals, the consents given on the form and the creation history, as multi-row Core
INSERTs on the session's connection; rejected rows likewise. No ORM objects and no ORM bulk
path: the ORM splits a bulk INSERT into one statement per row whenever rows differ in which
columns are None (and per row for RETURNING on SQLite), a third of a big import's time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col

from config.next_steps import OwnerKind, load_next_steps
from models import clock
from models.base import insert_values, new_token
from models.cases import Case
from models.enums import Channel, ConsentPurpose, Language, State
from models.ops import ImportRow
from models.people import Consent, Person, PersonKey, Referral
from tasks.core.codes import allocate_codes
from tasks.core.next_steps import choose_step, due_date, facts_needed, owner_code
from tasks.core.transitions import record_creations
from tasks.files.rows import ReferralRow

__all__ = ["store_chunk", "store_rejected"]

#: Who the history rows say made the move (the referral stage; ``ingest`` uses it too).
ACTOR = "flow:referral"


def store_chunk(
    session: Session,
    rows: list[tuple[int, ReferralRow]],
    prefix: str,
    referrer: str,
    import_id: int,
    flow_run_id: str | None,
) -> list[str]:
    """Write one chunk of valid rows as multi-row Core INSERTs on the session's connection.

    No ORM objects and no ORM bulk path: the ORM splits a bulk INSERT into one statement per
    row whenever rows differ in which columns are None (and per row for RETURNING on SQLite),
    which cost a third of a big import. The rows were validated already; the case ids come
    back with their codes (RETURNING, batched), so nothing depends on the order of the rows.
    """
    session.flush()
    if not rows:
        return []
    conn = session.connection()
    codes = allocate_codes(session, prefix, len(rows))
    tokens = [new_token() for _ in rows]
    conn.execute(insert(PersonKey), _with_defaults(PersonKey, [{"token": t} for t in tokens]))
    first_step = _first_step(referrer)
    created = conn.execute(
        insert(Case).returning(col(Case.id), col(Case.code)),
        _with_defaults(
            Case,
            [{"code": code, "person_key": token} for token, code in zip(tokens, codes, strict=True)],
            state=State.REFERRED,
            **first_step,
        ),
    )
    id_of = {code: case_id for case_id, code in created}
    case_ids = [id_of[code] for code in codes]
    conn.execute(
        insert(Person), _with_defaults(Person, [_person(t, row) for t, (_, row) in zip(tokens, rows, strict=True)])
    )
    referrals, consents = [], []
    source = f"import:{import_id}"
    for (number, row), token, case_id in zip(rows, tokens, case_ids, strict=True):
        referrals.append(_referral(row, token, case_id, number))
        # The consents given on the form; a brand-new key has none to renew.
        purposes = [ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT] if row.consent_privacy else []
        purposes += [ConsentPurpose.PROFILE_TO_CONFINDUSTRIA] if row.consent_confindustria else []
        consents += [{"person_key": token, "purpose": p} for p in purposes]
    common = {"referrer_code": referrer, "channel": Channel.FILE, "import_file_id": import_id}
    conn.execute(insert(Referral), _with_defaults(Referral, referrals, **common))
    if consents:
        conn.execute(insert(Consent), _with_defaults(Consent, consents, source=source))
    record_creations(
        session,
        list(zip(case_ids, codes, strict=True)),
        State.REFERRED,
        actor=ACTOR,
        flow_run_id=flow_run_id,
        steps_written=bool(first_step),
    )
    return codes


def _first_step(referrer: str) -> dict[str, Any]:
    """The next step every new case gets, written with its INSERT, when config/next_steps.yaml
    gives REFERRED one step whatever the facts: the same assignment ``record_creations`` would
    plan (a new case has no office, and its only organisation is the referrer), without its
    query and UPDATE per chunk. Nothing when the step depends on facts: then it plans."""
    table = load_next_steps()
    if facts_needed(table, State.REFERRED):
        return {}
    step = choose_step(table, State.REFERRED, {})
    if step is None:
        return {}
    org = referrer if step.owner is OwnerKind.PARTNER else None
    owner = owner_code(step.owner, office_code=None, org_code=org)
    return {"next_step": step.code, "owner": owner, "next_due": due_date(step, clock.today())}


def store_rejected(session: Session, rejected: list[dict[str, Any]], import_id: int) -> None:
    """The rejected rows of a chunk, one multi-row INSERT (see :func:`store_chunk`)."""
    if rejected:
        session.connection().execute(insert(ImportRow), _with_defaults(ImportRow, rejected, import_file_id=import_id))
        rejected.clear()


def _with_defaults(model: type[Any], rows: list[dict[str, Any]], **common: Any) -> list[dict[str, Any]]:
    """``rows`` completed with ``common`` and the model's defaults, computed once for the chunk
    (a timestamp per chunk, not per row: the rows are written in the same transaction)."""
    base = insert_values(model, **common)
    return [{**base, **row} for row in rows]


def _person(key: str, row: ReferralRow) -> dict[str, Any]:
    cyrillic = any("\u0400" <= c <= "\u04ff" for c in row.family_name + row.given_names)
    return dict(
        key=key,
        family_name=row.family_name,
        given_names=row.given_names,
        native_family_name=row.family_name if cyrillic else "",
        native_given_names=row.given_names if cyrillic else "",
        name_norm=row.name_norm,
        birth_date=row.birth_date,
        sex=row.sex,
        birth_place=row.birth_place,
        citizenship=row.citizenship,
        codice_fiscale=row.codice_fiscale,
        phone=row.phone,
        phone_raw=row.phone_raw,
        phone_verified=row.phone_verified,
        phone_secondary=row.phone_secondary,
        phone_secondary_raw=row.phone_secondary_raw,
        phone_secondary_verified=row.phone_secondary_verified,
        email=row.email,
        municipality=row.municipality,
        permit_type=row.permit_type,
        permit_expiry=row.permit_expiry,
        languages=row.languages,
        preferred_language=_preferred_language(row),
    )


def _referral(row: ReferralRow, key: str, case_id: int, number: int) -> dict[str, Any]:
    return dict(
        person_key=key,
        case_id=case_id,
        row_number=number,
        experiences_text=row.experiences or "",
        self_italian_level=row.italian_level.value if row.italian_level else None,
        education_text=row.education,
        licence_text=row.licence,
    )


def _preferred_language(row: ReferralRow) -> Language:
    langs = " ".join(row.languages).casefold()
    if row.italian_level is not None and row.italian_level.rank >= 3:
        return Language.IT
    if "ucrain" in langs or "russ" in langs or "україн" in langs:
        return Language.UK
    if "ingl" in langs or "english" in langs:
        return Language.EN
    return Language.IT
