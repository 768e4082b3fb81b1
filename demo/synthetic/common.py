"""What every synthetic-data module shares: the demo's dates, seeded randomness, text folding and
XLSX files whose bytes depend only on their content.

Everything in demo/synthetic is driven by one seed so the same seed always yields byte-identical
files; :func:`sub_rng` gives each concern its own stream.
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"

REFERENCE_DATE = date(2026, 1, 15)
"""The demo's "today": ages, deadlines and extraction dates are relative to it."""

FIXED_TIMESTAMP = datetime(2026, 1, 15, 8, 0, 0)  # noqa: DTZ001 - XLSX metadata is naive by format
"""Written into XLSX metadata and zip entries so files are byte-identical across runs."""

CEFR_LEVELS: tuple[str, ...] = ("pre-A1", "A1", "A2", "B1", "B2", "C1", "C2")
ITALIAN_SKILLS: tuple[str, ...] = ("listening", "reading", "speaking", "writing")


def ascii_fold(text: str) -> str:
    """Strip accents so names fit e-mail addresses and cp1252-only tools."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def name_key(family_name: str, given_names: str) -> str:
    """Order- and accent-insensitive key, so swapped or accented spellings meet."""
    text = f"{family_name} {given_names}".replace("'", " ").replace("-", " ")
    tokens = ["".join(ch for ch in unicodedata.normalize("NFKD", t).casefold() if ch.isalnum()) for t in text.split()]
    return " ".join(sorted(t for t in tokens if t))


def weighted(rng: random.Random, items: Sequence[tuple[Any, float]]) -> Any:
    values = [v for v, _ in items]
    weights = [w for _, w in items]
    return rng.choices(values, weights=weights, k=1)[0]


def sub_rng(seed: int, label: str) -> random.Random:
    """Independent stream per concern, so adding a feature does not reshuffle everything else."""
    return random.Random(f"incontro-demo:{seed}:{label}")


def strip_accents(text: str) -> str:
    """Drop combining marks only: unlike :func:`ascii_fold`, Cyrillic letters stay."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def norm_label(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form that keeps Cyrillic letters."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(kept.replace("/", " ").replace("-", " ").split())


def save_workbook_deterministic(wb: Workbook, path: Path) -> None:
    """Save an XLSX whose bytes depend only on its content: fixed core timestamps and zip entry times."""
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).write_data()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    path.write_bytes(out.getvalue())


def write_csv(
    path: Path,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ";",
    newline: str = "\r\n",
) -> None:
    """A CSV as a partner's spreadsheet saves it: header, rows (``None`` as an empty cell), minimal quoting."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
