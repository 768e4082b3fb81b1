"""Corpus files about phones, names and tax codes (issue 17), written as other partners write
them: a Ukrainian association's list with numbers as Ukrainians write them, a reception centre's
workbook of Latin-American and African guests with local mobile numbers, a parish list whose
phone cells carry notes and two numbers, a web-form export with spreadsheet formulas in names,
and a portal export with every kind of codice fiscale defect. Called by
:func:`tests.data.make_corpus.build`; deterministic like it.

``WARNINGS`` and ``REASONS`` say, beyond the counts in expected.yaml, how many row warnings
each file gives and which reason each refused row carries (tests/unit/test_people_fields.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date
from pathlib import Path

from demo.synthetic.common import write_csv
from demo.synthetic.corpus import write_xlsx
from demo.synthetic.taxcodes import corrupt_check_char, omocode, tax_code, temporary_tax_code

Expect = Callable[..., None]

UKRAINIANS = "70_assoc_ucraina_telefoni.csv"
RECEPTION = "71_sai_ospiti_cellulari.xlsx"
PARISH = "72_parrocchia_note_telefoni.csv"
FORMULAS = "73_modulo_web_formule.csv"
TAX_CODES = "74_portale_codici_fiscali.json"

#: Row warnings each file gives (its rows are accepted all the same).
WARNINGS: dict[str, int] = {UKRAINIANS: 0, RECEPTION: 0, PARISH: 3, FORMULAS: 0, TAX_CODES: 0}
#: E.164 number each accepted row's person gets, by family name as written.
PHONES: dict[str, dict[str, str | None]] = {
    UKRAINIANS: {
        "Ковальчук": "+380977729795",
        "Ткачук": "+380671234567",
        "Савченко": "+380507654321",
        "Лисенко": "+380931112233",
        "Гнатюк": "+380635551234",
        "Бойко": "+393512345678",
        "Мороз": "+380663214567",
        "Павленко": None,
        "Кравець": "+393209876543",
    },
    RECEPTION: {
        "Quispe Huamán": "+51987654321",
        "Rodríguez Gómez": "+573004567890",
        "Cedeño Vera": "+593998765432",
        "El Idrissi": "+212661234567",
        "Ndiaye": "+221771234567",
        "Mamani": "+59171234567",
        "Touré": "+2250707123456",
        "Okafor": "+2348031234567",
        "Sánchez Ruiz": "+51912345678",
        "Bianchi": "+390354128765",
    },
    PARISH: {
        "Rota": "+39035123456",
        "Pesenti": "+39035123456",
        "Carminati": "+393331234567",
        "Gamba": "+393479988776",
        "Locatelli": "+390354128765",
        "Ravasio": None,
        "Bonomi": None,
        "Cortinovis": None,
        "Ahmed": "+393201122334",
        "Mazzoleni": "+390363123456",
    },
}
#: Row number → a fragment of the reason it was refused.
REASONS: dict[str, dict[int, str]] = {
    FORMULAS: {2: "formula", 3: "formula", 4: "formula", 5: "formula", 10: "formula"},
    TAX_CODES: {
        4: "cifra di controllo errata",
        5: "carattere di controllo errato",
        6: "15 caratteri",
        7: "lettera del mese",
        8: "non coerente con la data di nascita",
        9: "non coerente con il sesso",
    },
}


def build_people_files(corpus: Path, expect: Expect) -> None:
    """Write the files 70-74 into ``corpus`` and declare what the importer must make of each."""
    _ukrainian_association(corpus, expect)
    _reception_centre(corpus, expect)
    _parish(corpus, expect)
    _web_form(corpus, expect)
    _portal_tax_codes(corpus, expect)


def _ukrainian_association(corpus: Path, expect: Expect) -> None:
    """70. UTF-8, comma, Ukrainian headers: numbers as written in Ukraine (no +380, 0038, +38)."""
    header = ["Прізвище", "Ім'я", "Дата народження", "Громадянство", "Телефон", "Мови", "Місто", "Згода"]
    rows = [
        ["Ковальчук", "Ірина", "14.02.1986", "Україна", "097 772 97 95", "українська, російська", "Bergamo", "так"],
        ["Ткачук", "Андрій", "03.07.1979", "Україна", "0038 067 123 45 67", "українська", "Dalmine", "так"],
        ["Савченко", "Оксана", "21.11.1990", "Україна", "+38 (050) 765-43-21", "українська", "Seriate", "так"],
        ["Лисенко", "Марія", "09.09.1995", "Україна", "380931112233", "українська, англійська", "Bergamo", "так"],
        ["Гнатюк", "Сергій", "30.01.1972", "UA", "063 555 12 34", "російська", "Treviglio", "так"],
        ["Бойко", "Наталія", "12.05.1988", "Україна", "351 234 5678", "українська", "Albino", "так"],
        ["Мороз", "Володимир", "17.08.1968", "", "066 321 45 67", "українська", "Zogno", "так"],
        ["Павленко", "Олена", "25.12.2001", "Україна", "немає", "українська", "Bergamo", "так"],
        ["Кравець", "Юлія", "02.03.1983", "Україна", "+39 320 987 6543; 068 765 43 21", "українська", "Bergamo", "так"],
    ]
    write_csv(corpus / UKRAINIANS, header, rows, delimiter=",", newline="\n")
    expect(
        UKRAINIANS,
        accepted=9,
        rejected=0,
        sender="ASSOC-PONTE-UCRAINA",
        note="Ukrainian numbers without +380, with 0038, +38, 380; an Italian SIM; 'немає'; two in one cell",
    )


def _reception_centre(corpus: Path, expect: Expect) -> None:
    """71. A SAI reception centre's workbook: local mobile numbers of guests from abroad."""
    header = ["Cognome", "Nome", "Sesso", "Data nascita", "Nazionalità", "Luogo di nascita", "Cellulare"]
    header += ["Lingue", "Comune", "Privacy"]
    guests: list[list[object]] = [
        ["Quispe Huamán", "Rosa", "F", date(1991, 6, 2), "PERUVIANA", "Cusco", "987 654 321", "spagnolo"],
        [
            "Rodríguez Gómez",
            "Andrés Felipe",
            "M",
            date(1987, 2, 14),
            "COLOMBIANA",
            "Medellín",
            "300 456 7890",
            "spagnolo",
        ],
        ["Cedeño Vera", "María José", "F", date(1993, 10, 8), "Ecuador", "Guayaquil", "099 876 5432", "spagnolo"],
        ["El Idrissi", "Youssef", "M", date(1985, 4, 30), "MAROCCHINO", "Casablanca", "0661-234567", "arabo, francese"],
        ["Ndiaye", "Fatou", "F", date(1996, 1, 19), "", "Dakar (Senegal)", "77 123 45 67", "wolof, francese"],
        ["Mamani", "Juan Carlos", "M", date(1980, 12, 1), "boliviana", "El Alto", 71234567, "spagnolo, aymara"],
        ["Touré", "Ibrahim", "M", date(1999, 7, 7), "ivoriana", "Abidjan", "07 07 12 34 56", "francese, dioula"],
        ["Okafor", "Chinedu", "M", date(1989, 3, 23), "NIGERIA", "Lagos", "0803 123 4567", "inglese, igbo"],
        ["Sánchez Ruiz", "Luis", "M", date(1977, 9, 15), "peruviano", "Lima", "+51 912 345 678", "spagnolo"],
        ["Bianchi", "Carla", "F", date(1969, 5, 5), "italiana", "Bergamo", "035 4128765", "italiano"],
    ]
    towns = ["Bergamo", "Dalmine", "Seriate", "Treviglio", "Albino"]
    body = [[*g[:7], g[7], towns[i % len(towns)], "SI"] for i, g in enumerate(guests)]
    write_xlsx(
        corpus / RECEPTION,
        [["Progetto SAI Bergamo - ospiti segnalati al CPI"], [], header, *body],
        merges=["A1:J1"],
        bold_rows=[1, 3],
        date_cols=[4],
        sheet="Ospiti",
    )
    expect(
        RECEPTION,
        accepted=10,
        rejected=0,
        sender="AMBITO-BG",
        note="local mobiles of PE, CO, EC, MA, SN, BO, CI, NG read by citizenship or birth place",
    )


def _parish(corpus: Path, expect: Expect) -> None:
    """72. A parish list (cp1252, ';'): phone cells with notes, extensions, two numbers, letters."""
    header = ["Cognome", "Nome", "Data di nascita", "Telefono", "Comune di residenza", "Note", "Consenso privacy"]
    rows = [
        ["Rota", "Giuseppe", "03/04/1961", "035/123456", "Ponte San Pietro", "", "SI"],
        ["Pesenti", "Angela", "17/10/1958", "035 12 34 56 ore pasti", "Bergamo", "vedova", "SI"],
        ["Carminati", "Luca", "22/06/1979", "333 1234567 / 035 123456", "Curno", "", "SI"],
        ["Gamba", "Elisa", "08/02/1984", "tel. 347 998 8776 (figlia)", "Bergamo", "", "SI"],
        ["Locatelli", "Marco", "30/09/1970", "035 4128765 int. 12", "Dalmine", "", "SI"],
        ["Ravasio", "Paola", "11/11/1966", "345-ABC-1234", "Seriate", "numero da verificare", "SI"],
        ["Bonomi", "Franco", "05/05/1955", "chiedere in segreteria", "Bergamo", "", "SI"],
        ["Cortinovis", "Anna", "19/01/1990", "12", "Stezzano", "", "SI"],
        ["Ahmed", "Karim", "27/07/1992", "0039 320 1122334 - 035 224466", "Bergamo", "", "SI"],
        ["Mazzoleni", "Rita", "14/03/1949", "+39 0363 123456 (casa)", "Treviglio", "", "SI"],
    ]
    write_csv(corpus / PARISH, header, rows, encoding="cp1252")
    expect(
        PARISH,
        accepted=10,
        rejected=0,
        note="phones with notes, extension, two numbers; letters, words and '12' dropped with a warning",
    )


def _web_form(corpus: Path, expect: Expect) -> None:
    """73. A web-form export (UTF-8 BOM, ','): spreadsheet formulas typed or pasted into names."""
    header = ["Cognome", "Nome", "Data di nascita", "Comune", "Esperienze", "Consenso"]
    rows = [
        ['=HYPERLINK("http://example.org/scheda?id=17","Rossi")', "Mario", "1980-03-01", "Bergamo", "", "si"],
        ["@Conti", "Sara", "1992-11-20", "Bergamo", "cameriera", "si"],
        ["-Ferrari", "Luigi", "1975-06-15", "Seriate", "", "si"],
        ["Esposito", "=B2", "1988-01-09", "Dalmine", "", "si"],
        ["Greco", "Anna", "1990-04-04", "Bergamo", "=magazzino+pulizie", "si"],
        ["Ricci", "Paolo", "1983-08-18", "Albino", "- saldatore\n- carpentiere", "si"],
        ["Marino", "Giulia", "1997-02-27", "Bergamo", "commessa", "si"],
        ["Lombardi", "Chiara", "1986-12-12", "Treviglio", "+ badante", "si"],
        ["Costa", 'HYPERLINK("http://example.org";"Elena")', "1994-05-21", "Bergamo", "", "si"],
    ]
    write_csv(corpus / FORMULAS, header, rows, encoding="utf-8-sig", delimiter=",", newline="\n")
    expect(
        FORMULAS,
        accepted=4,
        rejected=5,
        sender="ASSOC-MONDO-MIGRANTE",
        note="names that are formulas refused; formula-like experiences accepted (neutralised on export)",
    )


def _portal_tax_codes(corpus: Path, expect: Expect) -> None:
    """74. A portal's JSON export (English keys): every kind of codice fiscale defect."""
    born = date(1984, 3, 9)
    male = tax_code("Gashi", "Arben", "M", born, "Bergamo")
    female = tax_code("Hoxha", "Drita", "F", date(1991, 12, 30), "Albania")
    rng = random.Random(74)
    provisional = temporary_tax_code(rng)
    wrong_digit = (lambda c: c[:10] + str((int(c[10]) + 3) % 10))(temporary_tax_code(rng))
    items = [
        ("Gashi", "Arben", "M", born, male),
        ("Gashi", "Arben", "M", born, omocode(male, 2).lower()[:8] + " " + omocode(male, 2).lower()[8:]),
        ("Tesfay", "Yonas", "M", date(1998, 1, 1), provisional),
        ("Haile", "Senait", "F", date(2000, 6, 6), wrong_digit),
        ("Gashi", "Arben", "M", born, corrupt_check_char(male)),
        ("Gashi", "Arben", "M", born, male[:15]),
        ("Gashi", "Arben", "M", born, male[:8] + "F" + male[9:]),
        ("Gashi", "Arben", "M", date(1984, 3, 19), male),
        ("Gashi", "Arbena", "F", born, male),
        ("Hoxha", "Drita", "donna", date(1991, 12, 30), female),
    ]
    data = [
        {
            "surname": family,
            "name": given,
            "sex": sex,
            "date of birth": birth.isoformat(),
            "tax code": code,
            "city": "Bergamo",
            "consent": "yes",
        }
        for family, given, sex, birth, code in items
    ]
    (corpus / TAX_CODES).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    expect(
        TAX_CODES,
        accepted=4,
        rejected=6,
        sender="ASSOC-RIFUGIATI-BG",
        note="valid, omocode, provisional; wrong check digit/character, length, month letter, date, sex",
    )
