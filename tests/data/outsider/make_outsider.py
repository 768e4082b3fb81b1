"""Partner files written by an outsider to the importer (issue 17): how partners really write them.

Run ``python -m tests.data.outsider.make_outsider`` to rewrite the files; expected.yaml is hand-written.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent


def write_csv(name: str, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    (HERE / name).write_bytes(buf.getvalue().encode(encoding))


def caritas_google_sheets() -> None:
    write_csv(
        "o01_caritas_google_sheets.csv",
        [
            [
                "Cognome",
                "Nome",
                "Data di nascita",
                "Paese di nascita",
                "Cellulare",
                "Email",
                "Residenza",
                "Consenso privacy",
                "Note volontario",
            ],
            [
                "Diallo",
                "Mamadou",
                "1991-04-12",
                "Senegal",
                "cell. 347 123 4567",
                "mamadou.d@gmail.com",
                "Via Roma 3, 24047 Treviglio BG",
                "Sì",
                "cerca lavoro in magazzino",
            ],
            [
                "Rossi",
                "Giovanna",
                "5/3/86",
                "Italia",
                "cell. 333-2211456",
                "",
                "Via Bergamo 12, 24047 Treviglio (BG)",
                "Sì",
                "",
            ],
            [
                "El Amrani",
                "Youssef",
                "1979-11-30",
                "Marocco",
                "Tel. 0363 41 22 10",
                "y.elamrani@libero.it",
                "Caravaggio",
                "si",
                "ha patente B",
            ],
            ["", "Fatima", "1995-02-01", "Marocco", "cell. 320 998 7766", "", "Treviglio", "Sì", "cognome da chiedere"],
            [
                "Popescu",
                "Ioana",
                "12/10/1988",
                "Romania",
                "+40 721 234 567",
                "ioana.popescu@yahoo.com",
                "senza fissa dimora",
                "Sì",
                "dorme al dormitorio",
            ],
            [
                "Okafor",
                "Chinedu",
                "1990-07-21",
                "Nigeria",
                "cell. 351 445 6677",
                "",
                "Via Mazzini 8, 24043 Caravaggio BG",
                "Sì",
                "",
            ],
        ],
    )


def comune_xlsx() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Segnalazioni"
    ws["A1"] = "COMUNE DI SERIATE - Settore Servizi Sociali"
    ws.merge_cells("A1:H1")
    ws["A2"] = "Elenco persone segnalate al CPI - marzo 2026"
    ws.merge_cells("A2:H2")
    ws["A4"] = "Dati anagrafici"
    ws.merge_cells("A4:C4")
    ws["D4"] = "Recapiti"
    ws.merge_cells("D4:E4")
    for col, text in zip(
        "ABCDEFGH",
        [
            "Cognome",
            "Nome",
            "Nato/a il",
            "Telefono",
            "E-mail",
            "Comune di residenza",
            "Consenso trattamento dati",
            "Note assistente sociale",
        ],
        strict=True,
    ):
        ws[f"{col}5"] = text
    rows: list[list[object]] = [
        ["Bonetti", "Marco", date(1972, 6, 3), "035 29 11 22", "", "Seriate", "SI", "disoccupato da 2 anni"],
        [
            "Kone",
            "Awa",
            date(1998, 1, 17),
            "3289876543",
            "awa.kone@gmail.com",
            "Seriate (BG)",
            "SI",
            "mamma sola, part-time",
        ],
        ["Ferrari", "Luca", "14/09/1983", "347.555.12.34", "", "Pedrengo", "SI", ""],
        ["Gashi", "Arben", date(1969, 12, 24), "+39 340 111 2233", "", "Grassobbio", "SI", "invalidità 46%"],
        ["Colombo", "Sara", date(2001, 3, 9), "", "sara.colombo01@gmail.com", "Seriate", "SI", ""],
    ]
    for r, row in enumerate(rows, start=6):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    ws.cell(row=12, column=1, value="Compilato da: A.S. dott.ssa Bianchi")
    wb.save(HERE / "o02_comune_seriate_title_block.xlsx")


def cpia_english() -> None:
    write_csv(
        "o03_cpia_english.csv",
        [
            [
                "Surname",
                "First name",
                "Date of birth",
                "Nationality",
                "Mobile",
                "E-mail",
                "Town",
                "Italian level",
                "Consent",
            ],
            [
                "Hossain",
                "Rahim",
                "03/05/1994",
                "Bangladesh",
                "+39 389 123 4455",
                "rahim.h@gmail.com",
                "Bergamo",
                "A2",
                "yes",
            ],
            ["Singh", "Gurpreet", "21/08/1987", "India", "3201234567", "", "Dalmine", "A1", "yes"],
            ["Mensah", "Kwame", "31/02/1990", "Ghana", "328 765 4321", "kmensah@yahoo.com", "Bergamo", "B1", "yes"],
            ["Ahmadi", "Zahra", "15/11/2000", "Afghanistan", "351 222 3344", "", "Stezzano", "A2", "yes"],
            [
                "Silva",
                "Ana Paula",
                "07/07/1985",
                "Brazil",
                "+55 11 98765 4321",
                "anapaula.silva@hotmail.com",
                "Bergamo",
                "B2",
                "yes",
            ],
        ],
    )


def ukrainian_association() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Список"
    ws.append(["Прізвище", "Ім'я", "Дата народження", "Телефон", "Місто", "Електронна пошта", "Згода"])
    ws.append(["Шевченко", "Олена", "12.04.1985", "097 772 97 95", "Бергамо", "olena.shev@ukr.net", "так"])
    ws.append(["Kovalenko", "Iryna", "03.09.1979", "+380 67 123 4567", "Bergamo", "", "так"])
    ws.append(["Бондаренко", "Andrii", date(1992, 2, 28), "380501234567", "Seriate", "andrii.b@gmail.com", "Так"])
    ws.append(["Мельник", "Тетяна", "30.06.1970", "+39 345 678 9012", "Dalmine", "", "так"])
    ws.append(["Ткаченко", "Оксана", "1988-10-10", "063 111 22 33", "Treviglio", "", "так"])
    wb.save(HERE / "o04_ukraine_association.xlsx")


def consent_marks() -> None:
    write_csv(
        "o05_consent_marks.csv",
        [
            [
                "Cognome",
                "Nome",
                "Data nascita",
                "Comune",
                "Tel",
                "Consenso al trattamento",
                "Consenso invio alle aziende",
            ],
            ["Bianchi", "Paolo", "01/02/1980", "Albino", "3331234567", "Sì", "Sì"],
            ["Traoré", "Moussa", "14/07/1996", "Nembro", "3402223344", "x", "x"],
            ["Verdi", "Elisa", "23/12/1990", "Alzano Lombardo", "3475556677", "✓", ""],
            ["Nikolić", "Dragan", "09/09/1975", "Albino", "3209998877", "SI", "No"],
            ["Ruiz", "Carmen", "30/04/1983", "Gazzaniga", "3516667788", "sì", "no"],
            ["Gjoka", "Elton", "18/01/1999", "Albino", "3284445566", "No", "No"],
        ],
        delimiter=";",
        encoding="utf-8-sig",
    )


def no_consent_two_phones() -> None:
    write_csv(
        "o06_no_consent_two_phones.csv",
        [
            ["Cognome", "Nome", "Data di nascita", "Città", "Telefono", "Telefono", "Email"],
            ["Mazza", "Giorgio", "12/03/1970", "Bergamo", "347 111 2222", "035 123456", ""],
            ["Ba", "Aminata", "02/02/1993", "Zingonia", "329 333 4444", "", "aminata.ba@gmail.com"],
            ["Cortesi", "Anna", "25/05/1962", "Romano di Lomb.", "", "0363 902211", ""],
            ["Cognome", "Nome", "Data di nascita", "Città", "Telefono", "Telefono", "Email"],
            ["Lopez", "Miguel", "11/11/1989", "Dalmine (Bg)", "+51 987 654 321", "", "miguel.lopez@gmail.com"],
        ],
    )


def formulas_and_bad_phones() -> None:
    write_csv(
        "o07_formulas_bad_phones.csv",
        [
            ["Cognome", "Nome", "Data di nascita", "Comune di residenza", "Telefono", "E-mail", "Consenso"],
            ['=HYPERLINK("http://x.example","Rossi")', "Mario", "01/01/1980", "Bergamo", "3451234567", "", "SI"],
            ["Brambilla", "Carla", "10/10/1977", "Bergamo", "345-ABC-1234", "carla.b@gmail.com", "SI"],
            ["Pesenti", "Giulio", "04/04/1984", "Torre de' Busi", "n.d.", "giulio.pesenti@gmail.com", "SI"],
            ["Salvi", "Marta", "19/06/1991", "", "3398887766", "", "SI"],
            ["Milesi", "Franco", "07/08/1966", "Milano", "3387776655", "", "SI"],
        ],
        delimiter=";",
    )


def vacancies_consultant() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Posizioni aperte"
    ws["A1"] = "Ricerche di personale aziende associate - aggiornamento dicembre"
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(["Azienda", "Posizione ricercata", "Sede di lavoro", "N. posti", "Requisiti", "Scadenza", "Note"])
    ws.append(
        [
            "Officine Valseriana",
            "Operaio metalmeccanico",
            "Albino",
            2,
            "patente B / italiano A2 / disponibilità turni",
            "entro fine mese",
            "",
        ]
    )
    ws.append(
        [
            "OFFICINE MECCANICHE VALSERIANA SRL",
            "Saldatore",
            "Albino (BG)",
            1,
            "patentino saldatura\nitaliano B1",
            "scadenza 31.12.2026",
            "urgente",
        ]
    )
    ws.append(
        [
            "Gomma Tecnica Isola spa",
            "Addetto stampaggio gomma",
            "Bonate Sotto",
            3,
            "turni 3x8 / italiano base",
            "31/01/2027",
            "",
        ]
    )
    ws.append(["Brembo", "Addetto montaggio", "Curno", 5, "patente B", "28/02/2027", "non so se associata"])
    ws.append(
        [
            "Fratelli Rota srl - Albano S.A.",
            "Magazziniere",
            "Albano Sant'Alessandro",
            1,
            "muletto / patente B",
            "15/01/2027",
            "",
        ]
    )
    ws.append(
        [
            "Orio Hub Logistica",
            "Carrellista",
            "Orio al Serio",
            4,
            "patentino muletto\nitaliano A2\nturni notturni",
            "scad. 30/11/2026",
            "già chiusa?",
        ]
    )
    wb.save(HERE / "o08_vacancies_consultant.xlsx")


def vacancies_csv() -> None:
    write_csv(
        "o09_vacancies_company_names.csv",
        [
            [
                "Ragione sociale",
                "Partita IVA",
                "Profilo",
                "Luogo di lavoro",
                "Numero posti",
                "Requisiti richiesti",
                "Data scadenza",
                "Livello di italiano",
            ],
            [
                "Caseificio Pianalto",
                "",
                "Addetto produzione formaggi",
                "Bergamo",
                "2",
                "HACCP / turni",
                "2027-01-31",
                "A2",
            ],
            [
                "Supermercati Orobici",
                "IT",
                "Scaffalista",
                "Dalmine",
                "3",
                "disponibilità weekend",
                "31.01.2027",
                "non richiesto",
            ],
            [
                "Tessitura Valgandino S.p.A.",
                "44170990160",
                "Tessitore",
                "Gandino",
                "1",
                "esperienza telai",
                "28/02/2027",
                "A1",
            ],
            ["Forno del Serio", "", "Panettiere", "Seriate", "2", "lavoro notturno", "entro fine gennaio", "A2"],
            ["Curainsieme coop. sociale", "", "OSS", "Bergamo", "4", "attestato OSS / patente B", "31/03/2027", "B1"],
        ],
    )


def build() -> None:
    caritas_google_sheets()
    comune_xlsx()
    cpia_english()
    ukrainian_association()
    consent_marks()
    no_consent_two_phones()
    formulas_and_bad_phones()
    vacancies_consultant()
    vacancies_csv()


if __name__ == "__main__":
    build()
