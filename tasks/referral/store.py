"""Writing a referral file's rows: the bulk INSERTs of one chunk (docs/ARCHITECTURE.md#data).

Each chunk of validated rows becomes person keys, REFERRED cases (with their first step),
people, referrals, the consents given on the form and the creation history, one executemany
per table on the session's connection (:func:`_insert_rows`); rejected rows likewise. No ORM
objects and no ORM bulk path: the ORM splits a bulk INSERT into one statement per row whenever
rows differ in which columns are None (and per row for RETURNING on SQLite), a third of a big
import's time; and not Core's executemany either, which converts every value of every row in
Python, constants included (half of what was left outside SQLite).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.engine import Connection, Dialect
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
from tasks.files.normalize import name_key
from tasks.files.rows import ReferralRecord
from tasks.runtime.db import in_chunks

__all__ = ["store_chunk", "store_rejected"]

#: Who the history rows say made the move (the referral stage; ``ingest`` uses it too).
ACTOR = "flow:referral"
#: The ids of the cases just written, by their codes.
_IDS_OF_CODES = select(col(Case.id), col(Case.code)).where(col(Case.code).in_(bindparam("codes", expanding=True)))


def store_chunk(
    session: Session,
    rows: list[tuple[int, ReferralRecord]],
    prefix: str,
    referrer: str,
    import_id: int,
    flow_run_id: str | None,
) -> list[str]:
    """Write one chunk of valid rows, one executemany per table on the session's connection.

    The rows were validated already. The case ids are read back by the cases' codes (allocated
    to this chunk, unique), so nothing depends on the order in which the rows were written.
    """
    session.flush()
    if not rows:
        return []
    conn = session.connection()
    codes = allocate_codes(session, prefix, len(rows))
    tokens = [new_token() for _ in rows]
    _insert_rows(conn, PersonKey, [{"token": t} for t in tokens])
    first_step = _first_step(referrer)
    cases = [{"code": code, "person_key": token} for token, code in zip(tokens, codes, strict=True)]
    _insert_rows(conn, Case, cases, state=State.REFERRED, **first_step)
    id_of: dict[str, int] = {}
    for part in in_chunks(codes):  # the new ids by their codes, which are unique and just allocated
        id_of.update((code, case_id) for case_id, code in conn.execute(_IDS_OF_CODES, {"codes": list(part)}))
    case_ids = [id_of[code] for code in codes]
    _insert_rows(conn, Person, [_person(t, row) for t, (_, row) in zip(tokens, rows, strict=True)])
    referrals, consents = [], []
    source = f"import:{import_id}"
    for (number, row), token, case_id in zip(rows, tokens, case_ids, strict=True):
        referrals.append(_referral(row, token, case_id, number))
        # The consents given on the form; a brand-new key has none to renew.
        purposes = [ConsentPurpose.CPI_PROCESSING, ConsentPurpose.REFERRER_CONTACT] if row.consent_privacy else []
        purposes += [ConsentPurpose.PROFILE_TO_CONFINDUSTRIA] if row.consent_confindustria else []
        consents += [{"person_key": token, "purpose": p} for p in purposes]
    common = {"referrer_code": referrer, "channel": Channel.FILE, "import_file_id": import_id}
    _insert_rows(conn, Referral, referrals, **common)
    _insert_rows(conn, Consent, consents, source=source)
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
        _insert_rows(session.connection(), ImportRow, rejected, import_file_id=import_id)
        rejected.clear()


class _Insert(NamedTuple):
    """An INSERT compiled for one dialect and set of columns, and how to give it a row."""

    sql: str
    #: the parameters of a row from its values by column: a tuple in the statement's order
    #: (positional paramstyles) or the dict itself
    params: Callable[[dict[str, Any]], Any]
    #: each column's conversion to what the driver takes (its type's bind processor), if any
    convert: Mapping[str, Callable[[Any], Any]]


def _insert_rows(conn: Connection, model: type[Any], rows: list[dict[str, Any]], **common: Any) -> None:
    """INSERT ``rows`` (each with the same keys) completed with ``common`` and the model's defaults,
    as one ``executemany`` of the driver.

    Core's own executemany rebuilds and converts every parameter of every row in Python (about
    7 µs a row and table, most of a chunk's time outside SQLite). Here the statement is compiled
    once by the connection's dialect (the SQL Core sends), the values common to the chunk (its
    timestamp, defaults, the import) are converted once, and each row converts only its own
    values, with the same bind processors of the column types: the same rows on SQLite and
    PostgreSQL. A column None in the chunk that has no default is left out (NULL all the same).
    """
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    own = rows[0].keys()
    shared = {
        name: value
        for name, value in insert_values(model, **common).items()
        if name not in own and (value is not None or _has_default(table.c[name]))
    }
    plan = _compiled(conn.dialect, table, tuple(own), tuple(shared))
    fixed = {name: plan.convert[name](value) if name in plan.convert else value for name, value in shared.items()}
    converted = [(name, fn) for name, fn in plan.convert.items() if name in own]
    params = []
    for row in rows:
        values = {**fixed, **row}
        for name, fn in converted:
            values[name] = fn(values[name])
        params.append(plan.params(values))
    conn.exec_driver_sql(plan.sql, params)


def _has_default(column: Any) -> bool:
    return column.default is not None or column.server_default is not None


@lru_cache(maxsize=64)
def _compiled(dialect: Dialect, table: Table, own: tuple[str, ...], shared: tuple[str, ...]) -> _Insert:
    compiled = insert(table).compile(dialect=dialect, column_keys=[*own, *shared])
    names = [*own, *shared]
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names}
    convert = {name: fn for name, fn in processors.items() if fn is not None}
    if compiled.positional:
        order = [str(n) for n in compiled.positiontup or ()]
        assert sorted(order) == sorted(names), (table.name, order)  # every column given, no other
        get = itemgetter(*order)
        return _Insert(compiled.string, get if len(order) > 1 else lambda values: (get(values),), convert)
    escaped = dict(compiled.escaped_bind_names)
    rename = (lambda values: {escaped.get(k, k): v for k, v in values.items()}) if escaped else (lambda v: v)
    return _Insert(compiled.string, rename, convert)


def _person(key: str, row: ReferralRecord) -> dict[str, Any]:
    names = row.family_name + row.given_names
    cyrillic = not names.isascii() and any("\u0400" <= c <= "\u04ff" for c in names)
    return dict(
        key=key,
        family_name=row.family_name,
        given_names=row.given_names,
        native_family_name=row.family_name if cyrillic else "",
        native_given_names=row.given_names if cyrillic else "",
        name_norm=row.name_norm,
        name_key=name_key(row.name_norm),  # the desk's indexed search key (migration 0017)
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


def _referral(row: ReferralRecord, key: str, case_id: int, number: int) -> dict[str, Any]:
    return dict(
        person_key=key,
        case_id=case_id,
        row_number=number,
        experiences_text=row.experiences or "",
        self_italian_level=row.italian_level.value if row.italian_level else None,
        education_text=row.education,
        licence_text=row.licence,
    )


def _preferred_language(row: ReferralRecord) -> Language:
    langs = " ".join(row.languages).casefold()
    if row.italian_level is not None and row.italian_level.rank >= 3:
        return Language.IT
    if "ucrain" in langs or "russ" in langs or "україн" in langs:
        return Language.UK
    if "ingl" in langs or "english" in langs:
        return Language.EN
    return Language.IT
