"""What every partner-file import shares: the opening (same bytes twice change nothing, an unknown
sender is a clear error, the file is read before anything is written, the record is created),
the row loop of small files (bad rows kept with every error, good rows applied one savepoint
each), the error report to the sender, and the import's progress: each step recorded with its
work, the next stage's events announced by the last step (docs/ARCHITECTURE.md#chaining)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError, ValidationInfo
from sqlmodel import Session, col, select

from models.clock import utcnow
from models.ops import ImportFile, ImportRow
from models.people import Organisation
from tasks.files.rows import safe_value
from tasks.files.tabular import FileRejected, Table, read_table
from tasks.mail.outbox import enqueue_email
from tasks.runtime.events import EventSpec

#: The first and the last step of every import; the referral adds its own in between.
INGEST, FINISH = "ingest", "finish"

T = TypeVar("T")


def file_sha256(path: Path) -> str:
    """Content hash of a partner file, read in blocks (big files stay out of memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def raw_for_report(raw: dict[str, Any]) -> dict[str, str | None]:
    """The rejected row as sent, so an operator can fix it without the original file."""
    return {k: None if v is None else str(v)[:200] for k, v in raw.items()}


def start_import(
    session: Session,
    path: Path,
    *,
    kind: str,
    sender_code: str,
    required: Sequence[str],
    record_kind: str | None = None,
) -> tuple[ImportFile, Table | None]:
    """The import record and the file's table; the table is ``None`` when these exact bytes were
    imported before — then the earlier record is returned and nothing is written (its
    ``finished_at`` says whether steps remain: :func:`finish_import`).

    ``kind`` names the column aliases (config/columns.yaml); ``record_kind`` the ImportFile kind
    when it differs."""
    sha = file_sha256(path)
    previous = session.exec(select(ImportFile).where(ImportFile.sha256 == sha)).first()
    if previous is not None:
        return previous, None
    if session.get(Organisation, sender_code) is None:
        raise FileRejected(f"{path.name}: mittente {sender_code[:40]} sconosciuto (codice ente in organisations.yaml)")
    table = read_table(path, kind, required=required)
    record = ImportFile(sha256=sha, kind=record_kind or kind, sender_code=sender_code, filename=path.name)
    record.notices = {"unused_columns": table.unused()}  # columns naming no field: listed, never dropped silently
    session.add(record)
    session.flush()
    assert record.id is not None
    return record, table


class RowRejected(ValueError):
    """A row that cannot be accepted: the field each error is about and why (Italian, for the
    sender). Raised by a row's check, or by its apply step before that writes anything."""

    def __init__(self, field: str, reason: str, *, more: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(reason)
        self.errors = [(field, reason), *more]

    @classmethod
    def from_validation(cls, exc: ValidationError, default_field: str) -> RowRejected:
        """Every error of a pydantic row model, each on its field."""
        pairs = [
            (str(e["loc"][0]) if e["loc"] else default_field, str(e["msg"]).removeprefix("Value error, "))
            for e in exc.errors()
        ]
        return cls(*pairs[0], more=pairs[1:])


def context_session(info: ValidationInfo) -> Session | None:
    """The session a row model was validated with (``context={"session": ...}``), so lookups
    (a known company, an accredited body) are field errors reported with all the others."""
    return (info.context or {}).get("session")


def import_rows(
    session: Session,
    imp: ImportFile,
    table: Table,
    check: Callable[[dict[str, Any]], T],
    apply: Callable[[int, T], str],
) -> Counter[str]:
    """The row loop every small partner file shares: ``check`` each row (every error of it at
    once, with stray cells), ``apply`` the good ones inside a savepoint, keep the bad ones with
    their errors, record the counts, and queue the error report to the sender.

    Returns what ``apply`` returned, counted, plus ``rejected``.
    """
    assert imp.id is not None
    labels = table.labels()
    counts: Counter[str] = Counter()
    bad: list[dict[str, Any]] = []
    for number, cells in table.rows:
        raw = table.record(cells)
        errors = table.problems(cells)
        try:
            value = check(raw)
        except RowRejected as exc:
            errors += [_report(labels, raw, f, reason) for f, reason in exc.errors]
        if not errors:
            try:
                with session.begin_nested():
                    counts[apply(number, value)] += 1
                continue
            except RowRejected as exc:
                errors = [_report(labels, raw, f, reason) for f, reason in exc.errors]
        session.add(ImportRow(import_file_id=imp.id, row_number=number, errors=errors, raw=raw_for_report(raw)))
        bad += [{"row": number, **e} for e in errors]
        counts["rejected"] += 1
    imp.rows_total, imp.rows_rejected = len(table.rows), counts["rejected"]
    imp.rows_accepted = imp.rows_total - imp.rows_rejected
    imp.status = "ingested"
    complete_step(session, imp, INGEST)
    report_rejected(session, imp, bad)
    return counts


def _report(labels: dict[str, str], raw: dict[str, Any], field: str, reason: str) -> dict[str, str]:
    return {"column": labels.get(field, field), "value": safe_value(raw.get(field)), "reason": reason}


def report_rejected(session: Session, imp: ImportFile, rows: list[dict[str, Any]]) -> bool:
    """Queue the error report of ``imp`` to its sender: every rejected row, column and reason.

    ``rows`` are ``{"row", "column", "value", "reason"}``; nothing is queued when empty or
    already queued (a rerun). Returns whether a message was queued.
    """
    sender = session.get(Organisation, imp.sender_code)
    if not rows or sender is None:
        return False
    queued = enqueue_email(
        session,
        key=f"import:{imp.id}:errors",
        kind="import_errors",
        recipient=sender.email,
        recipient_code=sender.code,
        context={
            "file_name": imp.filename,
            "rows_total": imp.rows_total,
            "rows": rows,
            # the referral acknowledgement lists them already
            "unused_columns": [] if imp.kind == "referral" else (imp.notices or {}).get("unused_columns", []),
        },
    )
    return queued is not None


def claim_step(session: Session, import_id: int, step: str) -> ImportFile | None:
    """The import, locked until this transaction ends, when ``step`` is still to do; ``None``
    when it was done (by an earlier, killed run, or by the sweep at the same moment).

    The lock (``FOR UPDATE`` on PostgreSQL, the write lock SQLite takes at ``BEGIN``) makes a
    rerun and the sweep take turns, so a step and its emails happen once."""
    imp = session.exec(select(ImportFile).where(ImportFile.id == import_id).with_for_update()).one()
    if imp.finished_at is not None or step in imp.completed_steps:
        return None
    return imp


def complete_step(session: Session, imp: ImportFile, step: str) -> None:
    """Record ``step`` as done, in the transaction of its work (a new list: JSON is saved whole)."""
    imp.completed_steps = [*imp.completed_steps, step]
    session.add(imp)


def defer_event(imp: ImportFile, spec: EventSpec) -> None:
    """Keep an event that starts the next stage on the import: :func:`finish_import` announces it,
    so a run killed after its commit cannot lose it."""
    entry = {"name": spec.name, "resource_id": spec.resource_id, "labels": spec.labels, "payload": spec.payload}
    imp.pending_events = [*imp.pending_events, entry]


def finish_import(session: Session, import_id: int) -> int:
    """The last step of every import: announce its deferred events (waiting until Prefect has
    them) and mark it finished. Returns how many events were announced (0 when done before)."""
    from tasks.runtime.steps import emit_confirmed

    imp = claim_step(session, import_id, FINISH)
    if imp is None:
        return 0
    announced = emit_confirmed([EventSpec(**entry) for entry in imp.pending_events])
    imp.pending_events, imp.finished_at = [], utcnow()
    complete_step(session, imp, FINISH)
    return announced


def finish_file(session: Session, path: Path) -> int:
    """:func:`finish_import` for the import of ``path`` (the stages whose ingest returns counts)."""
    imp = session.exec(select(ImportFile).where(ImportFile.sha256 == file_sha256(path))).first()
    return 0 if imp is None or imp.id is None else finish_import(session, imp.id)


def unfinished_imports(session: Session) -> list[tuple[int, str]]:
    """``(id, kind)`` of the imports a stopped run left halfway, oldest first (for the sweep)."""
    rows = session.exec(
        select(ImportFile.id, ImportFile.kind).where(col(ImportFile.finished_at).is_(None)).order_by(col(ImportFile.id))
    ).all()
    return [(i, kind) for i, kind in rows if i is not None]
