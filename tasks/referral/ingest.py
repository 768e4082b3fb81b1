"""Referral stage steps: ingest a partner file, deduplicate, accept, acknowledge.

Each function works on one import inside the caller's transaction and returns counts and case
codes only, so nothing identifying reaches Prefect. Each records itself on the import in that
transaction and does nothing when recorded already, so a rerun of the file or the maintenance
sweep finishes an import a killed run left halfway, every step once (docs/ARCHITECTURE.md#chaining).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from config.data import load_routing
from config.settings import get_settings
from models import clock
from models.cases import Case
from models.enums import ConsentPurpose, State
from models.ops import DedupReview, ImportFile
from models.people import Organisation, Person, Referral
from models.state_machine import TERMINAL
from tasks.core.consent import CONSENT_TO_COLLECT, consenting_persons
from tasks.core.next_steps import set_step
from tasks.core.people import municipalities_of
from tasks.core.routing import ASSIGN_OFFICE
from tasks.core.transitions import transition_many
from tasks.files.imports import (
    INGEST,
    claim_step,
    complete_step,
    defer_event,
    file_sha256,
    raw_for_report,
)
from tasks.files.places import resolve_municipality
from tasks.files.rows import ReferralRecord, ReferralRow, read_row, row_warnings
from tasks.files.tabular import FileRejected, open_table
from tasks.matching.dedup import DedupThresholds, PersonRecord, find_duplicates
from tasks.referral.acknowledgement import acknowledge
from tasks.referral.merge import merge_cases
from tasks.referral.missing_consent import (
    CONSENT_COLUMNS_MISSING,
    consent_to_collect,
    file_warnings,
    mark_consent_to_collect,
)
from tasks.referral.store import ACTOR, store_chunk, store_rejected
from tasks.runtime.db import in_chunks
from tasks.runtime.event_names import DEDUP_PENDING, REFERRAL_ACCEPTED
from tasks.runtime.events import EventSpec
from tasks.runtime.progress import Progress

#: The steps after the ingest, in order; ``flows/referral.py`` runs them, then ``finish``.
DEDUPLICATE, ACCEPT, ACKNOWLEDGE = "deduplicate", "accept", "acknowledge"


@dataclass
class IngestSummary:
    """What an import did, in counts and case codes (safe to return to Prefect)."""

    import_id: int
    already_imported: bool = False
    finished: bool = False
    accepted_rows: int = 0
    rejected_rows: int = 0
    case_codes: list[str] = field(default_factory=list)
    #: columns whose data was not imported (headers as the partner wrote them, no cell values)
    unused_columns: list[str] = field(default_factory=list)
    #: file-level warnings, as codes ("consent_columns_missing")
    warnings: list[str] = field(default_factory=list)
    #: what accepted rows lost, {row, column, reason} (a phone that was no phone; no cell values),
    #: the first MAX_ROW_WARNINGS of them
    row_warnings: list[dict[str, Any]] = field(default_factory=list)


#: Row warnings kept on the import for the acknowledgement (a file of 100k rows is not mailed whole).
MAX_ROW_WARNINGS = 500


#: The columns without which a referral file is refused. Not the comune: a file without that
#: column is imported, its cases wait for the coordinators to assign a CPI (offices.py).
REFERRAL_REQUIRED = ("family_name", "given_names")
#: The warning code of a referral file without a comune column (``import_file.notices``).
MUNICIPALITY_COLUMN_MISSING = "municipality_column_missing"
#: What each file-level warning tells the sender (acknowledgement, ``incontro check-file``).
FILE_WARNING_LABELS = {
    CONSENT_COLUMNS_MISSING: "nel file mancano le colonne del consenso: i consensi saranno raccolti al colloquio",
    MUNICIPALITY_COLUMN_MISSING: "nel file manca la colonna del comune di residenza: le segnalazioni sono "
    "accettate e il Centro per l'Impiego competente lo assegna il coordinamento",
}


def file_warning_label(code: str) -> str:
    """The Italian sentence for a file-level warning code (never the code itself)."""
    return FILE_WARNING_LABELS.get(code, "avviso sul file: rivolgersi al coordinamento")


def ingest_referral_file(
    session: Session, path: Path, referrer_code: str, *, flow_run_id: str | None = None
) -> IngestSummary:
    """Store every valid row as person + referral + REFERRED case; every bad row with its errors.

    A file already imported (same bytes) changes nothing: the summary says whether its import
    finished or steps remain (a killed run), with the counts recorded. A file that cannot be read at all raises
    :class:`FileRejected` before anything is written: a first pass reads the whole file (rows
    only, no validation) so that a damaged tail cannot fail halfway through the writes.

    Big files stream: rows are validated one by one and written in chunks of
    ``settings.chunk_size`` (one flush each), all inside the caller's single transaction. A crash
    therefore leaves nothing behind, and the import is either absent or complete; the price is
    that the transaction (and, on SQLite, the write lock) lasts as long as the import.
    """
    if session.get(Organisation, referrer_code) is None:
        raise FileRejected(f"{path.name}: ente segnalante «{referrer_code}» sconosciuto")
    sha = file_sha256(path)
    previous = session.exec(select(ImportFile).where(ImportFile.sha256 == sha)).first()
    if previous is not None:
        assert previous.id is not None
        return IngestSummary(
            import_id=previous.id,
            already_imported=True,
            finished=previous.finished_at is not None,
            accepted_rows=previous.rows_accepted,
            rejected_rows=previous.rows_rejected,
            unused_columns=list((previous.notices or {}).get("unused_columns", [])),
            warnings=list((previous.notices or {}).get("warnings", [])),
            row_warnings=list((previous.notices or {}).get("row_warnings", [])),
        )
    total = count_rows(path, "referral", REFERRAL_REQUIRED)
    if total >= FREEZE_ROWS:
        _freeze_long_lived()
    imp = ImportFile(sha256=sha, kind="referral", sender_code=referrer_code, filename=path.name)
    session.add(imp)
    session.flush()
    assert imp.id is not None
    summary = IngestSummary(import_id=imp.id)
    chunk_size = max(1, get_settings().chunk_size)
    prefix = f"{get_settings().province_code}-{clock.today().year}"
    good: list[tuple[int, ReferralRecord]] = []
    rejected: list[dict[str, Any]] = []
    seen = warned = 0
    progress = Progress("referral", total, "Righe del file importate")
    with open_table(path, "referral", required=REFERRAL_REQUIRED) as (layout, rows):
        labels = layout.labels()
        summary.unused_columns = layout.unused(ReferralRow.model_fields)
        named = set(layout.mapping.values())
        summary.warnings = file_warnings(named) + ([] if "municipality" in named else [MUNICIPALITY_COLUMN_MISSING])
        imp.notices = {"unused_columns": summary.unused_columns, "warnings": summary.warnings}
        for number, cells in progress.track(rows):
            seen += 1
            raw = layout.record(cells)
            row, errors = _check_row(raw, layout.problems(cells), labels)
            if row is None:
                rejected.append({"row_number": number, "errors": errors, "raw": raw_for_report(raw)})
                summary.rejected_rows += 1
            else:
                good.append((number, row))
                lost = [{"row": number, **w} for w in row_warnings(row, labels)]
                warned += len(lost)
                summary.row_warnings += lost[: MAX_ROW_WARNINGS - len(summary.row_warnings)]
            if len(good) >= chunk_size or seen % chunk_size == 0:
                summary.case_codes += store_chunk(session, good, prefix, referrer_code, imp.id, flow_run_id)
                store_rejected(session, rejected, imp.id)
                good.clear()
        summary.case_codes += store_chunk(session, good, prefix, referrer_code, imp.id, flow_run_id)
        store_rejected(session, rejected, imp.id)
    if seen != total:  # the file changed between the two passes
        raise FileRejected(f"{path.name}: il file è cambiato durante l'importazione; inviarlo di nuovo")
    progress.finish()
    summary.accepted_rows = len(summary.case_codes)
    imp.rows_total, imp.rows_accepted, imp.rows_rejected = seen, summary.accepted_rows, summary.rejected_rows
    imp.notices = {**imp.notices, "row_warnings": summary.row_warnings, "row_warnings_total": warned}
    imp.status = "ingested"
    complete_step(session, imp, INGEST)
    return summary


#: From this many rows an import first sets the process's long-lived objects apart from the
#: garbage collector (:func:`_freeze_long_lived`).
FREEZE_ROWS = 5_000


def _freeze_long_lived() -> None:
    """Collect once, then freeze what is alive (modules, models, caches): every full collection
    during a big import would walk those hundreds of thousands of objects again (5-8 % of the
    CPU time of 100k rows). As ``flows/__init__.py`` does after Prefect's imports, extended to
    what the stage loaded since. Frozen objects are still freed when no longer referenced (only
    a cycle among them waits for the process to end); objects created from here on, the rows of
    each chunk included, are collected as usual."""
    gc.collect()
    gc.freeze()


def count_rows(path: Path, kind: str, required: Sequence[str]) -> int:
    """Read the whole file once without keeping it: any whole-file failure surfaces here."""
    with open_table(path, kind, required=required) as (_layout, rows):
        return sum(1 for _ in rows)


def _check_row(
    raw: dict[str, Any], problems: list[dict[str, str]], labels: dict[str, str]
) -> tuple[ReferralRecord | None, list[dict[str, str]]]:
    """The validated row, or every error of it at once (structure, fields). The municipality
    never refuses a row: a comune that names no CPI waits for the coordinators (accept_cases)."""
    row, errors = read_row(raw, labels)
    errors = problems + errors
    return (row if not errors else None), errors


#: What the duplicate search reads of a person, read as columns: a 100k import and the open cases
#: are hundreds of thousands of people, too many to load as ORM objects for seven fields.
_RECORD_COLUMNS = (
    col(Person.key),
    col(Person.family_name),
    col(Person.given_names),
    col(Person.birth_date),
    col(Person.codice_fiscale),
    col(Person.phone),
    col(Person.email),
    col(Person.municipality),
)


def _record(row: Sequence[Any]) -> PersonRecord:
    """The search's record of a row that starts with :data:`_RECORD_COLUMNS`."""
    key, family_name, given_names, birth_date, codice_fiscale, phone, email, municipality = row[:8]
    return PersonRecord(
        key=key,
        family_name=family_name,
        given_names=given_names,
        birth_date=birth_date,
        codice_fiscale=codice_fiscale,
        phone=phone,
        email=email,
        municipality=municipality,
    )


@dataclass
class DedupSummary:
    merged: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)


def deduplicate_import(session: Session, import_id: int, *, flow_run_id: str | None = None) -> DedupSummary:
    """Merge referrals of people already known (open cases) and queue grey-band pairs for review
    (the review form starts when the import finishes). Once per import: empty when done before."""
    imp = claim_step(session, import_id, DEDUPLICATE)
    if imp is None:
        return DedupSummary()
    summary = _deduplicate(session, import_id, flow_run_id)
    if summary.review:
        defer_event(
            imp,
            EventSpec(
                name=DEDUP_PENDING,
                resource_id=f"incontro.import.{import_id}",
                payload={"reviews": len(summary.review)},
            ),
        )
    complete_step(session, imp, DEDUPLICATE)
    return summary


def _deduplicate(session: Session, import_id: int, flow_run_id: str | None) -> DedupSummary:
    # A case already queued for review stays out (an import stopped before 0006 recorded steps).
    reviewed = select(DedupReview.case_id).where(
        col(DedupReview.case_id).in_(select(Referral.case_id).where(Referral.import_file_id == import_id))
    )
    queued = set(session.exec(reviewed).all())
    referred = (
        select(Case.id, Case.person_key)
        .join(Referral, col(Referral.case_id) == col(Case.id))
        .where(Referral.import_file_id == import_id, Case.state == State.REFERRED)
        .distinct()
    )
    # (case id, person key) of each new case, in the order of the cases
    new_cases = sorted((i, key) for i, key in session.exec(referred).all() if i is not None and i not in queued)
    if not new_cases:
        return DedupSummary()
    # The import's people as a subquery, not a list of keys: a 100k-row file would exceed the
    # driver's limit of 65,535 bound parameters.
    new_keys = select(Referral.person_key).where(Referral.import_file_id == import_id).scalar_subquery()
    open_states = [s for s in State if s not in TERMINAL and s is not State.REFERRED] + [State.REFERRED]
    existing_rows = session.execute(
        sql_select(*_RECORD_COLUMNS, col(Case.id))
        .join(Case, col(Case.person_key) == col(Person.key))
        .where(col(Case.state).in_(open_states), col(Person.key).not_in(new_keys))
    ).all()
    existing_case: dict[str, int] = {row[0]: row[-1] for row in existing_rows}
    people = {row[0]: row for row in session.execute(sql_select(*_RECORD_COLUMNS).where(col(Person.key).in_(new_keys)))}
    by_key = {key: case_id for case_id, key in new_cases}
    rules = load_routing().dedup
    decisions = find_duplicates(
        [_record(people[key]) for _, key in new_cases],
        [_record(row) for row in existing_rows],
        DedupThresholds(merge=rules.merge_threshold, review=rules.review_threshold),
    )
    del people, existing_rows
    links: list[tuple[int, int, str, float, str]] = []  # (case, target, band, score, reason)
    for d in decisions:
        if d.match_key is None or d.band == "new":
            continue
        case_id = by_key[d.new_key]
        target_id = existing_case.get(d.match_key) or by_key.get(d.match_key)
        if target_id is None or target_id == case_id:
            continue
        links.append((case_id, target_id, d.band, d.score, d.reason))
    # Only the cases a merge or a review touches are loaded whole.
    cases = _cases(session, {i for case_id, target_id, *_ in links for i in (case_id, target_id)})
    summary = DedupSummary()
    merges: list[tuple[Case, Case, str]] = []
    for case_id, target_id, band, score, reason in links:
        if band == "merge":
            merges.append((cases[case_id], cases[target_id], reason))
            summary.merged.append(cases[case_id].code)
        else:
            session.add(DedupReview(case_id=case_id, candidate_case_id=target_id, score=score))
            summary.review.append(cases[case_id].code)
    merge_cases(session, merges, flow_run_id)
    return summary


def _cases(session: Session, ids: set[int]) -> dict[int, Case]:
    """The cases of ``ids`` by id, one query per 1,000."""
    found: dict[int, Case] = {}
    for chunk in in_chunks(sorted(ids)):
        found.update((c.id, c) for c in session.exec(select(Case).where(col(Case.id).in_(chunk))).all() if c.id)
    return found


def _import_cases(session: Session, import_id: int, state: State) -> list[Case]:
    return list(
        session.exec(
            select(Case)
            .join(Referral, col(Referral.case_id) == col(Case.id))
            .where(Referral.import_file_id == import_id, Case.state == state)
            .distinct()
        ).all()
    )


def accept_case(session: Session, case: Case, *, flow_run_id: str | None = None) -> State:
    """Accept one referred case at the CPI of its municipality (see :func:`accept_cases`)."""
    return accept_cases(session, [case], flow_run_id=flow_run_id)[case.code]


def accept_cases(
    session: Session, cases: list[Case], *, flow_run_id: str | None = None, actor: str = ACTOR
) -> dict[str, State]:
    """Accept each case at the CPI of its municipality, or reject it (typed reason), or leave it
    REFERRED waiting for the coordinators when the comune names no CPI (returned as REFERRED): the
    municipalities and the consents of the whole batch in two queries, one bulk move per outcome."""
    towns = municipalities_of(session, cases)
    consenting = consenting_persons(session, (c.person_key for c in cases), ConsentPurpose.CPI_PROCESSING)
    # a file without consent columns: the consent is collected at the CPI (missing_consent.py)
    to_collect = consent_to_collect(session, [c for c in cases if c.person_key not in consenting])
    moves: dict[State, list[tuple[Case, str | None]]] = defaultdict(list)
    waiting: list[tuple[Case, str]] = []
    for case in cases:
        # An office a coordinator assigned wins; else the comune's (tasks/files/places.py).
        resolution = resolve_municipality(towns.get(case.person_key))
        office = case.office_code or resolution.office_code
        if case.person_key not in consenting and case.id not in to_collect:
            moves[State.REJECTED].append((case, "no_consent"))
        elif office is None:
            waiting.append((case, resolution.how))
        else:
            case.office_code = office
            session.add(case)
            moves[State.ACCEPTED].append((case, f"office:{office}"))
    for target, group in moves.items():
        transition_many(session, group, target, actor=actor, flow_run_id=flow_run_id)
    _wait_for_office(session, waiting)
    mark_consent_to_collect(session, [c for c, _ in moves[State.ACCEPTED] if c.id in to_collect])
    outcome = {case.code: target for target, group in moves.items() for case, _ in group}
    return outcome | {case.code: State.REFERRED for case, _ in waiting}


def _wait_for_office(session: Session, waiting: list[tuple[Case, str]]) -> None:
    """Cases whose comune names no CPI stay REFERRED, with the coordinators' next step, its due date
    and the reason as a code (no personal data): never rejected for it (docs/ARCHITECTURE.md#data)."""
    today = clock.today()
    for case, reason in waiting:
        set_step(case, ASSIGN_OFFICE, today=today, reason=reason)
        session.add(case)


def accept_import(session: Session, import_id: int, *, flow_run_id: str | None = None) -> dict[str, int]:
    """Assign each new case the CPI office of its municipality and accept it (or reject it); the
    intake starts when the import finishes. Once per import: empty when done before."""
    imp = claim_step(session, import_id, ACCEPT)
    if imp is None:
        return {}
    pending_review = set(session.exec(select(DedupReview.case_id).where(col(DedupReview.decision).is_(None))).all())
    counts: dict[str, int] = defaultdict(int)
    ready = []
    for case in _import_cases(session, import_id, State.REFERRED):
        if case.id in pending_review:
            counts["review"] += 1
        else:
            ready.append(case)
    for target in accept_cases(session, ready, flow_run_id=flow_run_id).values():
        counts["waiting_office" if target is State.REFERRED else target.value] += 1
    if to_collect := sum(1 for c in ready if c.next_step_reason == CONSENT_TO_COLLECT):
        counts["consent_to_collect"] = to_collect  # accepted, the consent to be recorded at the intake
    if counts["accepted"]:
        defer_event(
            imp,
            EventSpec(
                name=REFERRAL_ACCEPTED,
                resource_id=f"incontro.import.{import_id}",
                payload={"accepted": counts["accepted"]},
            ),
        )
    complete_step(session, imp, ACCEPT)
    return dict(counts)


def acknowledge_import(session: Session, import_id: int) -> int:
    """Queue the acknowledgement (and the error report, if any) to the sending partner
    (tasks/referral/acknowledgement.py). Once per import (the outbox keys guard the emails too):
    0 when done before."""
    imp = claim_step(session, import_id, ACKNOWLEDGE)
    if imp is None:
        return 0
    queued = acknowledge(session, imp)
    imp.status = "acknowledged"
    complete_step(session, imp, ACKNOWLEDGE)
    return queued
