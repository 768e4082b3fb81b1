"""``incontro check-file``: what the import would make of a partner file, writing nothing.

The file goes through the real import (``ingest_referral_file`` / ``ingest_vacancy_file``) on a
throw-away migrated SQLite database in a temporary folder, so a partner or an operator sees the
same verdict the import would give, and the installation's database is never touched. Output
lists rows by number with column and reason; ``--json`` prints the shape documented in the
README for partners who test a file before sending it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

KINDS = {"referral": "segnalazioni", "vacancy": "posizioni aperte"}
#: The vacancy import's required columns (the referral's are tasks.referral.ingest.REFERRAL_REQUIRED).
REQUIRED = {"vacancy": ("company", "title")}


def register(sub: Any) -> None:
    p = sub.add_parser("check-file", help="controlla un file senza importarlo / check a file, importing nothing")
    p.add_argument("file", help="il file del partner (CSV, XLSX, JSON)")
    p.add_argument("--kind", choices=sorted(KINDS), required=True, help="referral | vacancy")
    p.add_argument("--sender", required=True, help="codice dell'ente mittente, es. CARITAS-BG")
    p.add_argument("--json", action="store_true", help="risultato in JSON")
    p.set_defaults(fn=cmd_check_file)


def cmd_check_file(args: argparse.Namespace) -> int:
    """Print the verdict; exit 0 when the file can be imported (even with rejected rows)."""
    path = Path(args.file)
    if not path.is_file():
        sys.stderr.write(f"errore: file {args.file} non trovato\n")
        return 2
    result = check_file(path, args.kind, args.sender)
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(_text(path.name, args.kind, result))
    return 0 if result["file_error"] is None else 1


def check_file(path: Path, kind: str, sender: str) -> dict[str, Any]:
    """``{"file_error", "accepted", "rejected", "warnings", "rows": [{row, status, errors, warnings}]}``."""
    import os

    from config.settings import get_settings
    from tasks.runtime.db import get_engine

    saved = {k: os.environ.get(k) for k in ("INCONTRO_VAR_DIR", "INCONTRO_DATABASE_URL")}
    with tempfile.TemporaryDirectory(prefix="incontro-check-") as tmp:
        os.environ["INCONTRO_VAR_DIR"] = tmp
        os.environ.pop("INCONTRO_DATABASE_URL", None)
        get_settings.cache_clear()
        get_engine.cache_clear()
        try:
            return _check(path, kind, sender)
        finally:
            get_engine().dispose()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            get_settings.cache_clear()
            get_engine.cache_clear()


def _check(path: Path, kind: str, sender: str) -> dict[str, Any]:
    from sqlmodel import Session, col, select

    from models.ops import ImportRow
    from tasks.core.partners import sync_organisations
    from tasks.files.tabular import FileRejected, open_table
    from tasks.runtime.db import get_engine, migrate

    migrate()
    result: dict[str, Any] = {"file_error": None, "accepted": 0, "rejected": 0, "warnings": [], "rows": []}
    with Session(get_engine()) as session:
        sync_organisations(session)
        session.commit()
        try:
            import_id, warnings, row_warnings = _ingest(session, path, kind, sender)
            with open_table(path, kind, required=_required(kind)) as (_layout, rows):
                numbers = [number for number, _ in rows]
        except FileRejected as exc:
            result["file_error"] = str(exc)
            return result
        bad = {
            r.row_number: r.errors
            for r in session.exec(
                select(ImportRow).where(ImportRow.import_file_id == import_id).order_by(col(ImportRow.row_number))
            )
        }
        session.rollback()
    result["warnings"] = warnings
    for number in numbers:
        errors = [{"column": e.get("column", ""), "reason": e.get("reason", "")} for e in bad.get(number, [])]
        row: dict[str, Any] = {"row": number, "status": "rejected" if errors else "accepted", "errors": errors}
        row["warnings"] = [f"{w.get('column', '')}: {w.get('reason', '')}" for w in row_warnings.get(number, [])]
        result["rows"].append(row)
    result["rejected"] = sum(1 for r in result["rows"] if r["status"] == "rejected")
    result["accepted"] = len(result["rows"]) - result["rejected"]
    return result


def _ingest(session: Any, path: Path, kind: str, sender: str) -> tuple[int, list[str], dict[int, list[dict[str, str]]]]:
    """The import's own first step; returns its id, file warnings and row warnings by row."""
    from tasks.files.tabular import FileRejected

    warnings: list[str] = []
    by_row: dict[int, list[dict[str, str]]] = {}
    if kind == "referral":
        from tasks.referral.ingest import file_warning_label, ingest_referral_file

        summary = ingest_referral_file(session, path, sender)
        session.flush()
        warnings = [file_warning_label(w) for w in summary.warnings]
        if summary.unused_columns:
            warnings.append("colonne non usate: " + ", ".join(summary.unused_columns))
        for w in summary.row_warnings:
            by_row.setdefault(int(w["row"]), []).append(w)
        return summary.import_id, warnings, by_row
    from tasks.vacancies import ingest_vacancy_file

    import_id, _counts = ingest_vacancy_file(session, path, sender)
    if import_id is None:
        raise FileRejected(f"{path.name}: file non importabile")
    session.flush()
    return import_id, warnings, by_row


def _required(kind: str) -> tuple[str, ...]:
    """The columns the import itself requires (a referral file needs no comune column)."""
    if kind == "referral":
        from tasks.referral.ingest import REFERRAL_REQUIRED

        return REFERRAL_REQUIRED
    return REQUIRED[kind]


def _text(name: str, kind: str, result: dict[str, Any]) -> str:
    if result["file_error"]:
        return f"{name}: FILE RIFIUTATO – {result['file_error']}\n"
    lines = [f"{name} ({KINDS[kind]}): {result['accepted']} righe accettate, {result['rejected']} rifiutate"]
    lines += [f"  avviso: {w}" for w in result["warnings"]]
    for row in result["rows"]:
        if row["status"] == "rejected":
            reasons = "; ".join(f"{e['column']}: {e['reason']}" for e in row["errors"])
            lines.append(f"  riga {row['row']}: rifiutata – {reasons}")
        for w in row["warnings"]:
            lines.append(f"  riga {row['row']}: accettata con avviso – {w}")
    return "\n".join(lines) + "\n"
