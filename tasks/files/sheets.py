"""Spreadsheets we send out (Confindustria profile batches), safe to open in Excel/LibreOffice."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

# Leading characters that make a spreadsheet treat text as a formula (or DDE payload).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH = 60
MIN_WIDTH = 8

# Italian column headers for the profile fields we know; unknown keys keep their own name.
PROFILE_HEADERS: dict[str, str] = {
    "profile_code": "Codice profilo",
    "occupations": "Professioni",
    "italian": "Italiano (QCER)",
    "licence": "Patente",
    "education": "Titolo di studio",
    "availability": "Disponibilità",
    "area": "Zona",
}

_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")

CellValue = str | int | float | Decimal | bool | date | datetime | None


def safe_cell(value: Any) -> CellValue:
    """A value that a spreadsheet will show as data, never run as a formula.

    Text starting with ``= + - @``, tab or CR gets a leading apostrophe (OWASP CSV/formula
    injection advice); lists are joined, enums become their value, control characters that
    XLSX cannot store are dropped.
    """
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    if isinstance(value, Enum):
        value = value.value
        if not isinstance(value, str):
            return safe_cell(value)
    if isinstance(value, list | tuple | set | frozenset):
        value = ", ".join(str(getattr(v, "value", v)) for v in value)
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``."""
    clean = " ".join(_SHEET_TITLE_BAD.sub(" ", title).split()).strip("'")
    return clean[:31].strip() or "Foglio1"


def _columns(rows: Sequence[dict[str, Any]], columns: Iterable[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _width(value: CellValue) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def profiles_xlsx(
    rows: list[dict[str, Any]],
    *,
    title: str,
    columns: Sequence[str] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """An XLSX of pseudonymous profiles: bold frozen header, sized columns, inert cells."""
    keys = _columns(rows, columns)
    labels = {**PROFILE_HEADERS, **(headers or {})}
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(title)
    wb.properties.title = str(safe_cell(title) or "")
    wb.properties.creator = "Incontro al lavoro"

    header_values = [safe_cell(labels.get(key, key)) for key in keys]
    ws.append(header_values)
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    widths = [_width(v) for v in header_values]

    for row in rows:
        values = [safe_cell(row.get(key)) for key in keys]
        ws.append(values)
        widths = [max(w, _width(v)) for w, v in zip(widths, values, strict=True)]

    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    ws.freeze_panes = "A2"
    if keys:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{max(1, len(rows) + 1)}"

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
