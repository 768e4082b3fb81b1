"""The XLSX sent to Confindustria: readable, and inert when opened in a spreadsheet."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from models.enums import Cefr
from tasks.files.sheets import profiles_xlsx, safe_cell

ROWS = [
    {
        "profile_code": "P-7F3K",
        "occupations": ["Saldatore", "Operaio"],
        "italian": Cefr.A2,
        "licence": ["B"],
        "education": "Diploma",
        "availability": ["full_time"],
        "area": '=HYPERLINK("http://evil","x")',
    },
    {
        "profile_code": "+39 cmd|' /C calc'!A0",
        "occupations": ["-2+3"],
        "italian": "@SUM(A1:A2)",
        "licence": "\tTAB",
        "education": "\rCR",
        "availability": [],
        "area": "Bassa bergamasca",
    },
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Saldatore", "Saldatore"),
        ("a=b", "a=b"),
        (3, 3),
        (2.5, 2.5),
        (None, None),
        (["=a", "b"], "'=a, b"),
        (Cefr.B1, "B1"),
        (date(2026, 1, 2), date(2026, 1, 2)),
        ("bad\x00\x07char", "badchar"),
    ],
)
def test_safe_cell(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


def test_profiles_xlsx_neutralises_formulas_and_formats_header() -> None:
    data = profiles_xlsx(ROWS, title="Lotto DSP-2026-0004 [profili]: novembre/2026")
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    assert ws.title == "Lotto DSP-2026-0004 profili nov"
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[0] == "Codice profilo" and "Zona" in header
    assert all(c.font.bold for c in ws[1])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str) and cell.value:
                assert cell.value[0] not in "=+-@\t\r"
    values = {c.value for row in ws.iter_rows(min_row=2) for c in row}
    assert '\'=HYPERLINK("http://evil","x")' in values
    assert "'@SUM(A1:A2)" in values and "'-2+3" in values and "Saldatore, Operaio" in values
    assert ws.column_dimensions["A"].width >= len("Codice profilo")
    assert ws.column_dimensions["A"].width <= 60


def test_profiles_xlsx_empty_rows() -> None:
    wb = load_workbook(io.BytesIO(profiles_xlsx([], title="vuoto")))
    assert wb.active.max_row == 1
