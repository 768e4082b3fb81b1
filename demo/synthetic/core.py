"""Seeded synthetic data for the Incontro demo.

Why: the demo must show the importer, de-duplication, matching and the operator
intake on data that looks like what Bergamo partners really send (Italian Excel
CSVs in cp1252, Cyrillic names, transliteration variants, the odd broken row)
without ever touching a real person. Everything here is driven by one seed so
the same seed always yields byte-identical files.
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from codicefiscale import codicefiscale as cf
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"

REFERENCE_DATE = date(2026, 1, 15)
"""The demo's "today": ages, deadlines and extraction dates are relative to it."""

FIXED_TIMESTAMP = datetime(2026, 1, 15, 8, 0, 0)  # noqa: DTZ001 - XLSX metadata is naive by format
"""Written into XLSX metadata and zip entries so files are byte-identical across runs."""

CARITAS_TITLE = "Caritas Diocesana Bergamasca - Segnalazioni"

REFERRAL_HEADERS: tuple[str, ...] = (
    "Cognome",
    "Nome",
    "Data di nascita",
    "Sesso",
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
    "Livello italiano",
    "Consenso privacy",
    "Consenso Confindustria",
)

VACANCY_HEADERS: tuple[str, ...] = (
    "Azienda",
    "Mansione",
    "Sede",
    "Requisiti",
    "Livello di italiano",
    "Patente",
    "Tipo contratto",
    "Posti",
    "Scadenza",
)

CEFR_LEVELS: tuple[str, ...] = ("pre-A1", "A1", "A2", "B1", "B2", "C1", "C2")
ITALIAN_SKILLS: tuple[str, ...] = ("listening", "reading", "speaking", "writing")

# File formats a partner may send.
FMT_XLSX = "xlsx"
FMT_CSV_CP1252 = "csv_cp1252"
FMT_CSV_UTF8_BOM = "csv_utf8_bom"
FMT_CSV_CYRILLIC = "csv_utf8_cyrillic"

UNKNOWN_MUNICIPALITIES: tuple[str, ...] = (
    "Roccacannuccia",
    "Borgo Fantasma",
    "Vattelapesca",
    "Cittanova del Serio",
)

BAD_KINDS: tuple[str, ...] = (
    "invalid_date",
    "cf_checksum",
    "missing_surname",
    "invalid_email",
    "unknown_municipality",
)

# --------------------------------------------------------------------------------------
# Name pools. Ukrainian entries: (Cyrillic, official KMU-2010 Latin, *common variants).
# --------------------------------------------------------------------------------------

UA_MALE: tuple[tuple[str, ...], ...] = (
    ("Олександр", "Oleksandr", "Olexandr", "Aleksandr", "Alexandr"),
    ("Сергій", "Serhii", "Sergii", "Sergey", "Serhiy"),
    ("Микола", "Mykola", "Nikolay", "Mikola"),
    ("Андрій", "Andrii", "Andrey", "Andriy"),
    ("Дмитро", "Dmytro", "Dmitry", "Dmitro"),
    ("Віктор", "Viktor", "Victor"),
    ("Іван", "Ivan"),
    ("Юрій", "Yurii", "Iurii", "Yuriy", "Yuri"),
    ("Василь", "Vasyl", "Vasil", "Vasily"),
    ("Богдан", "Bohdan", "Bogdan"),
    ("Максим", "Maksym", "Maksim", "Maxim"),
    ("Олег", "Oleh", "Oleg"),
    ("Володимир", "Volodymyr", "Vladimir", "Volodimir"),
    ("Артем", "Artem", "Artyom"),
)
UA_FEMALE: tuple[tuple[str, ...], ...] = (
    ("Юлія", "Yuliia", "Yulia", "Iuliia", "Yuliya"),
    ("Катерина", "Kateryna", "Ekaterina", "Katerina"),
    ("Олена", "Olena", "Elena"),
    ("Тетяна", "Tetiana", "Tatiana", "Tetyana"),
    ("Наталія", "Nataliia", "Natalia", "Nataliya"),
    ("Оксана", "Oksana"),
    ("Ірина", "Iryna", "Irina"),
    ("Світлана", "Svitlana", "Svetlana"),
    ("Ганна", "Hanna", "Anna", "Ganna"),
    ("Людмила", "Liudmyla", "Lyudmila", "Ludmila"),
    ("Вікторія", "Viktoriia", "Victoria", "Viktoriya"),
    ("Анастасія", "Anastasiia", "Anastasia"),
    ("Марія", "Mariia", "Maria"),
    ("Галина", "Halyna", "Galina"),
)
UA_SURNAMES: tuple[tuple[str, ...], ...] = (
    ("Шевченко", "Shevchenko", "Shevcenko"),
    ("Коваленко", "Kovalenko", "Kowalenko"),
    ("Бондаренко", "Bondarenko"),
    ("Ткаченко", "Tkachenko", "Tkacenko"),
    ("Кравченко", "Kravchenko", "Kravcenko"),
    ("Мельник", "Melnyk", "Melnik"),
    ("Бойко", "Boiko", "Boyko"),
    ("Ковальчук", "Kovalchuk", "Kovalciuk"),
    ("Олійник", "Oliinyk", "Oliynyk", "Oleinik"),
    ("Поліщук", "Polishchuk", "Polischuk"),
    ("Савченко", "Savchenko", "Savcenko"),
    ("Руденко", "Rudenko"),
    ("Мороз", "Moroz"),
    ("Лисенко", "Lysenko", "Lisenko"),
    ("Петренко", "Petrenko"),
    ("Марченко", "Marchenko"),
    ("Кузьменко", "Kuzmenko"),
    ("Гончаренко", "Honcharenko", "Goncharenko"),
    ("Зінченко", "Zinchenko"),
    ("Павленко", "Pavlenko"),
    ("Клименко", "Klymenko", "Klimenko"),
    ("Харченко", "Kharchenko", "Harchenko"),
    ("Савчук", "Savchuk", "Savciuk"),
    ("Романюк", "Romaniuk", "Romanyuk"),
)

IT_MALE: tuple[str, ...] = (
    "Nicolò",
    "Mattia",
    "Francesco",
    "Luca",
    "Andrea",
    "Antonio",
    "Salvatore",
    "Gian Luca",
    "Alessio",
    "Pasquale",
    "Gaetano",
    "Simone",
    "Davide",
    "Giuseppe",
    "Mosè",
)
IT_FEMALE: tuple[str, ...] = (
    "Giuseppina",
    "Giulia",
    "Chiara",
    "Rosaria",
    "Maria Grazia",
    "Sara",
    "Michela",
    "Concetta",
    "Federica",
    "Noemi",
    "Annalisa",
    "Carmela",
)
IT_SURNAMES: tuple[str, ...] = (
    "D'Amico",
    "Rossi",
    "Bonfanti",
    "Locatelli",
    "Pesenti",
    "Rota",
    "Gritti",
    "Ghisleni",
    "Esposito",
    "Russo",
    "De Luca",
    "Di Stefano",
    "Lo Russo",
    "Carminati",
    "Mazzoleni",
    "Cortinovis",
    "Zappalà",
    "Cannavò",
    "Rota Martir",
    "Locatelli Milesi",
    "Ferrari Bonetti",
    "Mazzoleni Ferracini",
    "Dell'Orto",
    "Pirrò",
)
IT_BIRTHPLACES: tuple[tuple[str, float], ...] = (
    ("Bergamo", 4.0),
    ("Seriate", 1.0),
    ("Treviglio", 1.0),
    ("Alzano Lombardo", 0.6),
    ("Dalmine", 0.6),
    ("Milano", 1.0),
    ("Brescia", 0.5),
    ("Napoli", 1.2),
    ("Palermo", 1.0),
    ("Foggia", 0.6),
    ("Catania", 0.7),
)

# country -> (weight, male given, female given, surnames, languages)
ARABIC: dict[
    str,
    tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]],
] = {
    "Marocco": (
        0.45,
        (
            "Mohamed",
            "Mohammed",
            "Youssef",
            "Hamza",
            "Ayoub",
            "Mehdi",
            "Karim",
            "Abderrahim",
            "Omar",
        ),
        ("Fatima Zahra", "Khadija", "Salma", "Meryem", "Nadia", "Samira", "Hafsa"),
        (
            "El Amrani",
            "Bennani",
            "El Idrissi",
            "Benali",
            "Ouali",
            "Chakir",
            "Lahlou",
            "El Fassi",
            "Berrada",
        ),
        ("arabo", "francese"),
    ),
    "Egitto": (
        0.2,
        ("Mohamed", "Ahmed", "Mostafa", "Mahmoud", "Karim", "Omar"),
        ("Aya", "Rania", "Mariam", "Nour", "Heba"),
        ("Abdel Rahman", "Mostafa", "Hassan", "Ibrahim", "El Sayed", "Abdelaziz"),
        ("arabo", "inglese"),
    ),
    "Tunisia": (
        0.15,
        ("Mohamed", "Youssef", "Amine", "Bilel", "Hamza", "Walid"),
        ("Amina", "Sana", "Ines", "Rim", "Mariem"),
        ("Ben Salah", "Trabelsi", "Jebali", "Gharbi", "Ben Ammar", "Mejri"),
        ("arabo", "francese"),
    ),
    "Pakistan": (
        0.2,
        ("Muhammad", "Imran", "Bilal", "Usman", "Asif", "Ali", "Hassan"),
        ("Ayesha", "Sana", "Zainab", "Nadia", "Fatima"),
        ("Khan", "Hussain", "Iqbal", "Malik", "Butt", "Ahmed", "Raza", "Shah"),
        ("urdu", "punjabi", "inglese"),
    ),
}
WEST_AFRICAN: dict[
    str,
    tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]],
] = {
    "Senegal": (
        0.3,
        ("Mamadou", "Ousmane", "Cheikh", "Moussa", "Ibrahima", "Abdoulaye", "Modou"),
        ("Fatou", "Awa", "Aminata", "Mariama", "Khady", "Ndeye"),
        (
            "Diallo",
            "Sow",
            "Ndiaye",
            "Diop",
            "Fall",
            "Gueye",
            "Seck",
            "Sarr",
            "Faye",
            "Ba",
        ),
        ("wolof", "francese"),
    ),
    "Mali": (
        0.15,
        ("Mamadou", "Moussa", "Seydou", "Bakary", "Boubacar", "Adama"),
        ("Fatoumata", "Aminata", "Oumou", "Kadiatou", "Assitan"),
        (
            "Traoré",
            "Coulibaly",
            "Keïta",
            "Diarra",
            "Konaté",
            "Touré",
            "Sissoko",
            "Camara",
        ),
        ("bambara", "francese"),
    ),
    "Nigeria": (
        0.2,
        ("Chukwuemeka", "Chinedu", "Oluwaseun", "Emeka", "Ifeanyi", "Godwin", "Festus"),
        ("Blessing", "Chiamaka", "Ngozi", "Adaeze", "Precious", "Joy"),
        ("Okafor", "Okonkwo", "Adeyemi", "Eze", "Nwosu", "Obi", "Ogunleye", "Bello"),
        ("inglese", "igbo"),
    ),
    "Costa d'Avorio": (
        0.15,
        ("Kouassi", "Koffi", "Yao", "Sékou", "Lassina"),
        ("Adjoua", "Aya", "Affoué", "Mariam", "Awa"),
        ("Kouamé", "Koné", "Ouattara", "Bamba", "N'Guessan", "Kouadio", "Touré"),
        ("francese", "dioula"),
    ),
    "Burkina Faso": (
        0.1,
        ("Issouf", "Boukary", "Salif", "Rasmané", "Adama"),
        ("Alimata", "Awa", "Mariam", "Safiatou"),
        ("Ouédraogo", "Sawadogo", "Compaoré", "Zongo", "Kaboré", "Traoré"),
        ("mooré", "francese"),
    ),
    "Gambia": (
        0.1,
        ("Lamin", "Ebrima", "Modou", "Alieu", "Omar"),
        ("Isatou", "Fatou", "Mariama", "Haddy"),
        ("Jallow", "Ceesay", "Bah", "Touray", "Jammeh", "Sanneh", "Darboe"),
        ("mandinka", "inglese", "wolof"),
    ),
}
LATIN_AMERICAN: dict[
    str,
    tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]],
] = {
    "Perù": (
        0.3,
        ("José Luis", "Juan Carlos", "Luis Alberto", "Jorge", "Wilmer", "Edwin"),
        ("María Elena", "Rosa María", "Carmen", "Yesenia", "Milagros", "Luz Marina"),
        (
            "Quispe",
            "Mamani",
            "Huamán",
            "Flores",
            "Chávez",
            "Rojas",
            "Vargas",
            "Ramos",
            "Condori",
            "García",
        ),
        ("spagnolo", "quechua"),
    ),
    "Ecuador": (
        0.25,
        ("Jefferson", "Byron", "Darwin", "Kevin", "Jhon"),
        ("Mayra", "Gabriela", "Jessica", "Diana", "Mishell"),
        ("Zambrano", "Vera", "Cedeño", "Guamán", "Macías", "Mora", "Cevallos", "Loor"),
        ("spagnolo",),
    ),
    "Bolivia": (
        0.15,
        ("Freddy", "Rolando", "Wilson", "Marco Antonio"),
        ("Juana", "Elizabeth", "Wilma", "Roxana"),
        ("Mamani", "Choque", "Quispe", "Condori", "Flores", "Gutiérrez", "Limachi"),
        ("spagnolo", "aymara"),
    ),
    "Colombia": (
        0.15,
        ("Juan David", "Andrés Felipe", "Carlos Andrés", "Jhonatan"),
        ("María Fernanda", "Luisa Fernanda", "Diana Marcela", "Paola Andrea"),
        (
            "Gómez",
            "Rodríguez",
            "Martínez",
            "Ramírez",
            "Castaño",
            "Muñoz",
            "Ospina",
            "Restrepo",
        ),
        ("spagnolo",),
    ),
    "El Salvador": (
        0.15,
        ("José Ernesto", "Marvin", "Kevin Alexander", "Nelson"),
        ("Wendy", "Karla Patricia", "Ana Cecilia", "Yanira"),
        ("Hernández", "López", "Martínez", "Alvarado", "Rivera", "Portillo", "Mejía"),
        ("spagnolo",),
    ),
}

# Known spelling variants of non-Ukrainian names, used for duplicate rows.
LATIN_NAME_VARIANTS: dict[str, tuple[str, ...]] = {
    "Mohamed": ("Mohammed", "Muhammad", "Mohammad"),
    "Mohammed": ("Mohamed", "Muhammad"),
    "Muhammad": ("Mohammad", "Mohamed"),
    "Youssef": ("Yousef", "Youssouf", "Yusuf"),
    "Ahmed": ("Ahmad",),
    "Hussain": ("Hussein", "Husain"),
    "El Amrani": ("Elamrani", "Al Amrani"),
    "El Idrissi": ("Elidrissi", "Idrissi"),
    "El Fassi": ("Elfassi",),
    "El Sayed": ("Elsayed", "El Said"),
    "Ben Salah": ("Bensalah",),
    "Ben Ammar": ("Benammar",),
    "Abdel Rahman": ("Abdelrahman", "Abd El Rahman"),
    "Fatima Zahra": ("Fatimazahra", "Fatima-Zahra", "Fatima"),
    "Mamadou": ("Mamadu",),
    "Coulibaly": ("Kulibaly", "Koulibaly"),
    "N'Guessan": ("Nguessan", "N Guessan"),
    "Chukwuemeka": ("Chukwuemaka", "Emeka"),
    "Ousmane": ("Usman", "Ousman"),
    "Jhonatan": ("Jonathan", "Johnatan"),
    "Jhon": ("John",),
    "Nicolò": ("Nicolo'", "Niccolò", "Nicolo"),
    "Mosè": ("Mose'",),
    "Zappalà": ("Zappala'",),
    "Cannavò": ("Cannavo'",),
    "Pirrò": ("Pirro'",),
    "D'Amico": ("D Amico", "Damico"),
    "Dell'Orto": ("Dellorto", "Dell Orto"),
}

# --------------------------------------------------------------------------------------
# Job catalogue: how referrers type experiences and how companies title vacancies.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """One family of jobs, in the words each actor actually uses for it."""

    key: str
    it_m: tuple[str, ...]
    it_f: tuple[str, ...]
    uk_m: tuple[str, ...]
    uk_f: tuple[str, ...]
    en: tuple[str, ...]
    weight_m: float
    weight_f: float
    vacancy_titles: tuple[str, ...]
    skills: tuple[str, ...]
    italian_req: str
    sector_words: tuple[str, ...]


def _jk(
    key: str,
    it: tuple[tuple[str, ...], tuple[str, ...]],
    uk: tuple[tuple[str, ...], tuple[str, ...]],
    en: tuple[str, ...],
    weights: tuple[float, float],
    titles: tuple[str, ...],
    skills: tuple[str, ...],
    italian_req: str,
    sector_words: tuple[str, ...],
) -> JobKind:
    return JobKind(
        key,
        it[0],
        it[1],
        uk[0],
        uk[1],
        en,
        weights[0],
        weights[1],
        titles,
        skills,
        italian_req,
        sector_words,
    )


JOB_KINDS: tuple[JobKind, ...] = (
    _jk(
        "caregiver",
        (
            ("badante", "assistenza anziani"),
            ("badante", "badante convivente", "assistenza anziani"),
        ),
        (("доглядач",), ("доглядальниця",)),
        ("caregiver", "elderly care"),
        (0.2, 1.2),
        ("Assistente familiare", "Badante convivente"),
        ("assistenza alla persona", "igiene personale", "preparazione pasti"),
        "A2",
        ("assisten", "famil", "domest", "care", "sanit", "social"),
    ),
    _jk(
        "cleaner",
        (
            ("addetto pulizie", "pulizie industriali"),
            ("addetta pulizie", "pulizie uffici", "pulizie"),
        ),
        (("прибиральник",), ("прибиральниця",)),
        ("cleaner", "housekeeping"),
        (0.5, 1.2),
        ("Addetto/a pulizie industriali", "Addetto/a pulizie uffici"),
        ("uso lavasciuga", "prodotti detergenti", "disponibilità su turni"),
        "A1",
        ("puliz", "clean", "facility", "serviz", "multiserv"),
    ),
    _jk(
        "metal_worker",
        (
            ("operaio metalmeccanico", "operaio generico", "operaio in fabbrica"),
            ("operaia metalmeccanica", "operaia generica"),
        ),
        (("робітник на заводі",), ("робітниця на заводі",)),
        ("factory worker",),
        (1.0, 0.3),
        ("Operaio/a metalmeccanico/a", "Addetto/a montaggio meccanico"),
        ("lettura disegno tecnico", "uso avvitatore", "lavoro su turni"),
        "A2",
        ("metal", "mecc", "mechan", "automotive", "manifatt", "manufact"),
    ),
    _jk(
        "cnc_operator",
        (("operatore CNC", "tornitore", "fresatore"), ("operatrice CNC",)),
        (("оператор ЧПК", "токар"), ("операторка ЧПК",)),
        ("CNC operator", "machinist"),
        (0.8, 0.1),
        ("Operatore CNC", "Operatore macchine utensili CNC", "Tornitore CNC"),
        ("lettura disegno tecnico", "strumenti di misura", "programmazione ISO base"),
        "B1",
        ("metal", "mecc", "mechan", "automotive", "manifatt", "manufact"),
    ),
    _jk(
        "welder",
        (("saldatore", "saldatore a filo"), ("saldatrice",)),
        (("зварник",), ("зварниця",)),
        ("welder",),
        (0.9, 0.05),
        ("Saldatore TIG", "Saldatore MIG/MAG", "Saldatore a filo"),
        ("saldatura TIG", "saldatura MIG/MAG", "lettura disegno tecnico"),
        "A2",
        ("metal", "mecc", "carpent", "steel", "manufact"),
    ),
    _jk(
        "warehouse",
        (
            ("magazziniere con patentino muletto", "magazziniere", "mulettista"),
            ("magazziniera", "addetta magazzino"),
        ),
        (("комірник", "вантажник"), ("комірниця",)),
        ("warehouse worker", "forklift driver"),
        (1.0, 0.4),
        (
            "Magazziniere carrellista",
            "Addetto/a magazzino",
            "Carrellista con patentino",
        ),
        ("patentino muletto", "uso terminale RF", "picking"),
        "A2",
        ("logist", "magazz", "wareh", "trasport", "distrib", "commerc", "retail"),
    ),
    _jk(
        "kitchen_helper",
        (
            ("aiuto cuoco", "lavapiatti", "aiuto cucina"),
            ("aiuto cuoca", "lavapiatti", "aiuto cucina"),
        ),
        (("помічник кухаря",), ("помічниця кухаря", "посудомийниця")),
        ("kitchen assistant", "dishwasher"),
        (0.7, 0.8),
        ("Aiuto cuoco", "Addetto/a cucina", "Lavapiatti"),
        ("HACCP", "preparazione alimenti", "pulizia cucina"),
        "A1",
        ("ristor", "food", "aliment", "hospit", "alberg", "turis", "catering", "mensa"),
    ),
    _jk(
        "cook",
        (("cuoco",), ("cuoca",)),
        (("кухар",), ("кухарка",)),
        ("cook", "chef"),
        (0.5, 0.5),
        ("Cuoco/a", "Cuoco/a capopartita"),
        ("HACCP", "cucina italiana", "gestione ordini"),
        "A2",
        ("ristor", "food", "aliment", "hospit", "alberg", "turis", "catering", "mensa"),
    ),
    _jk(
        "waiter",
        (("cameriere", "barista"), ("cameriera", "barista")),
        (("офіціант",), ("офіціантка",)),
        ("waiter", "bartender"),
        (0.5, 0.8),
        ("Cameriere/a di sala", "Barista"),
        ("servizio ai tavoli", "caffetteria", "contatto con il pubblico"),
        "B1",
        ("ristor", "hospit", "alberg", "turis", "bar"),
    ),
    _jk(
        "construction",
        (("muratore", "manovale edile", "carpentiere edile"), ("manovale edile",)),
        (("муляр", "будівельник"), ("будівельниця",)),
        ("construction worker", "bricklayer"),
        (1.0, 0.02),
        ("Muratore", "Manovale edile", "Carpentiere edile"),
        ("corso sicurezza cantiere", "lettura progetti", "uso attrezzi edili"),
        "A2",
        ("edil", "costru", "constr", "cantier", "impiant"),
    ),
    _jk(
        "farm_worker",
        (
            ("bracciante agricolo", "raccolta frutta", "operaio agricolo"),
            ("bracciante agricola", "raccolta frutta"),
        ),
        (("сільськогосподарський робітник",), ("працівниця на фермі",)),
        ("farm worker",),
        (0.8, 0.3),
        ("Operaio/a agricolo/a", "Addetto/a serra"),
        ("raccolta", "uso trattore", "lavoro all'aperto"),
        "A1",
        ("agri", "farm", "vivai", "serra", "aliment"),
    ),
    _jk(
        "driver",
        (("autista patente C", "corriere", "autista"), ("autista", "corriera")),
        (("водій",), ("водійка",)),
        ("driver", "delivery driver"),
        (0.7, 0.05),
        ("Autista patente C", "Autista corriere patente B"),
        ("patente C", "CQC", "carta tachigrafica"),
        "A2",
        ("logist", "trasport", "transport", "distrib", "corrier"),
    ),
    _jk(
        "care_assistant",
        (
            ("OSS", "operatore socio sanitario"),
            ("OSS", "operatrice socio sanitaria", "ASA"),
        ),
        (("санітар",), ("медсестра", "санітарка")),
        ("nurse assistant", "care worker"),
        (0.2, 0.7),
        ("OSS", "ASA - Ausiliario/a socio assistenziale", "OSS per RSA"),
        ("qualifica OSS", "assistenza anziani", "lavoro su turni"),
        "B1",
        ("sanit", "health", "rsa", "social", "care", "cooperativ"),
    ),
    _jk(
        "sales_assistant",
        (
            ("commesso", "addetto vendite", "cassiere"),
            ("commessa", "addetta vendite", "cassiera"),
        ),
        (("продавець", "касир"), ("продавчиня", "касирка")),
        ("shop assistant", "cashier"),
        (0.4, 0.8),
        ("Addetto/a vendite", "Cassiere/a"),
        ("uso cassa", "contatto con il pubblico", "gestione scaffali"),
        "B1",
        ("retail", "commerc", "vendit", "gdo", "supermerc"),
    ),
    _jk(
        "assembly",
        (
            ("addetto montaggio", "operaio linea produzione"),
            ("operaia confezionamento", "addetta linea produzione"),
        ),
        (("робітник конвеєра",), ("пакувальниця",)),
        ("assembly line worker", "packer"),
        (0.7, 0.8),
        (
            "Addetto/a linea di produzione",
            "Addetto/a confezionamento",
            "Operaio/a stampaggio plastica",
        ),
        ("lavoro su turni", "controllo qualità visivo", "manualità"),
        "A1",
        (
            "plast",
            "gomma",
            "rubber",
            "tessil",
            "textil",
            "chim",
            "chem",
            "aliment",
            "food",
            "manifatt",
            "manufact",
            "packag",
            "imball",
        ),
    ),
    _jk(
        "electrician",
        (("elettricista", "aiuto elettricista"), ("elettricista",)),
        (("електрик",), ("електрикиня",)),
        ("electrician",),
        (0.5, 0.02),
        ("Elettricista industriale", "Aiuto elettricista"),
        ("impianti civili", "PES/PAV", "lettura schemi elettrici"),
        "B1",
        ("elettr", "electr", "impiant", "edil", "energ"),
    ),
)
JOB_BY_KEY: dict[str, JobKind] = {j.key: j for j in JOB_KINDS}

ORIGIN_JOB_AFFINITY: dict[str, dict[str, float]] = {
    "ukrainian": {
        "caregiver": 1.5,
        "cleaner": 1.5,
        "sales_assistant": 1.2,
        "cook": 1.2,
        "care_assistant": 1.2,
        "welder": 1.0,
        "driver": 1.0,
        "construction": 1.0,
    },
    "italian": {
        "warehouse": 1.3,
        "sales_assistant": 1.4,
        "waiter": 1.2,
        "driver": 1.0,
        "cleaner": 1.0,
    },
    "arabic": {
        "construction": 1.6,
        "warehouse": 1.5,
        "kitchen_helper": 1.4,
        "driver": 1.2,
        "metal_worker": 1.2,
    },
    "west_african": {
        "farm_worker": 1.8,
        "warehouse": 1.5,
        "metal_worker": 1.4,
        "assembly": 1.4,
        "cleaner": 1.2,
        "construction": 1.2,
    },
    "latin_american": {
        "caregiver": 1.6,
        "cleaner": 1.6,
        "care_assistant": 1.3,
        "kitchen_helper": 1.1,
        "construction": 1.1,
    },
}

CONTRACTS: tuple[tuple[str, float], ...] = (
    ("tempo determinato 6 mesi", 0.35),
    ("tempo indeterminato", 0.2),
    ("somministrazione", 0.3),
    ("apprendistato", 0.15),
)

FALLBACK_MUNICIPALITIES: tuple[str, ...] = (
    "Bergamo",
    "Dalmine",
    "Seriate",
    "Treviglio",
    "Romano di Lombardia",
    "Albino",
    "Alzano Lombardo",
    "Zogno",
    "Clusone",
    "Lovere",
    "Sarnico",
    "Ponte San Pietro",
    "Caravaggio",
    "Grumello del Monte",
    "Trescore Balneario",
    "Stezzano",
    "Osio Sotto",
    "Verdellino",
    "Ciserano",
    "Calcinate",
)

IT_MOBILE_PREFIXES: tuple[str, ...] = (
    "320",
    "324",
    "327",
    "328",
    "329",
    "331",
    "333",
    "334",
    "335",
    "338",
    "339",
    "340",
    "342",
    "345",
    "346",
    "347",
    "348",
    "349",
    "351",
    "366",
    "370",
    "377",
    "380",
    "388",
    "389",
    "392",
    "393",
)
UA_MOBILE_PREFIXES: tuple[str, ...] = (
    "50",
    "63",
    "66",
    "67",
    "68",
    "73",
    "93",
    "95",
    "96",
    "97",
    "98",
    "99",
)

# --------------------------------------------------------------------------------------
# Data classes
# --------------------------------------------------------------------------------------


@dataclass
class SyntheticPerson:
    """A fictitious job seeker; the fields the referrer knows plus hidden truths for the scripted operator."""

    key: str
    origin: str
    family_name: str
    given_names: str
    native_family_name: str
    native_given_names: str
    sex: str
    birth_date: date
    citizenship: str
    birth_place: str
    codice_fiscale: str
    cf_temporary: bool
    phone: str
    email: str | None
    municipality: str
    languages: list[str]
    education: str
    experiences: list[str]
    experience_keys: list[str]
    driving_licence: str
    italian_self_level: str
    true_italian: str
    true_italian_skills: dict[str, str]
    consent_privacy: bool
    consent_cpi: bool
    consent_confindustria: bool
    family_name_variants: list[str] = field(default_factory=list)
    given_name_variants: list[str] = field(default_factory=list)

    @property
    def is_ukrainian(self) -> bool:
        return self.origin == "ukrainian"


@dataclass
class RowSpec:
    """One data row as written, so tests and the demo can check what the importer should do with it."""

    row_number: int
    line: int
    person_key: str
    written_family_name: str
    written_given_names: str
    variations: list[str] = field(default_factory=list)
    bad_reason: str | None = None
    duplicate: bool = False


@dataclass
class ExpectedDuplicate:
    """A row whose person was also referred by another partner."""

    person_key: str
    row_number: int
    other_referrer: str
    other_path: Path
    other_row_number: int
    variations: list[str]


@dataclass
class BadRow:
    """A row the importer is expected to reject, and why."""

    row_number: int
    line: int
    person_key: str
    reason: str


@dataclass
class ReferralFileSpec:
    """What one partner file contains: enough to assert importer behaviour end to end."""

    path: Path
    referrer: str
    file_format: str
    encoding: str
    delimiter: str | None
    newline: str | None
    header_row: int
    rows_written: int
    rows: list[RowSpec] = field(default_factory=list)
    expected_duplicates: list[ExpectedDuplicate] = field(default_factory=list)
    expected_bad: list[BadRow] = field(default_factory=list)


@dataclass
class SyntheticVacancy:
    """One open position as Confindustria lists it, with the occupation code it really is."""

    company: str
    title: str
    occupation_code: str
    job_key: str | None
    site: str
    requirements: list[str]
    italian_level: str
    licence: str
    contract: str
    openings: int
    deadline: date


@dataclass
class OperatorProfile:
    """What the scripted operator 'learns' at intake: the hidden truths behind a referral."""

    person: SyntheticPerson
    italian_levels: dict[str, str]
    italian_overall: str
    occupation_codes: list[str]
    experience_keys: list[str]
    driving_licence: str


@dataclass
class DemoDataset:
    """Everything the demo needs, generated from one seed."""

    seed: int
    reference_date: date
    out_dir: Path
    municipalities: list[str]
    referrers: list[str]
    companies: list[str]
    people: list[SyntheticPerson]
    referral_files: list[ReferralFileSpec]
    vacancy_file: Path
    vacancies: list[SyntheticVacancy]
    people_by_key: dict[str, OperatorProfile]
    occupation_code_by_job: dict[str, str]
    _name_index: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _cf_index: dict[str, str] = field(default_factory=dict, repr=False)

    def lookup(
        self,
        family_name: str = "",
        given_names: str = "",
        birth_date: date | None = None,
        codice_fiscale: str | None = None,
    ) -> OperatorProfile | None:
        """Find the hidden profile behind an imported record, whatever spelling the partner used."""
        if codice_fiscale:
            key = self._cf_index.get(codice_fiscale.strip().upper())
            if key:
                return self.people_by_key[key]
        candidates = self._name_index.get(name_key(family_name, given_names), [])
        if birth_date is not None:
            dated = [k for k in candidates if self.people_by_key[k].person.birth_date == birth_date]
            candidates = dated or candidates
        return self.people_by_key[candidates[0]] if candidates else None


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def ascii_fold(text: str) -> str:
    """Strip accents so names fit e-mail addresses and cp1252-only tools."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def name_key(family_name: str, given_names: str) -> str:
    """Order- and accent-insensitive key, so swapped or accented spellings meet."""
    text = f"{family_name} {given_names}".replace("'", " ").replace("-", " ")
    tokens = ["".join(ch for ch in unicodedata.normalize("NFKD", t).casefold() if ch.isalnum()) for t in text.split()]
    return " ".join(sorted(t for t in tokens if t))


def _weighted(rng: random.Random, items: Sequence[tuple[Any, float]]) -> Any:
    values = [v for v, _ in items]
    weights = [w for _, w in items]
    return rng.choices(values, weights=weights, k=1)[0]


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _sub_rng(seed: int, label: str) -> random.Random:
    """Independent stream per concern, so adding a feature does not reshuffle everything else."""
    return random.Random(f"incontro-demo:{seed}:{label}")


def _quota(n: int, shares: Sequence[tuple[str, float]]) -> list[str]:
    """Exact largest-remainder quotas: the origin mix holds even for small n."""
    raw = [(name, n * share) for name, share in shares]
    counts = {name: int(v) for name, v in raw}
    rest = n - sum(counts.values())
    for name, _ in sorted(raw, key=lambda x: (-(x[1] - int(x[1])), x[0]))[:rest]:
        counts[name] += 1
    out: list[str] = []
    for name, _ in shares:
        out.extend([name] * counts[name])
    return out


def temporary_tax_code(rng: random.Random) -> str:
    """11-digit provisional code as issued on first application (partita-IVA style check digit)."""
    body = [rng.randint(0, 9) for _ in range(7)] + [0, 1, 6]  # 016 = Bergamo office
    total = 0
    for i, d in enumerate(body):
        if i % 2 == 0:
            total += d
        else:
            dd = d * 2
            total += dd - 9 if dd > 9 else dd
    check = (10 - total % 10) % 10
    return "".join(map(str, body)) + str(check)


def _corrupt_cf_checksum(code: str) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    last = code[-1]
    return code[:-1] + letters[(letters.index(last) + 7) % 26]


# --------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------

ORIGIN_SHARES: tuple[tuple[str, float], ...] = (
    ("ukrainian", 0.35),
    ("italian", 0.15),
    ("arabic", 0.15),
    ("west_african", 0.20),
    ("latin_american", 0.15),
)


def _pick_country(rng: random.Random, table: Mapping[str, tuple[float, Any, Any, Any, Any]]) -> str:
    return _weighted(rng, [(k, v[0]) for k, v in table.items()])


def _birth_date(rng: random.Random, ref: date) -> date:
    age = round(rng.triangular(17, 62, 33))
    age = min(62, max(17, age))
    latest = _years_before(ref, age)
    earliest = _years_before(ref, age + 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randint(0, (latest - earliest).days))


def _italian_levels(rng: random.Random, origin: str, country: str) -> tuple[str, str, dict[str, str]]:
    """Self-declared level, hidden overall level and per-skill levels; self-reports are often off by one."""
    if origin == "italian":
        return (
            rng.choice(("madrelingua", "madrelingua", "C2")),
            "C2",
            {s: "C2" for s in ITALIAN_SKILLS},
        )
    table: dict[str, list[tuple[str, float]]] = {
        "ukrainian": [("pre-A1", 0.45), ("A1", 0.35), ("A2", 0.14), ("B1", 0.06)],
        "arabic": [
            ("pre-A1", 0.05),
            ("A1", 0.2),
            ("A2", 0.35),
            ("B1", 0.28),
            ("B2", 0.12),
        ],
        "west_african": [
            ("pre-A1", 0.1),
            ("A1", 0.3),
            ("A2", 0.35),
            ("B1", 0.2),
            ("B2", 0.05),
        ],
        "latin_american": [("A1", 0.05), ("A2", 0.3), ("B1", 0.4), ("B2", 0.25)],
    }
    self_level = _weighted(rng, table[origin])
    rank = CEFR_LEVELS.index(self_level)
    base = min(5, max(0, rank + _weighted(rng, [(-1, 0.25), (0, 0.55), (1, 0.2)])))
    skills = {
        "listening": min(5, base + rng.choice((0, 0, 1))),
        "speaking": base,
        "reading": min(5, max(0, base + rng.choice((-1, 0, 0, 1)))),
        "writing": max(0, base - rng.choice((0, 0, 1))),
    }
    if origin == "latin_american":  # Spanish speakers read Italian early
        skills["reading"] = min(5, skills["reading"] + 1)
    per_skill = {s: CEFR_LEVELS[r] for s, r in skills.items()}
    return self_level, CEFR_LEVELS[base], per_skill


def _pick_jobs(rng: random.Random, origin: str, sex: str) -> list[str]:
    affinity = ORIGIN_JOB_AFFINITY.get(origin, {})
    pool = [(j.key, (j.weight_m if sex == "M" else j.weight_f) * affinity.get(j.key, 0.6)) for j in JOB_KINDS]
    k = _weighted(rng, [(1, 0.4), (2, 0.4), (3, 0.2)])
    chosen: list[str] = []
    while len(chosen) < k:
        key = _weighted(rng, [(key, w) for key, w in pool if key not in chosen])
        chosen.append(key)
    return chosen


def _job_text(job: JobKind, lang: str, sex: str, rng: random.Random) -> str:
    if lang == "uk":
        return rng.choice(job.uk_m if sex == "M" else job.uk_f)
    if lang == "en":
        return rng.choice(job.en)
    return rng.choice(job.it_m if sex == "M" else job.it_f)


def _italian_job_text(text: str, sex: str) -> str:
    """Italian rendering of a Ukrainian job title, for files whose encoding has no Cyrillic."""
    for job in JOB_KINDS:
        if text in job.uk_m or text in job.uk_f:
            return (job.it_m if sex == "M" else job.it_f)[0]
    return ascii_fold(text) or "lavori vari"


def _languages(rng: random.Random, origin: str, base: tuple[str, ...], level: str) -> list[str]:
    langs = list(base)
    if origin == "ukrainian":
        langs = ["ucraino", "russo"] if rng.random() < 0.85 else ["ucraino"]
        if rng.random() < 0.4:
            langs.append("inglese")
        if rng.random() < 0.1:
            langs.append("polacco")
    elif origin == "italian":
        langs = ["italiano"] + (["inglese"] if rng.random() < 0.3 else [])
        return langs
    elif origin == "arabic" and rng.random() < 0.25 and "francese" not in langs:
        langs.append("francese" if rng.random() < 0.5 else "inglese")
    elif origin == "latin_american":
        langs = ["spagnolo"] + [b for b in base if b != "spagnolo" and rng.random() < 0.3]
        if rng.random() < 0.2:
            langs.append("inglese")
    if CEFR_LEVELS.index(level) >= 2:
        langs.append("italiano")
    return list(dict.fromkeys(langs))


def _education(rng: random.Random, origin: str, country: str) -> str:
    table: dict[str, list[tuple[str, float]]] = {
        "ukrainian": [
            ("laurea", 0.4),
            ("diploma", 0.42),
            ("qualifica professionale", 0.08),
            ("licenza media", 0.07),
            ("nessun titolo", 0.03),
        ],
        "italian": [
            ("licenza media", 0.55),
            ("diploma", 0.22),
            ("qualifica professionale", 0.08),
            ("nessun titolo", 0.1),
            ("laurea", 0.05),
        ],
        "arabic": [
            ("licenza media", 0.35),
            ("diploma", 0.3),
            ("laurea", 0.12),
            ("nessun titolo", 0.23),
        ],
        "west_african": [
            ("licenza media", 0.3),
            ("diploma", 0.22),
            ("laurea", 0.06),
            ("nessun titolo", 0.42),
        ],
        "latin_american": [
            ("licenza media", 0.25),
            ("diploma", 0.48),
            ("laurea", 0.17),
            ("nessun titolo", 0.1),
        ],
    }
    title = _weighted(rng, table[origin])
    if title == "nessun titolo":
        return title
    where = "Italia" if origin == "italian" or (title == "licenza media" and rng.random() < 0.15) else country
    return f"{title} ({where})"


def _licence(rng: random.Random, origin: str, sex: str, jobs: list[str]) -> str:
    if "driver" in jobs:
        return "C" if rng.random() < 0.7 else "B"
    share_b = {
        "ukrainian": 0.35,
        "italian": 0.55,
        "arabic": 0.4,
        "west_african": 0.2,
        "latin_american": 0.35,
    }[origin]
    if sex == "M" and rng.random() < 0.05:
        return "C"
    return "B" if rng.random() < share_b else "nessuna"


def _phone(rng: random.Random, origin: str) -> str:
    """E.164 number; files render it in whatever format the partner's operator typed."""
    if origin == "ukrainian" and rng.random() < 0.15:
        return "+380" + rng.choice(UA_MOBILE_PREFIXES) + f"{rng.randint(0, 9999999):07d}"
    return "+39" + rng.choice(IT_MOBILE_PREFIXES) + f"{rng.randint(0, 9999999):07d}"


def format_phone(e164: str, style: int) -> str:
    """One of the formats partners actually use for the same number."""
    if e164.startswith("+380"):
        op, rest = e164[4:6], e164[6:]
        styles: tuple[str, ...] = (
            f"+380 {op} {rest[:3]} {rest[3:]}",
            f"+380{op}{rest}",
            f"00380 {op} {rest[:3]} {rest[3:5]} {rest[5:]}",
            f"+380 ({op}) {rest[:3]}-{rest[3:5]}-{rest[5:]}",
        )
    else:
        pre, rest = e164[3:6], e164[6:]
        styles = (
            f"{pre} {rest}",
            f"{pre}{rest}",
            f"+39 {pre}-{rest[:3]}-{rest[3:]}",
            f"0039 {pre} {rest}",
            f"+39 {pre} {rest[:3]} {rest[3:]}",
            f"+39{pre}{rest}",
        )
    return styles[style % len(styles)]


def _email(rng: random.Random, given: str, family: str, birth: date) -> str | None:
    if rng.random() >= 0.7:
        return None
    g = ascii_fold(given.split()[0]).lower().replace("'", "")
    f = ascii_fold(family).lower().replace(" ", "").replace("'", "")
    pattern = rng.randrange(5)
    if pattern == 0:
        local = f"{g}.{f}{birth.year % 100:02d}"
    elif pattern == 1:
        local = f"{f}.{g[0]}{rng.randint(1, 99)}"
    elif pattern == 2:
        local = f"{g}{f}{birth.year}"
    elif pattern == 3:
        local = f"{g}_{f[:5]}{rng.randint(10, 999)}"
    else:
        local = f"{g}.{f}"
    return f"{local}@mail.example"


def _municipality(rng: random.Random, municipalities: Sequence[str]) -> str:
    if "Bergamo" in municipalities and rng.random() < 0.25:
        return "Bergamo"
    others = [m for m in municipalities if m != "Bergamo"] or list(municipalities)
    return rng.choice(others)


def _encode_cf(family: str, given: str, sex: str, birth: date, place: str) -> str | None:
    try:
        return str(
            cf.encode(
                lastname=family,
                firstname=given,
                gender=sex,  # type: ignore[arg-type]  # "M" or "F" from the generator
                birthdate=datetime(birth.year, birth.month, birth.day),  # noqa: DTZ001 - a calendar date
                birthplace=place,
            )
        )
    except (
        ValueError,
        KeyError,
        TypeError,
    ):  # unknown place: person gets a provisional code
        return None


def _make_person(i: int, origin: str, rng: random.Random, municipalities: Sequence[str], ref: date) -> SyntheticPerson:
    sex = "F" if rng.random() < (0.62 if origin in ("ukrainian", "latin_american") else 0.4) else "M"
    birth = _birth_date(rng, ref)
    fam_variants: list[str] = []
    giv_variants: list[str] = []
    if origin == "ukrainian":
        country = "Ucraina"
        g = rng.choice(UA_MALE if sex == "M" else UA_FEMALE)
        s = rng.choice(UA_SURNAMES)
        native_given, given, giv_variants = g[0], g[1], list(g[2:])
        native_family, family, fam_variants = s[0], s[1], list(s[2:])
        birth_place = country
        base_langs: tuple[str, ...] = ("ucraino",)
    elif origin == "italian":
        country = "Italia"
        given = rng.choice(IT_MALE if sex == "M" else IT_FEMALE)
        family = rng.choice(IT_SURNAMES)
        native_given, native_family = given, family
        birth_place = _weighted(rng, IT_BIRTHPLACES)
        base_langs = ("italiano",)
    else:
        table = {
            "arabic": ARABIC,
            "west_african": WEST_AFRICAN,
            "latin_american": LATIN_AMERICAN,
        }[origin]
        country = _pick_country(rng, table)
        _, males, females, surnames, base_langs = table[country]
        given = rng.choice(males if sex == "M" else females)
        if origin == "arabic" and sex == "M" and country != "Pakistan" and rng.random() < 0.25:
            given = f"{given} {rng.choice(('Amine', 'Ali', 'Reda', 'Yassine'))}"
        family = rng.choice(surnames)
        if origin == "latin_american":
            second = rng.choice([x for x in surnames if x != family])
            family = f"{family} {second}"
        native_given, native_family = given, family
        age = (ref - birth).days // 365
        born_here = origin in ("arabic", "west_african") and age < 24 and rng.random() < 0.2
        birth_place = rng.choice(("Bergamo", "Seriate", "Treviglio")) if born_here else country
    self_level, true_level, skills = _italian_levels(rng, origin, country)
    jobs = _pick_jobs(rng, origin, sex)
    if origin == "ukrainian":
        lang_probs = [("it", 0.6), ("uk", 0.3), ("en", 0.1)]
    elif origin == "italian":
        lang_probs = [("it", 1.0)]
    elif country in ("Nigeria", "Gambia", "Pakistan"):
        lang_probs = [("it", 0.6), ("en", 0.4)]
    else:
        lang_probs = [("it", 0.88), ("en", 0.12)]
    experiences = [_job_text(JOB_BY_KEY[k], _weighted(rng, lang_probs), sex, rng) for k in jobs]
    code = None if origin == "ukrainian" and rng.random() < 0.05 else _encode_cf(family, given, sex, birth, birth_place)
    temporary = code is None
    if code is None:
        code = temporary_tax_code(rng)
    return SyntheticPerson(
        key=f"SYN-{i + 1:04d}",
        origin=origin,
        family_name=family,
        given_names=given,
        native_family_name=native_family,
        native_given_names=native_given,
        sex=sex,
        birth_date=birth,
        citizenship=country,
        birth_place=birth_place,
        codice_fiscale=code,
        cf_temporary=temporary,
        phone=_phone(rng, origin),
        email=_email(rng, given, family, birth),
        municipality=_municipality(rng, municipalities),
        languages=_languages(rng, origin, base_langs, true_level),
        education=_education(rng, origin, country),
        experiences=experiences,
        experience_keys=jobs,
        driving_licence=_licence(rng, origin, sex, jobs),
        italian_self_level=self_level,
        true_italian=true_level,
        true_italian_skills=skills,
        consent_privacy=rng.random() < 0.985,
        consent_cpi=rng.random() < 0.99,
        consent_confindustria=rng.random() < 0.85,
        family_name_variants=fam_variants,
        given_name_variants=giv_variants,
    )


def generate_people(
    n: int,
    seed: int,
    municipalities: list[str],
    *,
    reference_date: date = REFERENCE_DATE,
) -> list[SyntheticPerson]:
    """Seeded vulnerable job seekers in the province, with the origin mix seen at Bergamo's CPIs."""
    if not municipalities:
        raise ValueError("at least one municipality is needed")
    rng = _sub_rng(seed, "people")
    origins = _quota(n, ORIGIN_SHARES)
    rng.shuffle(origins)
    return [_make_person(i, origin, rng, municipalities, reference_date) for i, origin in enumerate(origins)]


# --------------------------------------------------------------------------------------
# Referral files
# --------------------------------------------------------------------------------------


def _typo(text: str, rng: random.Random) -> str:
    """One realistic keyboard slip in the longest word."""
    words = text.split(" ")
    idx = max(range(len(words)), key=lambda i: len(words[i]))
    w = words[idx]
    if len(w) < 4:
        return text + text[-1]
    op = rng.randrange(3)
    pos = rng.randint(1, len(w) - 3)
    if op == 0 and w[pos] != w[pos + 1]:
        w = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2 :]
    elif op == 1:
        w = w[:pos] + w[pos + 1 :]
    else:
        w = w[:pos] + w[pos] + w[pos:]
    words[idx] = w
    return " ".join(words)


def _latin_variant(name: str, rng: random.Random) -> str | None:
    """A plausible alternative spelling of a non-Cyrillic name, if one exists."""
    if name in LATIN_NAME_VARIANTS:
        return rng.choice(LATIN_NAME_VARIANTS[name])
    parts = name.split(" ")
    for i, p in enumerate(parts):
        if p in LATIN_NAME_VARIANTS:
            parts[i] = rng.choice(LATIN_NAME_VARIANTS[p])
            return " ".join(parts)
    if ascii_fold(name) != name:
        return ascii_fold(name)
    if len(parts) == 2 and rng.random() < 0.5:  # Latin American double surname: only the first
        return parts[0]
    return None


@dataclass
class _Placement:
    """Internal: one person placed in one partner file."""

    person: SyntheticPerson
    referrer: str
    variations: list[str] = field(default_factory=list)
    bad_reason: str | None = None
    duplicate: bool = False
    phone_style: int = 0
    family: str = ""
    given: str = ""
    swapped: bool = False
    missing_birth: bool = False
    missing_cf: bool = False
    row_number: int = 0


def _default_formats(referrers: Sequence[str]) -> dict[str, str]:
    order = (FMT_XLSX, FMT_CSV_CYRILLIC, FMT_CSV_UTF8_BOM)
    return {r: (order[i] if i < len(order) else FMT_CSV_CP1252) for i, r in enumerate(referrers)}


def _name_for_file(p: _Placement, fmt: str, rng: random.Random) -> None:
    """Choose the written name: Cyrillic where the partner types Cyrillic, Latin otherwise."""
    person = p.person
    if fmt == FMT_CSV_CYRILLIC and person.is_ukrainian:
        p.family, p.given = person.native_family_name, person.native_given_names
        p.variations.append("cyrillic")
    else:
        p.family, p.given = person.family_name, person.given_names


def _apply_name_variation(p: _Placement, kind: str, rng: random.Random) -> None:
    person = p.person
    if kind == "transliteration":
        if "cyrillic" in p.variations:
            return  # the other script already is the variation
        if person.is_ukrainian:
            changed = False
            if person.given_name_variants and rng.random() < 0.75:
                p.given = rng.choice(person.given_name_variants)
                changed = True
            if person.family_name_variants and (not changed or rng.random() < 0.4):
                p.family = rng.choice(person.family_name_variants)
                changed = True
            if changed:
                p.variations.append("transliteration")
                return
        else:
            target = rng.choice(("given", "family"))
            for which in (target, "family" if target == "given" else "given"):
                current = p.given if which == "given" else p.family
                alt = _latin_variant(current, rng)
                if alt and alt != current:
                    if which == "given":
                        p.given = alt
                    else:
                        p.family = alt
                    p.variations.append("transliteration")
                    return
        kind = "typo"
    if kind == "typo":
        p.family = _typo(p.family, rng)
        p.variations.append("typo")
    elif kind == "swapped":
        p.swapped = True
        p.variations.append("swapped_names")


def _row_values(p: _Placement, fmt: str, ref: date, rng: random.Random, style: dict[str, Any]) -> list[Any]:
    person = p.person
    cp1252 = fmt == FMT_CSV_CP1252
    family, given = (p.given, p.family) if p.swapped else (p.family, p.given)
    if style.get("upper_surname"):
        family = family.upper()
    birth: Any
    if p.missing_birth:
        birth = ""
    elif p.bad_reason == "invalid_date":
        birth = f"31/02/{person.birth_date.year}"
    elif fmt == FMT_XLSX:
        birth = person.birth_date
    else:
        birth = person.birth_date.strftime("%d/%m/%Y")
    code = "" if p.missing_cf else person.codice_fiscale
    if p.bad_reason == "cf_checksum":
        code = _corrupt_cf_checksum(person.codice_fiscale)
    if p.bad_reason == "missing_surname":
        family = ""
    email = person.email or ""
    if p.bad_reason == "invalid_email":
        email = ascii_fold(person.given_names.split()[0]).lower() + "@"
    municipality = person.municipality
    if p.bad_reason == "unknown_municipality":
        municipality = rng.choice(UNKNOWN_MUNICIPALITIES)
    experiences = [(_italian_job_text(e, person.sex) if cp1252 else e) for e in person.experiences]
    licence = person.driving_licence
    if licence == "nessuna":
        licence = style.get("no_licence", "nessuna")
    values: list[Any] = [
        family,
        given,
        birth,
        person.sex,
        person.birth_place,
        person.citizenship,
        code,
        format_phone(person.phone, p.phone_style),
        email,
        municipality,
        ", ".join(person.languages),
        person.education,
        ", ".join(experiences),
        licence,
        person.italian_self_level,
        "SI" if (person.consent_privacy and person.consent_cpi) else "NO",
        "SI" if person.consent_confindustria else "NO",
    ]
    if cp1252:
        values = [v if not isinstance(v, str) or _cp1252_ok(v) else ascii_fold(v) for v in values]
    return values


def _cp1252_ok(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _write_csv(path: Path, rows: list[list[Any]], encoding: str, delimiter: str, newline: str) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(REFERRAL_HEADERS)
    for r in rows:
        writer.writerow(["" if v is None else v for v in r])
    path.write_bytes(buf.getvalue().encode(encoding))


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


def _write_referral_xlsx(path: Path, rows: list[list[Any]], title: str, ref: date, referrer: str) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Segnalazioni"
    wb.properties.creator = title.split(" - ")[0]
    wb.properties.title = title
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(REFERRAL_HEADERS))
    ws.cell(
        row=2,
        column=1,
        value=f"Estrazione del {ref:%d/%m/%Y} - Centro di Ascolto ({referrer})",
    )
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(REFERRAL_HEADERS))
    for c, h in enumerate(REFERRAL_HEADERS, start=1):
        ws.cell(row=3, column=c, value=h).font = Font(bold=True)
    for r, values in enumerate(rows, start=4):
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=(v if v != "" else None))
            if isinstance(v, date):
                cell.number_format = "DD/MM/YYYY"
    widths = (18, 18, 13, 6, 16, 14, 19, 18, 30, 22, 26, 22, 40, 9, 10, 10, 12)
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=3, column=c).column_letter].width = w
    ws.freeze_panes = "A4"
    save_workbook_deterministic(wb, path)


def generate_referral_files(
    people: list[SyntheticPerson],
    referrers: list[str],
    out_dir: Path,
    seed: int,
    duplicates: int = 25,
    *,
    formats: Mapping[str, str] | None = None,
    reference_date: date = REFERENCE_DATE,
    xlsx_title: str = CARITAS_TITLE,
    bad_share: float = 0.03,
) -> list[ReferralFileSpec]:
    """Write one file per referring partner, shaped like what partners really send.

    Default formats by position: 1st referrer XLSX with a title block, 2nd a UTF-8 CSV
    with Ukrainian names in Cyrillic, 3rd an Excel "CSV UTF-8" (BOM), the rest Italian
    Excel CSVs (cp1252, ``;``, CRLF). ``duplicates`` people are referred by two different
    partners with realistic variation; about ``bad_share`` of rows are deliberately broken.
    """
    if not referrers:
        raise ValueError("at least one referrer is needed")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = _sub_rng(seed, "referrals")
    fmt_by_ref = dict(formats) if formats is not None else _default_formats(referrers)
    for r in referrers:
        fmt_by_ref.setdefault(r, FMT_CSV_CP1252)
    cyr_refs = [r for r in referrers if fmt_by_ref[r] == FMT_CSV_CYRILLIC]

    # Primary referrer: Ukrainians gravitate to the partner that writes Cyrillic.
    placements: list[_Placement] = []
    for person in people:
        weights = [(r, (3.0 if person.is_ukrainian else 0.4) if r in cyr_refs else 1.0) for r in referrers]
        placements.append(_Placement(person=person, referrer=_weighted(rng, weights)))
    # Make sure every referrer has at least one row.
    for i, r in enumerate(referrers):
        if not any(p.referrer == r for p in placements) and len(placements) > i:
            placements[i].referrer = r

    # Duplicates: same person, a different partner.
    dup_pairs: list[tuple[_Placement, _Placement]] = []
    if len(referrers) >= 2:
        candidates = list(range(len(placements)))
        rng.shuffle(candidates)
        for idx in candidates[: min(duplicates, len(placements))]:
            first = placements[idx]
            second = _Placement(
                person=first.person,
                referrer=rng.choice([r for r in referrers if r != first.referrer]),
            )
            first.duplicate = second.duplicate = True
            dup_pairs.append((first, second))

    all_placements = placements + [b for _, b in dup_pairs]
    for p in all_placements:
        p.phone_style = rng.randrange(6)
        _name_for_file(p, fmt_by_ref[p.referrer], rng)

    # Non-duplicate Ukrainians in Latin files: a few carry an old-passport spelling.
    for p in placements:
        if not p.duplicate and p.person.is_ukrainian and "cyrillic" not in p.variations and rng.random() < 0.1:
            _apply_name_variation(p, "transliteration", rng)

    for first, second in dup_pairs:
        second.phone_style = (first.phone_style + rng.randint(1, 3)) % 6
        second.variations.append("phone_format")
        kind = _weighted(rng, [("transliteration", 0.45), ("typo", 0.25), ("swapped", 0.3)])
        _apply_name_variation(second, kind, rng)
        missing = _weighted(rng, [(None, 0.45), ("birth", 0.25), ("cf", 0.3)])
        target = first if rng.random() < 0.4 else second
        if missing == "birth":
            target.missing_birth = True
            target.variations.append("missing_birth_date")
        elif missing == "cf":
            target.missing_cf = True
            target.variations.append("missing_codice_fiscale")

    # Deliberately bad rows, only among people referred once so expectations stay unambiguous.
    total = len(all_placements)
    n_bad = round(bad_share * total)
    singles = [p for p in placements if not p.duplicate]
    rng.shuffle(singles)
    for k, p in enumerate(singles[:n_bad]):
        reason = BAD_KINDS[k % len(BAD_KINDS)]
        if reason == "cf_checksum" and p.person.cf_temporary:
            reason = "invalid_date"
        p.bad_reason = reason

    specs: list[ReferralFileSpec] = []
    by_ref: dict[str, list[_Placement]] = {r: [] for r in referrers}
    for p in all_placements:
        by_ref[p.referrer].append(p)
    paths: dict[str, Path] = {}
    for i, r in enumerate(referrers):
        ext = "xlsx" if fmt_by_ref[r] == FMT_XLSX else "csv"
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in r)
        paths[r] = out_dir / f"segnalazioni_{i + 1:02d}_{safe}.{ext}"

    for i, r in enumerate(referrers):
        fmt = fmt_by_ref[r]
        file_rows = by_ref[r]
        if not file_rows:
            continue
        rng.shuffle(file_rows)
        style = {
            "upper_surname": fmt == FMT_CSV_CP1252 and i % 2 == 1,
            "no_licence": "NO" if fmt == FMT_CSV_CP1252 and i % 3 == 2 else "nessuna",
        }
        header_row = 3 if fmt == FMT_XLSX else 1
        values = []
        for n, p in enumerate(file_rows, start=1):
            p.row_number = n
            values.append(_row_values(p, fmt, reference_date, rng, style))
        if fmt == FMT_XLSX:
            _write_referral_xlsx(paths[r], values, xlsx_title, reference_date, r)
            spec = ReferralFileSpec(paths[r], r, fmt, "xlsx", None, None, header_row, len(values))
        elif fmt == FMT_CSV_CYRILLIC:
            _write_csv(paths[r], values, "utf-8", ",", "\n")
            spec = ReferralFileSpec(paths[r], r, fmt, "utf-8", ",", "\n", header_row, len(values))
        elif fmt == FMT_CSV_UTF8_BOM:
            _write_csv(paths[r], values, "utf-8-sig", ";", "\r\n")
            spec = ReferralFileSpec(paths[r], r, fmt, "utf-8-sig", ";", "\r\n", header_row, len(values))
        else:
            _write_csv(paths[r], values, "cp1252", ";", "\r\n")
            spec = ReferralFileSpec(paths[r], r, fmt, "cp1252", ";", "\r\n", header_row, len(values))
        for p, v in zip(file_rows, values, strict=True):
            row = RowSpec(
                row_number=p.row_number,
                line=header_row + p.row_number,
                person_key=p.person.key,
                written_family_name=str(v[0]) if not p.swapped else str(v[1]),
                written_given_names=str(v[1]) if not p.swapped else str(v[0]),
                variations=list(p.variations),
                bad_reason=p.bad_reason,
                duplicate=p.duplicate,
            )
            spec.rows.append(row)
            if p.bad_reason:
                spec.expected_bad.append(BadRow(p.row_number, row.line, p.person.key, p.bad_reason))
        specs.append(spec)

    spec_by_ref = {s.referrer: s for s in specs}
    for first, second in dup_pairs:
        for a, b in ((first, second), (second, first)):
            spec_by_ref[a.referrer].expected_duplicates.append(
                ExpectedDuplicate(
                    person_key=a.person.key,
                    row_number=a.row_number,
                    other_referrer=b.referrer,
                    other_path=paths[b.referrer],
                    other_row_number=b.row_number,
                    variations=list(a.variations),
                )
            )
    for s in specs:
        s.expected_duplicates.sort(key=lambda d: d.row_number)
        s.expected_bad.sort(key=lambda b: b.row_number)
    return specs


# --------------------------------------------------------------------------------------
# Vacancies
# --------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form that keeps Cyrillic letters."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(kept.replace("/", " ").replace("-", " ").split())


ISCO_HINTS: dict[str, tuple[str, ...]] = {
    "caregiver": ("5322",),
    "cleaner": ("9112", "9111"),
    "metal_worker": ("9329",),
    "cnc_operator": ("7223",),
    "welder": ("7212",),
    "warehouse": ("4321", "8344", "9333"),
    "kitchen_helper": ("9412",),
    "cook": ("5120",),
    "waiter": ("5131", "5132"),
    "construction": ("7112", "9313"),
    "farm_worker": ("9211",),
    "driver": ("8332", "8322"),
    "care_assistant": ("5321",),
    "sales_assistant": ("5223", "5230"),
    "assembly": ("8219", "9321", "8183"),
    "electrician": ("7411",),
}
"""ISCO-08 unit groups (as in config/occupations.yaml) each catalogue job most likely is."""


def job_key_for_occupation(code: str, labels: Sequence[str] = ()) -> str | None:
    """Map an occupation (code and its labels/synonyms) to the catalogue job it corresponds to."""
    if code in JOB_BY_KEY:
        return code
    for key, codes in ISCO_HINTS.items():
        if code in codes:
            return key
    wanted = {_norm(x) for x in labels if x}
    best: tuple[int, str] | None = None
    for job in JOB_KINDS:
        texts = {
            _norm(t)
            for t in (
                *job.it_m,
                *job.it_f,
                *job.uk_m,
                *job.uk_f,
                *job.en,
                *job.vacancy_titles,
            )
        }
        score = 0
        if wanted & texts:
            score = 3
        else:
            for w in wanted:
                if any(len(t) >= 4 and (t in w or w in t) for t in texts):
                    score = max(score, 1)
        if _norm(job.key.replace("_", " ")) in {_norm(code.replace("_", " ")), *wanted}:
            score = max(score, 2)
        if score and (best is None or score > best[0]):
            best = (score, job.key)
    return best[1] if best else None


def generate_vacancies(
    companies: list[str],
    occupation_codes_by_company: Mapping[str, list[str]],
    municipalities: list[str],
    n: int = 40,
    seed: int = 2026,
    *,
    reference_date: date = REFERENCE_DATE,
    occupation_titles: Mapping[str, Sequence[str]] | None = None,
    company_municipalities: Mapping[str, str] | None = None,
) -> list[SyntheticVacancy]:
    """Seeded open positions, each tied to the occupation code it truly is (for match scoring)."""
    if not companies:
        raise ValueError("at least one company is needed")
    rng = _sub_rng(seed, "vacancies")
    titles = occupation_titles or {}
    out: list[SyntheticVacancy] = []
    for _ in range(n):
        company = rng.choice(companies)
        codes = list(occupation_codes_by_company.get(company) or [])
        code = rng.choice(codes) if codes else rng.choice(("assembly", "warehouse", "cleaner"))
        job_key = job_key_for_occupation(code)
        job = JOB_BY_KEY.get(job_key) if job_key else None
        if job:
            title = rng.choice(job.vacancy_titles)
            skills = rng.sample(list(job.skills), k=rng.randint(2, len(job.skills)))
            req_rank = CEFR_LEVELS.index(job.italian_req)
        else:
            labels = list(titles.get(code, ()))[:3] or [code.replace("_", " ")]
            label = rng.choice(labels)
            title = label[:1].upper() + label[1:]
            skills = ["esperienza nel ruolo"]
            req_rank = 2
        if rng.random() < 0.3:
            skills.append(
                rng.choice(
                    (
                        "disponibilità su turni",
                        "automunito/a",
                        "puntualità",
                        "lavoro in team",
                    )
                )
            )
        req_rank = min(4, max(1, req_rank + rng.choice((-1, 0, 0, 1))))
        if job and job.key == "driver":
            licence = "C" if "C" in title else "B"
        else:
            licence = "B" if rng.random() < 0.15 else "nessuna"
        home = (company_municipalities or {}).get(company)
        site = home if home and rng.random() < 0.75 else rng.choice(municipalities)
        out.append(
            SyntheticVacancy(
                company=company,
                title=title,
                occupation_code=code,
                job_key=job_key,
                site=site,
                requirements=skills,
                italian_level=CEFR_LEVELS[req_rank],
                licence=licence,
                contract=_weighted(rng, CONTRACTS),
                openings=_weighted(rng, [(1, 0.4), (2, 0.3), (3, 0.15), (4, 0.1), (5, 0.05)]),
                deadline=reference_date + timedelta(days=rng.randint(30, 92)),
            )
        )
    return out


#: A row the import must refuse twice over: a company that is not a member, openings in words.
BAD_VACANCY_ROW = ("COMP-NON-ASSOCIATA", "Operaio generico", "Bergamo", "", "A2", "B", "tempo determinato", "tanti")


def write_vacancy_file(vacancies: list[SyntheticVacancy], out_path: Path, *, bad_rows: int = 0) -> Path:
    """Confindustria's open positions as the XLSX their office circulates; ``bad_rows`` copies of
    :data:`BAD_VACANCY_ROW` at the end show the error report going back to Confindustria."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Posizioni aperte"
    wb.properties.creator = "Confindustria Bergamo"
    for c, h in enumerate(VACANCY_HEADERS, start=1):
        ws.cell(row=1, column=c, value=h).font = Font(bold=True)
    for r, v in enumerate(vacancies, start=2):
        row: list[Any] = [
            v.company,
            v.title,
            v.site,
            ", ".join(v.requirements),
            v.italian_level,
            v.licence,
            v.contract,
            v.openings,
            v.deadline,
        ]
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
    for r in range(len(vacancies) + 2, len(vacancies) + 2 + bad_rows):
        for c, value in enumerate(BAD_VACANCY_ROW, start=1):
            ws.cell(row=r, column=c, value=value)
    for c, w in enumerate((16, 34, 22, 50, 10, 9, 24, 7, 12), start=1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = w
    save_workbook_deterministic(wb, out_path)
    return out_path


def generate_vacancy_file(
    companies: list[str],
    occupation_codes_by_company: dict[str, list[str]],
    municipalities: list[str],
    out_path: Path,
    n: int = 40,
    seed: int = 2026,
    *,
    reference_date: date = REFERENCE_DATE,
    occupation_titles: Mapping[str, Sequence[str]] | None = None,
    company_municipalities: Mapping[str, str] | None = None,
) -> Path:
    """Generate and write the vacancy XLSX (header on row 1, deadlines 1-3 months after reference_date)."""
    vacancies = generate_vacancies(
        companies,
        occupation_codes_by_company,
        municipalities,
        n,
        seed,
        reference_date=reference_date,
        occupation_titles=occupation_titles,
        company_municipalities=company_municipalities,
    )
    return write_vacancy_file(vacancies, out_path)


# --------------------------------------------------------------------------------------
# Config reading and the top-level builder
# --------------------------------------------------------------------------------------


def _load_yaml(path: Path) -> Any:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_municipalities(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Municipality names from offices.yaml (every office's list), falling back to a built-in sample."""
    data = _load_yaml(config_dir / "offices.yaml")
    offices = data.get("offices", []) if isinstance(data, dict) else (data or [])
    names: list[str] = []
    for office in offices:
        for m in (office or {}).get("municipalities", []) or []:
            name = m.get("name") if isinstance(m, dict) else str(m)
            if name and name not in names:
                names.append(name)
    return names or list(FALLBACK_MUNICIPALITIES)


def load_organisations(config_dir: Path = CONFIG_DIR) -> list[dict[str, Any]]:
    """Organisation entries from organisations.yaml, or a small built-in set for standalone use."""
    data = _load_yaml(config_dir / "organisations.yaml")
    orgs = data.get("organisations", []) if isinstance(data, dict) else (data or [])
    if orgs:
        return [o for o in orgs if isinstance(o, dict) and o.get("code")]
    return [
        {
            "code": "CARITAS-BG",
            "kind": "caritas",
            "name": "Caritas Diocesana Bergamasca",
            "municipality": "Bergamo",
        },
        {
            "code": "ASS-UCR",
            "kind": "association",
            "name": "Associazione Ucraini Bergamo",
            "municipality": "Bergamo",
        },
        {
            "code": "CPIA-BG",
            "kind": "cpia",
            "name": "CPIA Bergamo",
            "municipality": "Bergamo",
        },
        {
            "code": "AMBITO-DALMINE",
            "kind": "ambito",
            "name": "Ambito di Dalmine",
            "municipality": "Dalmine",
        },
        {
            "code": "AMBITO-SERIATE",
            "kind": "ambito",
            "name": "Ambito di Seriate",
            "municipality": "Seriate",
        },
        {
            "code": "AZ-METAL",
            "kind": "company",
            "name": "Meccanica Orobica",
            "municipality": "Dalmine",
            "sectors": ["metalmeccanico"],
        },
        {
            "code": "AZ-LOG",
            "kind": "company",
            "name": "Logistica Bergamasca",
            "municipality": "Stezzano",
            "sectors": ["logistica"],
        },
        {
            "code": "AZ-FOOD",
            "kind": "company",
            "name": "Ristorazione Collettiva",
            "municipality": "Bergamo",
            "sectors": ["ristorazione", "pulizie"],
        },
        {
            "code": "AZ-RSA",
            "kind": "company",
            "name": "Cooperativa Sanitaria",
            "municipality": "Seriate",
            "sectors": ["sanità"],
        },
    ]


def load_occupations(config_dir: Path = CONFIG_DIR) -> list[dict[str, Any]]:
    """Occupation entries from occupations.yaml (empty if the file is not there yet)."""
    data = _load_yaml(config_dir / "occupations.yaml")
    occs = data.get("occupations", []) if isinstance(data, dict) else (data or [])
    return [o for o in occs if isinstance(o, dict) and o.get("code")]


def _occupation_labels(occ: Mapping[str, Any]) -> list[str]:
    labels = [str(occ.get(k)) for k in ("it", "en", "uk") if occ.get(k)]
    syn = occ.get("synonyms") or {}
    if isinstance(syn, dict):
        for values in syn.values():
            labels.extend(str(v) for v in values or [])
    elif isinstance(syn, list):
        labels.extend(str(v) for v in syn)
    return labels


def resolve_occupation_codes(occupations: list[dict[str, Any]]) -> dict[str, str]:
    """Catalogue job -> occupation code from occupations.yaml; unmatched jobs keep their own key."""
    known = {str(o["code"]) for o in occupations}
    found: dict[str, str] = {}
    for key, codes in ISCO_HINTS.items():
        hit = next((c for c in codes if c in known), None)
        if hit:
            found[key] = hit
    for occ in occupations:
        job = job_key_for_occupation(str(occ["code"]), _occupation_labels(occ))
        if job and job not in found:
            found[job] = str(occ["code"])
    return {j.key: found.get(j.key, j.key) for j in JOB_KINDS}


def _jobs_for_sectors(sectors: Sequence[str]) -> list[str]:
    words = [_norm(str(s)) for s in sectors]
    keys = [j.key for j in JOB_KINDS if any(sw in w for w in words for sw in j.sector_words)]
    return keys or ["assembly", "warehouse", "cleaner"]


def _order_referrers(orgs: list[dict[str, Any]], limit: int = 6) -> list[str]:
    """Caritas first (XLSX), a Ukrainian-facing association second (Cyrillic CSV), then CPIA, ambiti, others."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for o in orgs:
        by_kind.setdefault(str(o.get("kind", "")), []).append(o)
    assoc = sorted(
        by_kind.get("association", []),
        key=lambda o: 0 if any(w in _norm(str(o.get("name", ""))) for w in ("ucrain", "ukrain")) else 1,
    )
    ordered: list[dict[str, Any]] = []
    for group in (
        by_kind.get("caritas", [])[:1],
        assoc[:1],
        by_kind.get("cpia", [])[:1],
        by_kind.get("ambito", []),
        assoc[1:],
        by_kind.get("caritas", [])[1:],
        by_kind.get("cpia", [])[1:],
    ):
        for o in group:
            if o not in ordered:
                ordered.append(o)
    return [str(o["code"]) for o in ordered[:limit]]


def build_demo_dataset(out_dir: Path, seed: int = 2026, n_people: int = 280) -> DemoDataset:
    """Generate the whole demo input set (people, partner files, vacancy file) from config and one seed."""
    municipalities = load_municipalities()
    orgs = load_organisations()
    occupations = load_occupations()
    code_by_job = resolve_occupation_codes(occupations)
    titles = {
        str(o["code"]): [
            *((o.get("synonyms") or {}).get("it") or []),
            str(o.get("it") or o["code"]),
        ]
        for o in occupations
    }
    known_codes = set(titles)

    referrers = _order_referrers(orgs)
    companies_orgs = [o for o in orgs if o.get("kind") == "company"]
    companies = [str(o["code"]) for o in companies_orgs]
    occ_by_company: dict[str, list[str]] = {}
    for o in companies_orgs:
        sectors = [str(x) for x in o.get("sectors") or []]
        direct = [x for x in sectors if x in known_codes]  # sectors given as ISCO codes
        occ_by_company[str(o["code"])] = direct or sorted({code_by_job[k] for k in _jobs_for_sectors(sectors)})
    company_municipalities = {str(o["code"]): str(o["municipality"]) for o in companies_orgs if o.get("municipality")}

    out_dir.mkdir(parents=True, exist_ok=True)
    people = generate_people(n_people, seed, municipalities)
    specs = generate_referral_files(people, referrers, out_dir / "referrals", seed, duplicates=25)
    vacancies = generate_vacancies(
        companies,
        occ_by_company,
        municipalities,
        40,
        seed,
        occupation_titles=titles,
        company_municipalities=company_municipalities,
    )
    vacancy_path = write_vacancy_file(vacancies, out_dir / "confindustria_posizioni_aperte.xlsx", bad_rows=1)

    code_by_text: dict[str, str] = {}
    for occ in occupations:
        for label in _occupation_labels(occ):
            if _norm(label):
                code_by_text.setdefault(_norm(label), str(occ["code"]))

    def occupation_codes(person: SyntheticPerson) -> list[str]:
        """The code each typed experience really means: exact synonym first, else the job's code."""
        codes = [
            code_by_text.get(_norm(text), code_by_job[key])
            for text, key in zip(person.experiences, person.experience_keys, strict=True)
        ]
        return list(dict.fromkeys(codes))

    profiles = {
        p.key: OperatorProfile(
            person=p,
            italian_levels=dict(p.true_italian_skills),
            italian_overall=p.true_italian,
            occupation_codes=occupation_codes(p),
            experience_keys=list(p.experience_keys),
            driving_licence=p.driving_licence,
        )
        for p in people
    }
    dataset = DemoDataset(
        seed=seed,
        reference_date=REFERENCE_DATE,
        out_dir=out_dir,
        municipalities=municipalities,
        referrers=referrers,
        companies=companies,
        people=people,
        referral_files=specs,
        vacancy_file=vacancy_path,
        vacancies=vacancies,
        people_by_key=profiles,
        occupation_code_by_job=code_by_job,
    )
    for p in people:
        dataset._cf_index[p.codice_fiscale] = p.key
        for fam, giv in (
            (p.family_name, p.given_names),
            (p.native_family_name, p.native_given_names),
        ):
            dataset._name_index.setdefault(name_key(fam, giv), []).append(p.key)
    for spec in specs:
        for row in spec.rows:
            bucket = dataset._name_index.setdefault(name_key(row.written_family_name, row.written_given_names), [])
            if row.person_key not in bucket:
                bucket.append(row.person_key)
    return dataset
