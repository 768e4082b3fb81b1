"""Spreadsheets we send out (Confindustria profile batches), safe to open in Excel/LibreOffice."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

# openpyxl is imported by the functions that build a workbook: no flow run needs it at start.

# Leading characters that make a spreadsheet treat text as a formula (or DDE payload), with the
# full-width forms some spreadsheets accept too.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
#: What a reader may strip before deciding (CSV importers trim spaces; invisible marks).
_LEADING_BLANKS = " \u00a0\u2007\u202f\u200b\u200c\u200d\u2060\ufeff"
#: A call of a function that reaches outside the sheet, anywhere in the text, or DDE (cmd|'…'!A0).
_FORMULA_CALL = re.compile(
    r"(?i)\b(?:hyperlink|image|import(?:xml|html|data|feed|range)|webservice|filterxml|encodeurl"
    r"|call|register(?:\.id)?|exec|ddeauto|dde|indirect|cmd)\s*\("
    r"|\b[a-z][\w.]*\s*\|\s*'[^']*'\s*!"
)
MAX_WIDTH = 60
MIN_WIDTH = 8

# Italian column headers for the profile fields we know; unknown keys keep their own name.
PROFILE_HEADERS: dict[str, str] = {
    "profile_code": "Codice profilo",
    "occupations": "Professioni",
    "skills": "Competenze e lingue",
    "italian": "Italiano (QCER)",
    "licence": "Patente",
    "education": "Titolo di studio",
    "availability": "Disponibilità",
    "area": "Zona",
}

_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
#: Control characters XLSX (XML 1.0) cannot store: openpyxl's ``ILLEGAL_CHARACTERS_RE``, kept here
#: so that cleaning a cell does not import openpyxl (tests/unit/test_lazy_imports.py compares them).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

CellValue = str | int | float | Decimal | bool | date | datetime | None


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text``: it starts (after blanks a reader may trim) with
    ``= + - @``, tab or a line break, or it calls a function that reaches outside the sheet
    (``HYPERLINK(``, ``WEBSERVICE(``…) or DDE. The one rule: names that look so are refused
    (tasks/files/rows.py), every other text is neutralised on the way out (:func:`neutralise`)."""
    return text.lstrip(_LEADING_BLANKS).startswith(FORMULA_TRIGGERS) or bool(_FORMULA_CALL.search(text))


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a leading apostrophe when it looks like
    a formula (OWASP CSV injection advice). Every export uses it: XLSX cells (:func:`safe_cell`),
    the values quoted back to senders (tasks/files/tabular.py: ``safe_value``)."""
    return "'" + text if looks_like_formula(text) else text


def safe_cell(value: Any) -> CellValue:
    """A value that a spreadsheet will show as data, never run as a formula.

    Text goes through :func:`neutralise` after the control characters that XLSX cannot store are
    dropped (so that no dropped character uncovers a formula); lists are joined, enums become
    their value.
    """
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    if isinstance(value, Enum):
        value = value.value
        if not isinstance(value, str):
            return safe_cell(value)
    if isinstance(value, list | tuple | set | frozenset):
        value = ", ".join(str(getattr(v, "value", v)) for v in value)
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``."""
    clean = " ".join(_SHEET_TITLE_BAD.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", title)).split()).strip("'")
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
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

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
