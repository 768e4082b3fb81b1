"""Corpus files about headers and consent (issue 17), written as other partners' software writes
them: English and bilingual headers, title blocks, a header repeated on every page, the same
header twice, typos and abbreviations, columns the importer does not use, and files without
consent columns. Called by :func:`tests.data.make_corpus.build`; deterministic like it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from demo.synthetic.common import write_csv
from demo.synthetic.corpus import PEOPLE, write_xlsx

Expect = Callable[..., None]

# Given and family names of the people the paged export lists (combined deterministically).
_GIVEN = ["Amina", "Bilal", "Chiara", "Dmytro", "Esther", "Faisal", "Grace", "Hamza", "Irina", "Jamal", "Kofi"]
_FAMILY = ["Abdi", "Bakr", "Conti", "Dudko", "Eze", "Fofana", "Gashi", "Haidari", "Ivanova", "Jallow", "Kone", "Lima"]
_TOWNS = ["Bergamo", "Dalmine", "Seriate", "Treviglio", "Albino", "Ponte San Pietro", "Zogno", "Romano di Lombardia"]


def _person(n: int) -> tuple[str, str, str, str, str]:
    """(family, given, birth date dd/mm/yyyy, comune, mobile) of the n-th listed person."""
    born = date(1970 + n % 33, 1 + n % 12, 1 + n % 28)
    return (
        _FAMILY[n % len(_FAMILY)],
        _GIVEN[(n * 7) % len(_GIVEN)],
        born.strftime("%d/%m/%Y"),
        _TOWNS[n % len(_TOWNS)],
        f"34{n % 10} {(n * 7919) % 10**7:07d}",
    )


def build_header_files(corpus: Path, expect: Expect) -> None:
    """Write the files 60-69 into ``corpus`` and declare what the importer must make of each."""
    # 60. An association's English list (its CRM export): comma, LF, extra columns, one bad date.
    header = [
        "Surname",
        "Given name(s)",
        "Date of birth (dd/mm/yyyy)",
        "Town of residence",
        "Mobile phone",
        "E-mail address",
        "Spoken languages",
        "Work experience",
        "Italian level",
        "Data consent (yes/no)",
        "Consent to share with employers",
        "Case worker",
    ]
    rows: list[list[Any]] = []
    for p in PEOPLE[:5]:
        fam, giv, _sex, born, _place, _cit, town, phone, email, langs, _edu, exp, _lic = p
        rows.append([fam, giv, born.strftime("%d/%m/%Y"), town, phone, email, langs, exp, "A2", "yes", "no", "Sara"])
    rows[3][2] = "1988-13-01"  # month 13
    write_csv(corpus / "60_assoc_english_crm.csv", header, rows, delimiter=",", newline="\n")
    expect(
        "60_assoc_english_crm.csv",
        accepted=4,
        rejected=1,
        sender="ASSOC-MONDO-MIGRANTE",
        note="English headers with hints in brackets ('Given name(s)', 'Town of residence'); 'Case worker' "
        "unused and listed; one impossible date",
    )

    # 61. A CPIA export: a title block of five lines, the header on row 6, cp1252, upper case.
    title = [
        ["CPIA 1 BERGAMO - CORSI DI LINGUA ITALIANA"],
        ["Elenco corsisti segnalati al Centro per l'Impiego"],
        ["Sede: Bergamo"],
        [],
        ["Estrazione del 10/11/2026"],
    ]
    header = ["N.", "COGNOME", "NOME", "DATA NASCITA", "NAZIONALITA'", "COMUNE", "TELEFONO", "LIVELLO QCER"]
    header += ["CONSENSO PRIVACY", "CONSENSO CONFINDUSTRIA"]
    body = []
    for n, p in enumerate(PEOPLE[1:6], start=1):  # names Windows-1252 can write
        body.append([n, p[0].upper(), p[1].upper(), p[3].strftime("%d/%m/%Y"), p[5], p[6], p[7], "A2", "SI", "SI"])
    lines = [";".join(str(c) for c in r) for r in [*title, header, *body]]
    (corpus / "61_cpia_title_block.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    expect(
        "61_cpia_title_block.csv",
        accepted=5,
        rejected=0,
        sender="CPIA-BG",
        note="five title lines (one says 'Sede: Bergamo'), the header on row 6; 'N.' unused",
    )

    # 62. A Caritas sheet with "Telefono" twice: the person's mobile, then the family's landline.
    header = ["Cognome", "Nome", "Data di nascita", "Telefono", "Comune di residenza", "Telefono"]
    header += ["Note operatore", "Consenso privacy"]
    body = [
        ["Bonacina", "Nicolò", date(1988, 4, 12), "333 1234567", "Bergamo", "035 294512", "", "SI"],
        ["Diallo", "Mamadou", date(1999, 7, 1), "", "Dalmine", "035 561122", "solo fisso", "SI"],
        ["Nguyễn", "Thị Lan", date(1990, 5, 3), "351 7654321", "Seriate", "", "", "SI"],
        ["Haidari", "Zahra", date(1996, 2, 20), "320 4455667", "Treviglio", "0363 123456", "", "SI"],
    ]
    write_xlsx(
        corpus / "62_caritas_two_telefono.xlsx",
        [["Caritas - Centro di Ascolto di Dalmine"], header, *body],
        merges=["A1:H1"],
        bold_rows=[2],
        date_cols=[3],
    )
    expect(
        "62_caritas_two_telefono.xlsx",
        accepted=4,
        rejected=0,
        sender="CARITAS-DAL",
        note="'Telefono' twice (mobile, family landline): phone and phone_secondary, no refusal",
    )

    # 63. A paged export: the header printed again at the top of every 50-row page.
    header = ["Cognome", "Nome", "Data di nascita", "Comune", "Cellulare", "Consenso privacy"]
    paged: list[list[Any]] = []
    for n in range(120):
        if n and n % 50 == 0:
            paged.append(list(header))
        paged.append([*_person(n)[:4], _person(n)[4], "SI"])
    write_csv(corpus / "63_paged_repeated_header.csv", header, paged)
    expect(
        "63_paged_repeated_header.csv",
        accepted=120,
        rejected=0,
        sender="AMBITO-ISOLA",
        note="120 people, the header repeated before rows 52 and 103: skipped, not rejected",
    )

    # 64. A list without any consent column (the consents were kept on paper).
    header = ["Cognome", "Nome", "Data di nascita", "Comune", "Cellulare", "Esperienze"]
    rows = [[*_person(n)[:4], _person(n)[4], ["badante", "muratore", "cuoco", "magazziniere"][n % 4]] for n in range(6)]
    write_csv(corpus / "64_no_consent_columns.csv", header, rows, encoding="utf-8-sig")
    expect(
        "64_no_consent_columns.csv",
        accepted=6,
        rejected=0,
        sender="AMBITO-TREVIGLIO",
        note="no consent column: every row imported, the consent is collected at the CPI",
    )

    # 65. A municipality's social services: typos, abbreviations and hints; staff columns unused.
    header = [
        "Cognme",
        "Nome/i",
        "Data nascita (gg/mm/aaaa)",
        "Città di residenza",
        "Num. cellulare",
        "Indirizzo e-mail",
        "Cod. Fisc.",
        "Consenso al trattamento dei dati personali (SI/NO)",
        "Data segnalazione",
        "Nome operatore",
    ]
    rows = []
    for n in range(5):
        fam, giv, born, town, phone = _person(n + 20)
        rows.append([fam, giv, born, town, phone, "", "", "SI", "03/11/2026", "A. Locatelli"])
    rows[2][2] = "31/04/1990"  # 31 April
    write_csv(corpus / "65_social_services_variants.csv", header, rows, encoding="cp1252")
    expect(
        "65_social_services_variants.csv",
        accepted=4,
        rejected=1,
        sender="AMBITO-DALMINE",
        note="'Cognme', 'Num. cellulare', 'Cod. Fisc.', hints in brackets; 'Data segnalazione' and "
        "'Nome operatore' not taken for birth date or name; 31 April rejected",
    )

    # 66. A Ukrainian association: bilingual headers under a title, on the second sheet.
    header = [
        "Прізвище / Cognome",
        "Ім'я / Nome",
        "Дата народження / Data di nascita",
        "Місто / Comune",
        "Телефон / Telefono",
        "Згода на обробку даних / Consenso privacy",
    ]
    body = [
        ["Коваленко", "Олена", "12.03.1985", "Bergamo", "+380 67 123 4567", "так"],
        ["Шевчук", "Богдан", "03.08.1979", "Curno", "+380 50 222 3344", "так"],
        ["Савчук", "Ірина", "21.12.1993", "Lovere", "+39 348 123 9876", "так"],
    ]
    write_xlsx(
        corpus / "66_ukrainian_bilingual_header.xlsx",
        [["Асоціація «Міст» - список / elenco"], header, *body],
        bold_rows=[2],
        extra_sheet_first=True,
    )
    expect(
        "66_ukrainian_bilingual_header.xlsx",
        accepted=3,
        rejected=0,
        sender="ASSOC-PONTE-UCRAINA",
        note="Ukrainian / Italian headers in one cell, header on row 2 of the second sheet",
    )

    # 67. One "Nominativo" column: the surname column is missing, and the message says so.
    write_csv(
        corpus / "67_missing_surname_column.csv",
        ["Nominativo", "Data di nascita", "Comune", "Telefono"],
        [["Rossi Mario", "01/02/1980", "Bergamo", "333 1234567"], ["Bianchi Anna", "03/04/1985", "Seriate", ""]],
    )
    expect(
        "67_missing_surname_column.csv",
        error="manca la colonna obbligatoria «Cognome»",
        sender="CARITAS-SER",
        note="'Nominativo' (surname and name together): the missing columns are named, with the header row",
    )

    # 68. The partner portal's JSON in snake_case, without consent keys.
    items = [
        {"last_name": p[0], "first_name": p[1], "birth_date": p[3].isoformat(), "city": p[6], "phone": p[7]}
        for p in PEOPLE[:3]
    ]
    (corpus / "68_portal_snake_case_no_consent.json").write_text(
        json.dumps({"referrals": items}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    expect(
        "68_portal_snake_case_no_consent.json",
        accepted=3,
        rejected=0,
        sender="ASSOC-RIFUGIATI-BG",
        note="JSON object holding a list, snake_case keys, no consent key",
    )

    # 69. A reception project's management software: tab separated, staff columns interleaved.
    header = ["ID pratica", "Cognome", "Nome", "Struttura", "Data ingresso", "Comune domicilio", "Tel. cellulare"]
    header += ["Operatore", "Lingua madre", "Consenso privacy", "Note"]
    rows = []
    for n in range(4):
        fam, giv, _born, town, phone = _person(n + 40)
        rows.append(
            [f"SAI-{n + 101}", fam, giv, "Casa Betania", "02/09/2026", town, phone, "M. Rota", "arabo", "SI", ""]
        )
    write_csv(corpus / "69_sai_project_extra_columns.tsv", header, rows, delimiter="\t", newline="\r\n")
    expect(
        "69_sai_project_extra_columns.tsv",
        accepted=4,
        rejected=0,
        sender="ASSOC-RIFUGIATI-BG",
        note="tabs; 'ID pratica', 'Struttura', 'Data ingresso', 'Operatore', 'Note' unused and listed",
    )
