"""Readers for partner spreadsheets: CSV as Italian Excel writes it, XLSX, JSON.

They yield raw cells with 1-based row numbers as the partner sees them (the row Excel shows);
validation is elsewhere. Rules, each tested in ``tests/unit/test_imports.py``:

* CSV: separator ``;``, ``,`` or tab, chosen by which one makes the known headers appear;
  UTF-8 (with or without BOM) and UTF-16 with BOM; a line that is not valid UTF-8 is read as
  Windows-1252 (latin-1 for the five bytes cp1252 leaves undefined), line by line, so a
  cp1252 file keeps its accents ("Nicolò") and a concatenated mixed file is read right too.
  Quotes are parsed strictly: an unclosed quote is an error, never rows silently swallowed.
* XLSX: the named sheet, or the first sheet whose header row has the required columns; the
  header row is found under title rows, and a second header row under merged group cells
  ("Recapiti" over "Telefono" | "E-mail") is merged into it.
* JSON: a list of objects (or an object holding one such list).
* Headers (:mod:`tasks.files.headers`): variants, typos and other languages of the aliases in
  ``config/columns.yaml``; the header is the row among the first 30 that names the most fields
  (a file whose header lacks a required column is told which one, and on which row). Two
  columns for one field are both kept: the first non-empty one is the field, the other its
  ``<field>_secondary`` ("Telefono" twice: mobile and family landline); the same header twice
  makes the second column the secondary. Columns that name no field are listed
  (:meth:`Layout.unused`), never dropped silently. Empty rows (trailing ones included) and
  header lines repeated inside the data (lists pasted together) are skipped.
* Every failure of the file as a whole is a :class:`FileRejected` with an Italian message that
  names the file, the row and the reason, never a cell value (messages may reach Prefect).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from models import clock
from tasks.files.headers import (
    SECONDARY,
    fold_header,
    header_words,
    is_hint_row,
    map_cells,
    match_header,
    missing_columns_message,
)
from tasks.files.sheets import neutralise

HEADER_SCAN_ROWS = 30  # the header must be within the first rows (title blocks are short)
MIN_HEADER_FIELDS = 2  # a row naming fewer fields is no header (a title line that says "Comune")
HEAD_LINES = 400  # CSV lines looked at to choose the separator
DELIMITERS = (";", ",", "\t")
MAX_JSON_BYTES = 50 * 1024 * 1024
_BOM_UTF8 = b"\xef\xbb\xbf"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"

Row = tuple[int, list[Any]]


class FileRejected(ValueError):
    """The whole file cannot be read; the message says which file and why (in Italian)."""


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index (0 → A, 26 → AA): what partners see."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def safe_value(value: Any) -> str:
    """A cell shown back to its sender: trimmed, control characters replaced, at most 60 chars,
    and inert in a spreadsheet (the error report is pasted into one: ``neutralise``)."""
    text = "" if value is None else str(value)
    return neutralise("".join(c if c.isprintable() else "?" for c in text[:60]))


def _is_empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


@dataclass(frozen=True)
class Layout:
    """A header row mapped to canonical fields (several columns may feed one field)."""

    mapping: dict[int, str]  # column index -> canonical field, in column order
    headers: list[str]  # header cells as the partner wrote them
    unknown_headers: list[str]  # headers that name no field, as written
    header_row: int  # 1-based row of the (last) header line; 0 for JSON
    #: column index -> ``<field>_secondary``: a header repeated for one field ("Telefono" twice)
    secondary: dict[int, str] = field(default_factory=dict, kw_only=True)

    @cached_property
    def _groups(self) -> tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]:
        """(field, its columns, its repeated-header columns), in column order."""
        primary: dict[str, list[int]] = {}
        for col, name in self.mapping.items():
            primary.setdefault(name, []).append(col)
        repeated: dict[str, list[int]] = {}
        for col, name in sorted(self.secondary.items()):
            repeated.setdefault(name.removesuffix(SECONDARY), []).append(col)
        return tuple((name, tuple(cols), tuple(repeated.get(name, ()))) for name, cols in primary.items())

    def column_label(self, col: int) -> str:
        """A column as its sender knows it: the header, with the letter when the header repeats."""
        header = self.headers[col] if col < len(self.headers) else ""
        if not header:
            return f"colonna {column_letter(col)}"
        key = fold_header(header)
        if sum(1 for h in self.headers if h and fold_header(h) == key) > 1:
            return f"{header} (colonna {column_letter(col)})"
        return header

    def labels(self) -> dict[str, str]:
        """field -> its column header(s) as written, for error reports (``Telefono / Cellulare``)."""
        out: dict[str, str] = {}
        for name, cols, repeated in self._groups:
            out[name] = " / ".join(self.column_label(c) for c in cols)
            if len(cols) > 1 or repeated:
                out[name + SECONDARY] = " / ".join(self.column_label(c) for c in (*cols[1:], *repeated))
        return out

    def record(self, cells: Sequence[Any]) -> dict[str, Any]:
        """One row as {canonical field: cell}. With two columns for a field the first non-empty
        one is the field and the next non-empty one ``<field>_secondary``; a repeated header's
        column is always the secondary (the first "Telefono" is the phone)."""
        out: dict[str, Any] = {}
        width = len(cells)
        for name, cols, repeated in self._groups:
            if len(cols) == 1 and not repeated:
                out[name] = cells[cols[0]] if cols[0] < width else None
                continue
            values = [cells[c] if c < width else None for c in cols]
            first = next((i for i, v in enumerate(values) if not _is_empty(v)), 0)
            out[name] = values[first]
            rest = [v for i, v in enumerate(values) if i != first] + [cells[c] for c in repeated if c < width]
            rest = [v for v in rest if not _is_empty(v)]
            out[name + SECONDARY] = rest[0] if len(rest) == 1 else " / ".join(str(v) for v in rest) or None
        return out

    def unused(self, fields: Collection[str] | None = None) -> list[str]:
        """The columns whose data the import does not take: headers that name no field, and
        (given the ``fields`` the import uses) those naming a field it does not use."""
        out = []
        for col, header in enumerate(self.headers):
            name = self.mapping.get(col) or self.secondary.get(col)
            if header and (name is None or (fields is not None and name not in fields)):
                out.append(self.column_label(col))
        return out

    def problems(self, cells: Sequence[Any]) -> list[dict[str, str]]:
        """Structural errors of one row: values beyond the last header (a stray separator)."""
        return [
            {
                "column": f"colonna {column_letter(col)} (senza intestazione)",
                "value": safe_value(cells[col]),
                "reason": "valore oltre l'ultima colonna dell'intestazione: "
                "forse un separatore dentro un valore (racchiuderlo tra virgolette)",
            }
            for col in range(len(self.headers), len(cells))
            if not _is_empty(cells[col])
        ]


@dataclass(frozen=True)
class Table(Layout):
    """A whole (small) file in memory: the layout plus every non-empty data row."""

    rows: list[Row]


# --- raw sources ------------------------------------------------------------------------------


def _sniff(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(8)


def _decoded_lines(fh: IO[bytes], name: str) -> Iterator[str]:
    """Text lines of a CSV, decoding each line on its own (see module docstring)."""
    start = fh.read(4)
    fh.seek(0)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Testo Unicode": UTF-16 with BOM
        wrapper = io.TextIOWrapper(fh, encoding="utf-16", newline="")
        try:
            yield from wrapper
        except UnicodeError as exc:
            raise FileRejected(f"{name}: testo UTF-16 danneggiato") from exc
        finally:
            wrapper.detach()
        return
    for number, raw in enumerate(fh, start=1):
        if number == 1 and raw.startswith(_BOM_UTF8):
            raw = raw[3:]
        if b"\x00" in raw:
            raise FileRejected(
                f"{name}: dati binari (byte nullo) alla riga {number}: non è un CSV di testo; "
                "salvare il foglio come «CSV (delimitato dal separatore di elenco)» o XLSX"
            )
        pieces = raw.splitlines(keepends=True) if b"\r" in raw[:-2] else [raw]  # old Mac CR endings
        for piece in pieces:
            try:
                yield piece.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    yield piece.decode("cp1252")
                except UnicodeDecodeError:
                    yield piece.decode("latin-1")


_CSV_ERRORS = {
    "unexpected end of data": "virgolette aperte e mai chiuse",
    "field larger than field limit": "cella troppo grande (oltre 128 KB)",
    "expected after": "carattere subito dopo le virgolette di chiusura",
    "new-line character seen in unquoted field": "a capo non valido in una cella",
}


def _csv_error(name: str, number: int, exc: csv.Error) -> FileRejected:
    text = str(exc)
    reason = next((it for en, it in _CSV_ERRORS.items() if en in text), "struttura CSV non valida")
    return FileRejected(f"{name}: CSV non leggibile alla riga {number}: {reason}")


def _header_score(rows: Sequence[Sequence[Any]], kind: str) -> int:
    """How many fields the best of these rows names."""
    return max((len(set(map_cells(kind, row).values())) for row in rows[:HEADER_SCAN_ROWS]), default=0)


def _choose_delimiter(head: str, kind: str) -> str:
    """The separator under which the known headers show up (ties: the most regular rows)."""
    scored: list[tuple[int, int, int, str]] = []
    for rank, delimiter in enumerate(DELIMITERS):
        try:
            rows = list(itertools.islice(csv.reader(io.StringIO(head), delimiter=delimiter), HEADER_SCAN_ROWS))
        except csv.Error:
            continue
        widths = [len(r) for r in rows if len(r) > 1]
        regular = max((widths.count(w) for w in set(widths)), default=0)
        scored.append((_header_score(rows, kind), regular, -rank, delimiter))
    return max(scored)[3] if scored else DELIMITERS[0]


@contextmanager
def _csv_rows(path: Path, kind: str) -> Iterator[Iterator[Row]]:
    name = path.name
    with path.open("rb") as fh:
        lines = _decoded_lines(fh, name)
        head = list(itertools.islice(lines, HEAD_LINES))
        delimiter = _choose_delimiter("".join(head), kind)

        def rows() -> Iterator[Row]:
            reader = csv.reader(itertools.chain(head, lines), delimiter=delimiter, strict=True)
            number = 0
            while True:
                number += 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise _csv_error(name, number, exc) from None
                yield number, list(cells)

        yield rows()


def _xlsx_cell(value: Any) -> Any:
    """Numbers as Excel shows them: 3331234567.0 is the integer 3331234567 (phones, codes)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, time):
        return value.isoformat()
    return value


def _quietly(fn: Callable[[], Any], name: str) -> Any:
    """Call into openpyxl on untrusted bytes: its warnings muted, any failure a FileRejected."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except StopIteration:
        raise
    except FileRejected:
        raise
    except Exception as exc:  # a damaged archive fails in many ways inside openpyxl/zipfile/xml
        raise FileRejected(f"{name}: file Excel danneggiato o non valido ({type(exc).__name__})") from exc


@contextmanager
def _xlsx_rows(path: Path, sheet: str | int) -> Iterator[Iterator[Row]]:
    from openpyxl import load_workbook

    name = path.name
    wb = _quietly(lambda: load_workbook(path, read_only=True, data_only=True), name)
    try:
        if isinstance(sheet, int):
            if sheet >= len(wb.worksheets):
                if sheet == 0:
                    raise FileRejected(f"{name}: il file Excel non contiene fogli di lavoro")
                yield iter(())  # no more sheets to try
                return
            ws = wb.worksheets[sheet]
        else:
            wanted = fold_header(sheet)
            found = [s for s in wb.sheetnames if fold_header(s) == wanted]
            if not found:
                raise FileRejected(f"{name}: foglio «{sheet}» non trovato (fogli: {', '.join(wb.sheetnames)})")
            ws = wb[found[0]]
        if not hasattr(ws, "iter_rows"):
            raise FileRejected(f"{name}: il foglio scelto non contiene celle (è un grafico)")
        values = _quietly(lambda: ws.iter_rows(values_only=True), name)

        def rows() -> Iterator[Row]:
            number = 0
            while True:
                try:
                    cells = _quietly(lambda: next(values), name)
                except StopIteration:
                    return
                number += 1
                yield number, [_xlsx_cell(c) for c in cells]

        yield rows()
    finally:
        _quietly(wb.close, name)


def _json_rows(path: Path) -> list[Row]:
    name = path.name
    if path.stat().st_size > MAX_JSON_BYTES:
        raise FileRejected(f"{name}: JSON troppo grande (oltre {MAX_JSON_BYTES // 2**20} MB): usare CSV o XLSX")
    data = path.read_bytes()
    try:
        items = json.loads(data.removeprefix(_BOM_UTF8).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{name}: il JSON deve essere in UTF-8 (byte non valido in posizione {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise FileRejected(f"{name}: JSON non valido alla riga {exc.lineno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise FileRejected(f"{name}: JSON annidato troppo in profondità") from exc
    if isinstance(items, Mapping):
        lists = [v for v in items.values() if isinstance(v, list)]
        items = lists[0] if len(lists) == 1 else None
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise FileRejected(f"{name}: il JSON deve essere una lista di oggetti, una segnalazione per oggetto")
    headers = list(dict.fromkeys(str(k) for i in items for k in i))
    return [(0, list(headers)), *((n, [i.get(h) for h in headers]) for n, i in enumerate(items, start=1))]


@contextmanager
def _raw_rows(path: Path, kind: str, sheet: str | int) -> Iterator[Iterator[Row]]:
    """Every row of the file with its number, empty ones included, streamed where possible."""
    name = path.name
    try:
        size = path.stat().st_size
        magic = _sniff(path)
    except OSError as exc:
        raise FileRejected(f"{name}: file non leggibile ({type(exc).__name__})") from exc
    if size == 0:
        raise FileRejected(f"{name}: il file è vuoto")
    suffix = path.suffix.lower()
    if magic.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise FileRejected(f"{name}: formato Excel 97-2003 (.xls) non supportato: salvarlo come .xlsx o CSV")
    if magic.startswith(b"%PDF"):
        raise FileRejected(f"{name}: è un PDF, non un foglio di calcolo: inviare il file XLSX o CSV")
    if suffix == ".ods":
        raise FileRejected(f"{name}: formato OpenDocument (.ods) non supportato: salvarlo come .xlsx o CSV")
    if suffix in {".xlsx", ".xlsm"} or magic.startswith(_ZIP_MAGIC):
        with _xlsx_rows(path, sheet) as rows:
            yield rows
    elif suffix == ".json":
        yield iter(_json_rows(path))
    else:
        with _csv_rows(path, kind) as rows:
            yield rows


# --- header detection -------------------------------------------------------------------------


def _best_header(head: list[Row], kind: str, required: Sequence[str]) -> tuple[int, dict[int, str]] | None:
    """The header among the first rows: the row naming every required field, and the most
    fields (the first on a tie); None when no row names at least two fields."""
    best: tuple[bool, int, int, dict[int, str]] | None = None
    for idx, (_number, cells) in enumerate(head):
        mapping = map_cells(kind, cells)
        named = set(mapping.values())
        score = (all(f in named for f in required), len(named))
        if best is None or score > best[:2]:
            best = (*score, idx, mapping)
    if best is None or (not best[0] and best[1] < MIN_HEADER_FIELDS) or best[1] == 0:
        return None
    return best[2], best[3]


def _layout(head: list[Row], kind: str, required: Sequence[str]) -> tuple[Layout, int] | None:
    """The header among the first rows, and how many rows of ``head`` it takes."""
    found = _best_header(head, kind, required)
    if found is None:
        return None
    idx, mapping = found
    number, cells = head[idx]
    headers = ["" if c is None else " ".join(str(c).split()) for c in cells]
    used = 1
    if idx + 1 < len(head):  # a sub-header row under merged group cells: "Recapiti" → Telefono | E-mail
        below_number, below = head[idx + 1]
        below_map = map_cells(kind, below)
        filled = {c for c, v in enumerate(below) if not _is_empty(v)}
        if (
            below_map
            and 2 * len(below_map) >= len(filled)
            and filled.isdisjoint(mapping)
            and set(below_map.values()).isdisjoint(mapping.values())
        ):
            mapping.update(below_map)
            width = max(len(headers), len(below))
            headers += [""] * (width - len(headers))
            for col in filled:
                headers[col] = " ".join(str(below[col]).split())
            number, used = below_number, 2
    while idx + used < len(head) and used < 4 and is_hint_row(kind, head[idx + used][1]):
        used += 1  # a template's line of hints or example under the header: not data
    mapping, secondary = _split_repeated(headers, dict(sorted(mapping.items())))
    unknown = [h for c, h in enumerate(headers) if h and c not in mapping and c not in secondary]
    layout = Layout(mapping=mapping, headers=headers, unknown_headers=unknown, header_row=number, secondary=secondary)
    return layout, idx + used


def _split_repeated(headers: Sequence[str], mapping: dict[int, str]) -> tuple[dict[int, str], dict[int, str]]:
    """The same header twice for one field ("Telefono" for the mobile, then for the family's
    landline): the first column is the field, the others its secondary, none is dropped."""
    seen: set[tuple[str, str]] = set()
    primary: dict[int, str] = {}
    secondary: dict[int, str] = {}
    for col, name in mapping.items():
        key = (name, fold_header(headers[col]))
        if key in seen:
            secondary[col] = name + SECONDARY
        else:
            seen.add(key)
            primary[col] = name
    return primary, secondary


def _data_rows(layout: Layout, rows: Iterator[Row], kind: str) -> Iterator[Row]:
    """Non-empty rows; a header line repeated inside the data (lists pasted together, a header
    every page), even re-typed with other variants, is not data."""
    starts = header_words(kind, layout.headers)
    first = min(layout.mapping)
    columns = list(layout.mapping.items())
    enough = max(MIN_HEADER_FIELDS, (len(set(layout.mapping.values())) + 1) // 2)
    for number, cells in rows:
        if all(_is_empty(c) for c in cells):
            continue
        probe = cells[first] if first < len(cells) else None
        if (
            isinstance(probe, str)
            and len(probe) <= 120
            and fold_header(probe) in starts
            and sum(1 for c, name in columns if c < len(cells) and match_header(kind, cells[c]) == name) >= enough
        ):
            continue
        yield number, cells


@contextmanager
def open_table(
    path: Path, kind: str, *, required: Sequence[str], sheet: str | None = None
) -> Iterator[tuple[Layout, Iterator[Row]]]:
    """Stream a partner file: its layout and an iterator over the non-empty data rows.

    Memory stays bounded whatever the file size (CSV and XLSX are read row by row). Without a
    sheet name, the first XLSX sheet whose header has the required columns is used; when none
    has them, the message names the columns missing from the best header found.
    """
    sheets: list[str | int] = [sheet] if sheet is not None else list(range(64))
    closest: Layout | None = None
    for candidate in sheets:
        with _raw_rows(path, kind, candidate) as rows:
            head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
            if not head and isinstance(candidate, int) and candidate > 0:
                break
            found = _layout(head, kind, required)
            named = set(found[0].mapping.values()) if found else set()
            if found is None or not all(f in named for f in required):
                if found is not None and (closest is None or len(named) > len(set(closest.mapping.values()))):
                    closest = found[0]
                if isinstance(candidate, int) and _is_xlsx(path):
                    continue
                break
            layout, used = found
            yield layout, _data_rows(layout, itertools.chain(head[used:], rows), kind)
            return
    best = None if closest is None else (closest.header_row, set(closest.mapping.values()))
    raise FileRejected(missing_columns_message(path.name, kind, required, best, scanned=HEADER_SCAN_ROWS))


def _is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in {".xlsx", ".xlsm"} or _sniff(path).startswith(_ZIP_MAGIC)


def read_table(path: Path, kind: str, *, required: Sequence[str], sheet: str | None = None) -> Table:
    """The whole file in memory (small files: answers, outcomes); big ones use :func:`open_table`."""
    with open_table(path, kind, required=required, sheet=sheet) as (layout, rows):
        return Table(
            mapping=layout.mapping,
            headers=layout.headers,
            unknown_headers=layout.unknown_headers,
            header_row=layout.header_row,
            secondary=layout.secondary,
            rows=list(rows),
        )


def record(table: Layout, cells: Sequence[Any]) -> dict[str, Any]:
    """One row as {canonical field: cell}."""
    return table.record(cells)


# --- dates ------------------------------------------------------------------------------------

_DMY = re.compile(r"(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{4}|\d{2})")
_YMD = re.compile(r"(\d{4})[./-](\d{1,2})[./-](\d{1,2})")
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()
_SPACED_SEPARATOR = re.compile(r"\s*([./-])\s*")
_SERIAL = re.compile(r"\d{5}(\.0+)?")
_TIME_PART = re.compile(r"[ T]")


def _two_digit_year(yy: int, past: bool) -> int:
    """``45`` is 1945 for a birth date, 2045 is too far for anything else but 1945 too."""
    this_year = clock.today().year
    year = 2000 + yy
    limit = this_year if past else this_year + 50
    return year if year <= limit else year - 100


def parse_date(value: Any, *, past: bool = False) -> date:
    """Dates as partners write them: dd/mm/yyyy, d.m.yy, ISO, Excel serials, real dates.

    ``past`` says the date cannot be in the future (birth dates): it decides the century of a
    two-digit year. Messages are Italian and quote at most 20 characters of the cell.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 80000:
            return date.fromordinal(_EXCEL_EPOCH + int(value))
        raise ValueError("numero di data Excel fuori intervallo")
    text = " ".join(str(value).split())
    if " " in text:  # the only blank left after the join: "5 / 6 / 2001"
        text = _SPACED_SEPARATOR.sub(r"\1", text)
    if _SERIAL.fullmatch(text):  # an Excel serial that lost its format
        return parse_date(int(float(text)), past=past)
    stem = _TIME_PART.split(text, maxsplit=1)[0]  # "01/02/1990 00:00:00", "1990-02-01T00:00"
    if m := _DMY.fullmatch(stem):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        if len(m[3]) == 2:
            year = _two_digit_year(year, past)
    elif m := _YMD.fullmatch(stem):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    else:
        raise ValueError(f"data non riconosciuta «{safe_value(text)[:20]}» (usare gg/mm/aaaa)")
    try:
        return date(year, month, day)
    except ValueError:
        hint = " (il mese va dopo il giorno: gg/mm/aaaa)" if month > 12 and day <= 12 else ""
        raise ValueError(f"data inesistente «{safe_value(stem)[:20]}»{hint}") from None
