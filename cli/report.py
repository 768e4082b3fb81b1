"""``incontro report --month 2026-10``: the monthly report's figures as terminal tables.

Same numbers as the email and the XLSX (both read :func:`tasks.reports.tables.collect_kpis`); aggregated
counts and case codes only, so it is safe to paste into a ticket.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import OperationalError, ProgrammingError

from tasks.mail.formatting import format_month, format_number
from tasks.reports.kpis import Period, PeriodError
from tasks.reports.tables import TABLES, collect_kpis, labelled_rows


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return format_number(value, digits=1)
    if hasattr(value, "strftime"):
        return str(value.strftime("%d/%m/%Y"))
    return str(value)


def format_table(title: str, rows: Sequence[dict[str, Any]], headers: Sequence[str]) -> str:
    """A plain fixed-width table: numbers right-aligned, text left-aligned."""
    cells = [[_cell(row[h]) for h in headers] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[h], int | float) or row[h] == "—" for row in rows) for h in headers]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [title, "-" * len(title), line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells] or ["(nessun dato)"]
    return "\n".join(out)


def render_report(tables: dict[str, list[dict[str, Any]]], period: Period) -> str:
    """Every KPI table of ``period`` as text, in the order of :data:`tasks.reports.tables.TABLES`."""
    parts = [f"Incontro al lavoro – indicatori di {format_month(period.key)}", ""]
    for name, spec in TABLES.items():
        headers = [label for _key, label in spec.columns]
        parts += [format_table(spec.title, labelled_rows(name, tables[name]), headers), ""]
    parts.append("Inserimenti e conversione sono cumulati dall'avvio; tempi in giorni lavorativi.")
    return "\n".join(parts) + "\n"


def report(month: str) -> int:
    """Print the figures of ``month`` (``AAAA-MM``); 0 on success, 2 on a bad month, 1 when the
    database cannot be read."""
    from tasks.runtime.db import session_scope

    try:
        period = Period.month(month)
    except PeriodError as exc:
        sys.stderr.write(f"errore: {exc}\n")
        return 2
    try:
        with session_scope() as session:
            tables = collect_kpis(session, period)
    except (OperationalError, ProgrammingError) as exc:
        sys.stderr.write(
            "errore: database dell'applicazione non leggibile o non inizializzato "
            f"({type(exc.orig).__name__}); controllare INCONTRO_DATABASE_URL ed eseguire le migrazioni\n"
        )
        return 1
    sys.stdout.write(render_report(tables, period))
    return 0
