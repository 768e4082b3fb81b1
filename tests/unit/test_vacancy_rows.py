"""A vacancy row's cells as companies and Confindustria write them (tasks/files/vacancy_rows.py),
and the vacancy headers in their variants (config/columns.yaml ``vacancy:``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import time_machine

from models.enums import Cefr, Licence
from tasks.files.headers import match_header
from tasks.files.vacancy_rows import VacancyRow, parse_deadline, parse_licence, parse_openings, parse_required_level

ROME_NOON = datetime(2026, 12, 4, 11, 0)  # UTC: 12:00 in Bergamo


@pytest.mark.parametrize(
    ("written", "level"),
    [
        ("non richiesto", Cefr.PRE_A1),
        ("Non richiesta", Cefr.PRE_A1),
        ("nessuno", Cefr.PRE_A1),
        ("-", Cefr.PRE_A1),
        ("/", Cefr.PRE_A1),
        ("not required", Cefr.PRE_A1),
        ("Non necessario", Cefr.PRE_A1),
        ("indifferente", Cefr.PRE_A1),
        ("Non indispensabile, gradito A2", Cefr.PRE_A1),
        ("A2", Cefr.A2),
        ("a 2", Cefr.A2),
        ("B1 (QCER)", Cefr.B1),
        ("livello B1", Cefr.B1),
        ("almeno A2", Cefr.A2),
        ("A2/B1", Cefr.A2),
        ("A2-B1", Cefr.A2),
        ("B1 o superiore", Cefr.B1),
        ("pre-A1", Cefr.PRE_A1),
        ("base", Cefr.A2),
        ("Buona conoscenza", Cefr.B1),
        ("ottimo", Cefr.B2),
        ("madrelingua", Cefr.C2),
        ("", Cefr.A2),  # not said: the usual A2
        (None, Cefr.A2),
    ],
)
def test_italian_level_required(written: Any, level: Cefr) -> None:
    assert parse_required_level(written) is level


def test_an_italian_level_that_means_nothing_is_an_italian_error() -> None:
    with pytest.raises(ValueError, match=r"livello «.*» non riconosciuto"):
        parse_required_level("quanto basta?")


@pytest.mark.parametrize(
    ("written", "licence"),
    [
        ("B", Licence.B),
        ("patente B", Licence.B),
        ("Patente B - automunito", Licence.B),
        ("automunito/a", Licence.B),
        ("cat. C", Licence.C),
        ("C+E", Licence.CE),
        ("CE", Licence.CE),
        ("D", Licence.D),
        ("patentino muletto", Licence.FORKLIFT),
        ("SI", Licence.B),  # an "Automunito" column
        ("sì", Licence.B),
        ("non richiesta", Licence.NONE),
        ("nessuna", Licence.NONE),
        ("-", Licence.NONE),
        ("no", Licence.NONE),
        ("not required", Licence.NONE),
        ("", Licence.NONE),
    ],
)
def test_licence_required(written: str, licence: Licence) -> None:
    assert parse_licence(written) is licence


def test_an_unknown_licence_is_an_italian_error() -> None:
    with pytest.raises(ValueError, match="patente «patente nautica» non riconosciuta"):
        parse_licence("patente nautica")


@time_machine.travel(ROME_NOON, tick=False)
@pytest.mark.parametrize(
    ("written", "deadline"),
    [
        ("31/01/2027", date(2027, 1, 31)),
        ("31.1.27", date(2027, 1, 31)),
        ("2027-01-31", date(2027, 1, 31)),
        ("31-01-2027 12:00", date(2027, 1, 31)),
        ("entro il 31/01/2027", date(2027, 1, 31)),
        ("Valida fino al 31/01/2027 ore 12.00", date(2027, 1, 31)),
        ("31 gennaio 2027", date(2027, 1, 31)),
        ("31 Gen 2027", date(2027, 1, 31)),
        ("31-gen-27", date(2027, 1, 31)),
        ("31-Jan-2027", date(2027, 1, 31)),
        ("January 31, 2027", date(2027, 1, 31)),
        ("1° febbraio 2027", date(2027, 2, 1)),
        ("febbraio 2027", date(2027, 2, 28)),
        ("fine marzo", date(2027, 3, 31)),  # written in December: next March
        ("fine dicembre", date(2026, 12, 31)),
        ("31/01", date(2027, 1, 31)),  # no year: the nearest to today
        ("30/11", date(2026, 11, 30)),  # just passed: closed
        ("03/2027", date(2027, 3, 31)),
        (datetime(2027, 1, 31, 0, 0), date(2027, 1, 31)),
        (46418, date(2027, 1, 31)),  # an Excel serial
        ("fino a copertura della posizione", None),
        ("aperta", None),
        ("-", None),
        ("", None),
        (None, None),
    ],
)
def test_deadlines_in_the_forms_partners_write(written: Any, deadline: date | None) -> None:
    assert parse_deadline(written) == deadline


def test_an_unreadable_deadline_is_an_italian_error() -> None:
    with pytest.raises(ValueError, match="data"):
        parse_deadline("31/02/2027")


@pytest.mark.parametrize(
    ("written", "n"),
    [
        ("3", 3),
        (3.0, 3),
        ("3,0", 3),
        ("n. 3", 3),
        ("3 posti", 3),
        ("2 persone", 2),
        ("", 1),
        ("2-3", 3),
        ("da 2 a 4", 4),
    ],
)
def test_openings(written: Any, n: int) -> None:
    assert parse_openings(written) == n


def test_openings_in_words_are_an_italian_error() -> None:
    with pytest.raises(ValueError, match="numero di posti «tanti» non valido"):
        parse_openings("tanti")


def test_a_row_merges_its_requirement_columns_and_needs_a_company_or_a_vat() -> None:
    row = VacancyRow.model_validate(
        {
            "company": "Rossi Meccanica srl",
            "title": "Saldatore",
            "skills": "saldatura MIG; lettura disegno\n- uso del calibro",
            "skills_secondary": "turni, -",
            "municipality": "Dalmine (BG)",
            "italian_required": "non richiesto",
        }
    )
    assert row.skills == ["saldatura MIG", "lettura disegno", "uso del calibro", "turni"]
    assert row.municipality == "Dalmine" and row.italian_required is Cefr.PRE_A1
    assert VacancyRow.model_validate({"vat": 2345670166.0, "title": "Magazziniere"}).vat == "2345670166"
    with pytest.raises(ValueError, match="ragione sociale o la partita IVA"):
        VacancyRow.model_validate({"company": " ", "title": "Magazziniere"})


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Ragione sociale", "company"),
        ("Denominazione impresa", "company"),
        ("P.IVA", "vat"),
        ("Partita I.V.A.", "vat"),
        ("C.F./P.IVA", "vat"),
        ("Partita IVA azienda", "vat"),
        ("Figura ricercata", "title"),
        ("Qualifica", "title"),
        ("Posizioni aperte", "openings"),
        ("N° posti", "openings"),
        ("Risorse richieste", "openings"),
        ("Sede di lavoro", "municipality"),
        ("Località", "municipality"),
        ("Requisiti richiesti", "skills"),
        ("Requisiti minimi", "skills"),
        ("Competenze tecniche", "skills"),
        ("Esperienza richiesta", "skills"),
        ("Conoscenza della lingua italiana", "italian_required"),
        ("Livello di italiano richiesto", "italian_required"),
        ("Italiano (livello QCER)", "italian_required"),
        ("Patente di guida", "licence"),
        ("Automunito", "licence"),
        ("Tipologia contratto", "contract"),
        ("Scadenza candidature", "valid_until"),
        ("Data scadenza candidatura", "valid_until"),
        ("Termine candidature", "valid_until"),
        ("Valida fino al", "valid_until"),
        ("Data chiusura ricerca", "valid_until"),
        ("Scadenza (gg/mm/aaaa)", "valid_until"),
        ("Application deadline", "valid_until"),
        ("Closing date", "valid_until"),
        ("Scadenza contratto", None),  # the contract's end, not the position's deadline
        ("Retribuzione", None),
    ],
)
def test_vacancy_headers_in_their_variants(header: str, field: str | None) -> None:
    assert match_header("vacancy", header) == field
