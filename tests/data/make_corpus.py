"""Write the partner-file test corpus (tests/data/corpus/) and its expected counts (expected.yaml).

Deterministic: the same bytes on every run (fixed XLSX timestamps), so the committed files and
this script never drift apart; ``test_corpus_is_reproducible`` checks it. Each file imitates
what a partner really sends; ``EXPECTED`` says, row by row, what the importer must make of it.
The people, their rows and the writers live in :mod:`demo.synthetic.corpus`, tax codes come
from :mod:`demo.synthetic.taxcodes`; this script only says what each file holds.

    .venv/bin/python -m tests.data.make_corpus
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from demo.synthetic.common import write_csv
from demo.synthetic.corpus import IT_HEADERS, PEOPLE, person_row, write_xlsx
from demo.synthetic.taxcodes import omocode, tax_code
from demo.synthetic.vacancies import VACANCY_HEADERS
from tests.data.make_corpus_headers import build_header_files
from tests.data.make_corpus_people import build_people_files
from tests.data.make_corpus_places import build_place_files
from tests.data.make_vacancy_corpus import build_vacancy_files

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


# --- the files --------------------------------------------------------------------------------

EXPECTED: dict[str, dict[str, Any]] = {}


def expect(
    name: str,
    *,
    accepted: int = 0,
    rejected: int = 0,
    kind: str = "referral",
    sender: str = "CARITAS-BG",
    error: str | None = None,
    note: str,
) -> None:
    entry: dict[str, Any] = {"kind": kind, "sender": sender, "note": note}
    if error is None:
        entry |= {"accepted": accepted, "rejected": rejected}
    else:
        entry["error"] = error
    EXPECTED[name] = entry


def build() -> None:
    CORPUS.mkdir(parents=True, exist_ok=True)
    for old in CORPUS.iterdir():
        old.unlink()

    # 1. Excel "CSV (separato da ;)" on Italian Windows: cp1252, CRLF, accents.
    rows = [person_row(i) for i in range(6)] + [person_row(0), person_row(1)]
    real = rows[4][5]
    rows[4][5] = real[:15] + ("A" if real[15] != "A" else "B")  # wrong check character
    rows[5][7] = "fatima.elamrani@example,com"  # comma instead of dot
    rows[6][0], rows[6][1] = "Bonacina", "Niccolò"
    rows[7][0], rows[7][1], rows[7][7] = "D'Angelo", "Maria Grazia", ""
    write_csv(
        CORPUS / "01_caritas_excel_cp1252.csv",
        IT_HEADERS,
        [[c if not isinstance(c, str) else c.replace("ễ", "e").replace("ị", "i") for c in r] for r in rows],
        encoding="cp1252",
    )
    expect(
        "01_caritas_excel_cp1252.csv",
        accepted=6,
        rejected=2,
        note="cp1252 with ';': bad CF check character, e-mail with a comma",
    )

    # 2. UTF-8 with BOM (Excel "CSV UTF-8"), one person outside the province.
    rows = [person_row(i) for i in range(2, 8)]
    rows[3][8] = "Milano"
    write_csv(CORPUS / "02_ambito_utf8_bom.csv", IT_HEADERS, rows, encoding="utf-8-sig")
    expect(
        "02_ambito_utf8_bom.csv",
        accepted=6,
        rejected=0,
        sender="AMBITO-BG",
        note="UTF-8 BOM; Milano (outside the province) is accepted and waits for a CPI",
    )

    # 3. XLSX with a title block (merged), real dates, phones typed as numbers.
    header = IT_HEADERS[:14]
    body: list[list[Any]] = []
    for i in range(7):
        r = person_row(i)[:14]
        r[2] = PEOPLE[i][3]
        body.append(r)
    body[1][6] = 35294512  # number cell: "035 294512" lost its leading zero in Excel → invalid
    body[0][6] = 3331234567
    body[3][0] = None  # missing surname
    write_xlsx(
        CORPUS / "03_caritas_title_block.xlsx",
        [
            ["Caritas Diocesana Bergamasca - Centro di Ascolto"],
            ["Elenco segnalazioni - novembre 2026"],
            [],
            header,
            *body,
        ],
        merges=["A1:N1", "A2:N2"],
        bold_rows=[1, 4],
        date_cols=[3],
    )
    expect(
        "03_caritas_title_block.xlsx",
        accepted=6,
        rejected=1,
        note="title rows; number phones (one lost its 0, read back); a missing surname",
    )

    # 4. XLSX with a two-level merged header: group cells over sub-headers.
    top = ["Cognome", "Nome", "Data di nascita", "Recapiti", None, "Comune di residenza", "Consenso privacy"]
    sub = [None, None, None, "Telefono", "E-mail", None, None]
    body = [[p[0], p[1], p[3], p[7], p[8], p[6], "SI"] for p in PEOPLE[:5]]
    write_xlsx(
        CORPUS / "04_ambito_merged_header.xlsx",
        [["Ambito di Seriate - segnalazioni"], top, sub, *body],
        merges=["A1:G1", "A2:A3", "B2:B3", "C2:C3", "D2:E2", "F2:F3", "G2:G3"],
        bold_rows=[2, 3],
        date_cols=[3],
        extra_sheet_first=True,
    )
    expect(
        "04_ambito_merged_header.xlsx",
        accepted=5,
        rejected=0,
        sender="AMBITO-SERIANA",
        note="instructions sheet first; 'Recapiti' merged over Telefono | E-mail",
    )

    # 5. Mixed date formats in one column.
    dates = [
        "12/04/1988",
        "3.11.75",
        "1998-07-05",
        "31104",
        "30/01/1969 00:00:00",
        "21/9/92",
        "31/02/1990",
        "12/31/1990",
    ]
    rows = []
    for i, d in enumerate(dates):
        r = person_row(i, with_cf=False)
        r[2] = d
        rows.append(r)
    write_csv(CORPUS / "05_mixed_dates.csv", IT_HEADERS, rows)
    expect(
        "05_mixed_dates.csv",
        accepted=6,
        rejected=2,
        note="dd/mm/yyyy, d.m.yy, ISO, Excel serial, with time, d/m/yy; 31/02 and US order rejected",
    )

    # 6. Empty trailing rows, as Excel leaves them after deleting lines.
    rows = [person_row(i) for i in range(4)] + [[""] * len(IT_HEADERS) for _ in range(12)]
    write_csv(CORPUS / "06_trailing_empty_rows.csv", IT_HEADERS, rows)
    expect("06_trailing_empty_rows.csv", accepted=4, rejected=0, note="12 empty ;;;; rows at the end")

    # 7. Duplicated header name: two "Nome" columns (the person's and the operator's).
    write_csv(
        CORPUS / "07_duplicated_header.csv",
        [*IT_HEADERS[:9], "Nome"],
        [[*person_row(i)[:9], "Suor Anna"] for i in range(3)],
    )
    expect(
        "07_duplicated_header.csv",
        accepted=3,
        rejected=0,
        note="'Nome' twice (the person's, then the operator's): the second is given_names_secondary, unused",
    )

    # 8. Tab-separated UTF-8 (copied from a web form).
    write_csv(
        CORPUS / "08_tab_separated.tsv", IT_HEADERS, [person_row(i) for i in range(3, 8)], delimiter="\t", newline="\n"
    )
    expect("08_tab_separated.tsv", accepted=5, rejected=0, note="tab separator, LF endings")

    # 9. Excel "Testo Unicode": UTF-16 LE with BOM, tabs.
    write_csv(
        CORPUS / "09_excel_unicode_text.txt",
        IT_HEADERS,
        [person_row(i) for i in range(4)],
        encoding="utf-16",
        delimiter="\t",
    )
    expect("09_excel_unicode_text.txt", accepted=4, rejected=0, note="UTF-16 with BOM, tab separated")

    # 10. JSON from the partner portal API (English keys), one invalid phone.
    items = []
    for i in range(4):
        p = PEOPLE[i]
        items.append(
            {
                "surname": p[0],
                "name": p[1],
                "date of birth": p[3].isoformat(),
                "phone": p[7],
                "email": p[8],
                "municipality": p[6],
                "languages": p[9].split(", "),
                "consent": "yes",
            }
        )
    items[2]["phone"] = "12"
    (CORPUS / "10_portal_api.json").write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    expect(
        "10_portal_api.json",
        accepted=4,
        rejected=0,
        sender="ASSOC-RIFUGIATI-BG",
        note="JSON list, English keys, languages as a list; phone '12' dropped with a warning",
    )

    # 11. English headers, comma separator, ISO dates, quoted cells with commas.
    en = [
        "Surname",
        "First name",
        "Date of birth",
        "Nationality",
        "Mobile",
        "Email",
        "City",
        "Languages",
        "Experience",
        "Driving licence",
        "Consent",
    ]
    rows = [[p[0], p[1], p[3].isoformat(), p[5], p[7], p[8], p[6], p[9], p[11], p[12], "yes"] for p in PEOPLE[2:6]]
    write_csv(CORPUS / "11_english_headers.csv", en, rows, delimiter=",", newline="\n")
    expect(
        "11_english_headers.csv",
        accepted=4,
        rejected=0,
        sender="ASSOC-MONDO-MIGRANTE",
        note="English headers, ',' separator, quoted lists",
    )

    # 12. Ukrainian association: Cyrillic headers and names, UTF-8 without BOM.
    uk = [
        "Прізвище",
        "Ім'я",
        "Дата народження",
        "Громадянство",
        "Телефон",
        "Електронна пошта",
        "Comune",
        "Мови",
        "Досвід",
        "Consenso privacy",
    ]
    rows = [
        [
            "Коваленко",
            "Олена",
            "12.03.1985",
            "Україна",
            "+380 67 123 4567",
            "olena.k@example.com",
            "Bergamo",
            "українська, російська",
            "бухгалтер",
            "так",
        ],
        [
            "Шевченко",
            "Тарас",
            "09.03.1990",
            "Україна",
            "+380 50 765 4321",
            "",
            "Seriate",
            "українська",
            "зварювальник",
            "так",
        ],
        [
            "Мельник",
            "Мар'яна",
            "01.01.2001",
            "Україна",
            "+380 93 111 2233",
            "maryana@example.com",
            "Albino",
            "українська, англійська",
            "кухар",
            "так",
        ],
        [
            "Бондаренко",
            "Ігор",
            "1978-05-17",
            "Україна",
            "0039 351 234 5678",
            "",
            "Dalmine",
            "українська",
            "водій",
            "так",
        ],
        [
            "Ткаченко",
            "Оксана",
            "32.13.1980",
            "Україна",
            "+380 67 000 1111",
            "",
            "Bergamo",
            "українська",
            "прибиральниця",
            "так",
        ],
    ]
    write_csv(CORPUS / "12_ukrainian_cyrillic_utf8.csv", uk, rows, encoding="utf-8")
    expect(
        "12_ukrainian_cyrillic_utf8.csv",
        accepted=4,
        rejected=1,
        sender="ASSOC-PONTE-UCRAINA",
        note="Cyrillic headers and names; an impossible date",
    )

    # 13. Temporary numeric tax codes (protection applicants) and an omocode.
    rows = [person_row(i) for i in range(3)]
    rows[0][5] = "12345678903"
    rows[1][5] = "98765432103"
    rows[2][5] = omocode(tax_code(*PEOPLE[2][:5]), 1).lower()
    write_csv(CORPUS / "13_temporary_tax_codes.csv", IT_HEADERS, rows)
    expect(
        "13_temporary_tax_codes.csv",
        accepted=3,
        rejected=0,
        note="11-digit temporary codes and a lowercase omocode are valid",
    )

    # 14. A stray unquoted ';' inside a value shifts the row: rejected, never silently misread.
    text = ";".join(IT_HEADERS) + "\r\n"
    for i in range(3):
        text += ";".join(str(c) for c in person_row(i)) + "\r\n"
    text += (
        "Rossi;Giovanni;01/06/1979;Bergamo;italiana;;347 9988776;g.rossi@example.it;Zanica;italiano;"
        "diploma;autista; magazziniere;CE;SI;Caritas Bergamo\r\n"
    )
    (CORPUS / "14_stray_separator.csv").write_bytes(text.encode("cp1252"))
    expect("14_stray_separator.csv", accepted=3, rejected=1, note="an unquoted ';' in Esperienze shifts the row")

    # 15. Multi-line cells (Alt+Enter in Excel) and a repeated header from two pasted lists.
    rows = [person_row(i) for i in range(3)]
    rows[0][11] = "magazziniere\n(3 anni)\nmulettista"
    rows.append(list(IT_HEADERS))
    rows += [person_row(i) for i in range(4, 6)]
    write_csv(CORPUS / "15_multiline_and_pasted.csv", IT_HEADERS, rows, encoding="utf-8-sig")
    expect(
        "15_multiline_and_pasted.csv",
        accepted=5,
        rejected=0,
        note="quoted multi-line cell; header repeated in the middle is skipped",
    )

    # 16. Mixed encodings: a cp1252 list with UTF-8 rows pasted in.
    head = ";".join(IT_HEADERS[:9]) + "\r\n"
    lines = [";".join(str(c) for c in person_row(i)[:9]) + "\r\n" for i in (0, 4, 1)]
    data = head.encode("cp1252") + lines[0].encode("cp1252") + lines[1].encode("utf-8") + lines[2].encode("cp1252")
    (CORPUS / "16_mixed_encoding.csv").write_bytes(data)
    expect("16_mixed_encoding.csv", accepted=3, rejected=0, note="cp1252 and UTF-8 lines in one file")

    # 17. Phone in two columns (Telefono, Cellulare): the first non-empty wins.
    hdr = ["Cognome", "Nome", "Telefono", "Cellulare", "Comune di residenza", "Consenso privacy"]
    rows = [
        ["Bonacina", "Nicolò", "", "333 1234567", "Bergamo", "SI"],
        ["Rossi", "Giovanni", "035 294512", "347 9988776", "Zanica", "SI"],
        ["Diallo", "Mamadou", "", "", "Dalmine", "SI"],
    ]
    write_csv(CORPUS / "17_two_phone_columns.csv", hdr, rows)
    expect("17_two_phone_columns.csv", accepted=3, rejected=0, note="Telefono and Cellulare both present")

    # 18. Vacancies from Confindustria: XLSX with a title row.
    vh = list(VACANCY_HEADERS)
    vrows: list[list[Any]] = [
        [
            "COMP-OFFICINE-VALSERIANA",
            "Saldatore a filo",
            "Albino",
            "saldatura MIG, lettura disegno",
            "A2",
            "B",
            "tempo determinato",
            2,
            date(2027, 1, 31),
        ],
        [
            "COMP-LOGISTICA-ORIO",
            "Magazziniere mulettista",
            "Orio al Serio",
            "patentino muletto",
            "A2",
            "muletto",
            "somministrazione",
            5,
            "31/12/2026",
        ],
        [
            "COMP-CASEIFICIO-PIANALTO",
            "Addetto produzione",
            "Bergamo",
            "",
            "A1",
            "nessuna",
            "indeterminato",
            "1",
            "15.1.27",
        ],
        ["COMP-INESISTENTE", "Cuoco", "Bergamo", "", "B1", "", "", 1, ""],
        ["COMP-FORNO-SERIO", "Panettiere", "Nembro", "turni notturni", "A2", "", "", "tanti", ""],
    ]
    write_xlsx(
        CORPUS / "18_vacancies_confindustria.xlsx",
        [["Confindustria Bergamo - posizioni aperte"], [], vh, *vrows],
        merges=["A1:I1"],
        bold_rows=[3],
        date_cols=[9],
        sheet="Posizioni",
    )
    expect(
        "18_vacancies_confindustria.xlsx",
        kind="vacancy",
        sender="CONFINDUSTRIA-BG",
        accepted=4,
        rejected=1,
        note="an unknown company code waits for the coordinators; 'tanti' positions",
    )

    # 19. Vacancies as cp1252 CSV, one unknown licence.
    vrows = [
        [
            "COMP-GOMMA-ISOLA",
            "Operaio stampaggio gomma",
            "Bergamo",
            "turni",
            "A2",
            "B",
            "tempo determinato",
            "3",
            "28/02/2027",
        ],
        ["COMP-ALBERGO-COLLE", "Cameriere di sala", "Bergamo", "inglese", "B1", "", "stagionale", "2", ""],
        ["COMP-AUTOTRASPORTI-BREMBANA", "Autista", "Zogno", "CQC", "A2", "patente nautica", "", "1", ""],
        ["COMP-STAMPAGGIO-CALEPIO", "Addetto pressa", "Seriate", "", "pre-A1", "", "", "", "1/3/27"],
    ]
    write_csv(CORPUS / "19_vacancies_cp1252.csv", vh, vrows, encoding="cp1252")
    expect(
        "19_vacancies_cp1252.csv",
        kind="vacancy",
        sender="CONFINDUSTRIA-BG",
        accepted=3,
        rejected=1,
        note="cp1252 vacancy list; unknown licence",
    )

    # 20-23. Files that fail as a whole.
    good = io.BytesIO()
    src = CORPUS / "03_caritas_title_block.xlsx"
    good.write(src.read_bytes())
    (CORPUS / "20_truncated.xlsx").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    expect("20_truncated.xlsx", error="danneggiato", note="XLSX cut in half (mail attachment truncated)")
    (CORPUS / "21_old_excel.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    expect("21_old_excel.xls", error=".xls", note="Excel 97-2003 file")
    write_csv(
        CORPUS / "22_no_header.csv",
        ["Cognome e nome", "Telefono", "Comune"],
        [["Rossi Mario", "333 1234567", "Bergamo"]],
    )
    expect(
        "22_no_header.csv",
        error="manca la colonna obbligatoria «Cognome»",
        note="one 'Cognome e nome' column: surname and name are named as missing, on header row 1",
    )
    (CORPUS / "23_binary_junk.csv").write_bytes(b"Cognome;Nome;Comune\r\n" + bytes(range(256)) * 4)
    expect("23_binary_junk.csv", error="dati binari", note="binary bytes (NUL) in a .csv")

    build_header_files(CORPUS, expect)  # 60-69: headers and consent (issue 17)
    build_people_files(CORPUS, expect)  # 70-74: phones, names, tax codes (issue 17)
    build_vacancy_files(CORPUS, expect)  # 50-55: vacancies naming companies (issue 17)
    build_place_files(CORPUS, expect)  # 75-76: no comune column, work sites as written (issue 17)

    (HERE / "expected.yaml").write_text(
        "# Written by make_corpus.py: what the importer must make of each file in corpus/.\n"
        + yaml.safe_dump(EXPECTED, allow_unicode=True, sort_keys=True, width=120),
        encoding="utf-8",
    )


if __name__ == "__main__":
    build()
