"""The small hand-written population of the import test corpus (``tests/data/make_corpus.py``) and
the writers it shares: eight people whose names, places and phone formats cover what partners
send (accents, apostrophes, Vietnamese and German letters, foreign numbers), one referral row
each in the "Excel Italian" layout that :mod:`bench.bench_import` writes too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from demo.synthetic.common import save_workbook_deterministic
from demo.synthetic.taxcodes import tax_code

IT_HEADERS = [
    "Cognome",
    "Nome",
    "Data di nascita",
    "Luogo di nascita",
    "Cittadinanza",
    "Codice fiscale",
    "Cellulare",
    "E-mail",
    "Comune di residenza",
    "Lingue parlate",
    "Titolo di studio",
    "Esperienze",
    "Patente",
    "Consenso privacy",
    "Ente segnalante",
]
"""The referral columns of an Excel list kept by an Italian partner office."""

# (family, given, sex, birth date, birth place, citizenship, municipality, phone, email,
#  languages, education, experiences, licence)
PEOPLE: list[tuple[Any, ...]] = [
    (
        "Bonacina",
        "Nicolò",
        "M",
        date(1988, 4, 12),
        "Bergamo",
        "italiana",
        "Bergamo",
        "333 1234567",
        "nicolo.bonacina@example.it",
        "italiano",
        "licenza media",
        "magazziniere, mulettista",
        "B",
    ),
    (
        "D'Angelo",
        "Maria Grazia",
        "F",
        date(1975, 11, 3),
        "Napoli",
        "italiana",
        "Seriate",
        "035 294512",
        "mg.dangelo@example.it",
        "italiano, inglese",
        "diploma",
        "addetta pulizie",
        "nessuna",
    ),
    (
        "Diallo",
        "Mamadou",
        "M",
        date(1998, 7, 5),
        "Senegal",
        "senegalese",
        "Dalmine",
        "+221 77 123 45 67",
        "",
        "francese, wolof, italiano",
        "scuola primaria (Senegal)",
        "muratore, aiuto cuoco",
        "no",
    ),
    (
        "Kovalenko",
        "Olena",
        "F",
        date(1985, 3, 12),
        "Ucraina",
        "ucraina",
        "Bergamo",
        "+380 67 123 4567",
        "olena.kovalenko@example.com",
        "ucraino, russo, inglese",
        "laurea (Ucraina)",
        "contabile, cassiera",
        "B",
    ),
    (
        "Müller",
        "Jürgen",
        "M",
        date(1969, 1, 30),
        "Germania",
        "tedesca",
        "Albino",
        "+49 151 23456789",
        "j.mueller@example.de",
        "tedesco, italiano",
        "diploma",
        "saldatore",
        "C",
    ),
    (
        "El Amrani",
        "Fatima Zahra",
        "F",
        date(1992, 9, 21),
        "Marocco",
        "marocchina",
        "Nembro",
        "320-7654321",
        "fatima.elamrani@example.com",
        "arabo, francese",
        "diploma",
        "badante, cameriera",
        "nessuna",
    ),
    (
        "Nguyễn",
        "Thị Lan",
        "F",
        date(2001, 2, 14),
        "Vietnam",
        "vietnamita",
        "Stezzano",
        "0039 347 1122334",
        "",
        "vietnamita, inglese",
        "diploma",
        "operaia tessile",
        "no",
    ),
    (
        "Rossi",
        "Giovanni",
        "M",
        date(1979, 6, 1),
        "Bergamo",
        "italiana",
        "Zanica",
        "3479988776",
        "giovanni.rossi@example.it",
        "italiano",
        "qualifica professionale",
        "autista, magazziniere",
        "CE",
    ),
]


def person_row(i: int, *, date_fmt: str = "%d/%m/%Y", with_cf: bool = True) -> list[Any]:
    """Person ``i`` (modulo the list) as a row under :data:`IT_HEADERS`, referred by Caritas with consent."""
    fam, giv, sex, born, place, citiz, town, phone, email, langs, edu, exp, lic = PEOPLE[i % len(PEOPLE)]
    code = tax_code(fam, giv, sex, born, place) if with_cf else ""
    return [
        fam,
        giv,
        born.strftime(date_fmt),
        place,
        citiz,
        code,
        phone,
        email,
        town,
        langs,
        edu,
        exp,
        lic,
        "SI",
        "Caritas Bergamo",
    ]


def write_xlsx(
    path: Path,
    blocks: Sequence[Sequence[Any]],
    *,
    merges: Sequence[str] = (),
    bold_rows: Sequence[int] = (),
    date_cols: Sequence[int] = (),
    sheet: str = "Segnalazioni",
    extra_sheet_first: bool = False,
) -> None:
    """Rows of cells as given (title blocks, merged group headers), optionally after an instructions sheet."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    if extra_sheet_first:
        ws.title = "Istruzioni"
        ws["A1"] = "Compilare il foglio «Segnalazioni». Una persona per riga."
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    for r, values in enumerate(blocks, start=1):
        for c, v in enumerate(values, start=1):
            if v is None or v == "":
                continue
            cell = ws.cell(row=r, column=c, value=v)
            if r in bold_rows:
                cell.font = Font(bold=True)
            if c in date_cols and isinstance(v, date):
                cell.number_format = "DD/MM/YYYY"
    for ref in merges:
        ws.merge_cells(ref)
    save_workbook_deterministic(wb, path)
