"""Partner files written by an outsider to the importer (issue 17): imported as a coordinator expects.

The files in tests/data/outsider/ were written without reading the aliases or the corpus; their
expected counts are in expected.yaml. The import is the one the corpus tests use.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from sqlmodel import Session, select

from models.enums import ConsentPurpose, Licence, VacancyStatus
from models.exchange import Vacancy
from models.people import Consent, Person
from tasks.files.phones import script_hints
from tasks.files.rows import parse_yes_no
from tasks.files.vacancy_rows import parse_deadline
from tasks.referral.ingest import ingest_referral_file
from tasks.vacancies import ingest_vacancy_file
from tests.unit.test_imports import emitted, partners  # noqa: F401 (fixtures)

OUTSIDER = Path(__file__).resolve().parents[1] / "data" / "outsider"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((OUTSIDER / "expected.yaml").read_text(encoding="utf-8"))
#: The day the files were written: their deadlines are past or future relative to it.
WRITTEN_ON = "2026-12-04 10:00:00+01:00"


@pytest.fixture(autouse=True)
def written_on() -> Any:
    with time_machine.travel(WRITTEN_ON, tick=False):
        yield


def test_the_folder_holds_the_files_the_expectations_name() -> None:
    files = sorted(p.name for p in OUTSIDER.iterdir() if p.suffix in {".csv", ".xlsx"})
    assert files == sorted(EXPECTED)
    assert len(files) >= 8
    assert {e["kind"] for e in EXPECTED.values()} == {"referral", "vacancy"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_outsider_file(partners: Session, name: str) -> None:  # noqa: F811
    spec = EXPECTED[name]
    path = OUTSIDER / name
    if spec["kind"] == "vacancy":
        _id, counts = ingest_vacancy_file(partners, path, spec["sender"])
        partners.commit()
        got = {k: counts.get(k, 0) for k in ("accepted", "rejected", "closed", "awaiting_company")}
        assert got == {k: spec[k] for k in got}, spec["note"]
        return
    summary = ingest_referral_file(partners, path, spec["sender"])
    partners.commit()
    assert (summary.accepted_rows, summary.rejected_rows) == (spec["accepted"], spec["rejected"]), spec["note"]
    assert summary.unused_columns == spec["unused"]
    assert summary.warnings == spec.get("warnings", [])


def _person(session: Session, family: str) -> Person:
    return session.exec(select(Person).where(Person.family_name == family)).one()


def test_ukrainian_numbers_without_prefix_are_read_as_ukrainian(partners: Session) -> None:  # noqa: F811
    ingest_referral_file(partners, OUTSIDER / "o04_ukraine_association.xlsx", "ASSOC-PONTE-UCRAINA")
    partners.commit()
    shevchenko = _person(partners, "Шевченко")
    assert (shevchenko.phone, shevchenko.phone_raw, shevchenko.phone_verified) == (
        "+380977729795",
        "097 772 97 95",
        True,
    )
    assert _person(partners, "Ткаченко").phone == "+380631112233"  # not a Rome landline
    assert _person(partners, "Мельник").phone == "+393456789012"


def test_script_hints() -> None:
    assert script_hints("Ткаченко Оксана") == ("UA", "RU")
    assert script_hints("Коваль Ірина") == ("UA",)
    assert script_hints("Rossi Mario") == ()
    assert script_hints("Müller Jürgen") == ()


def test_tick_marks_are_consent_and_the_sharing_consent_column_is_read(partners: Session) -> None:  # noqa: F811
    summary = ingest_referral_file(partners, OUTSIDER / "o05_consent_marks.csv", "CARITAS-SER")
    partners.commit()
    assert summary.unused_columns == []

    def purposes(family: str) -> set[ConsentPurpose]:
        key = _person(partners, family).key
        return {c.purpose for c in partners.exec(select(Consent).where(Consent.person_key == key))}

    assert ConsentPurpose.CPI_PROCESSING in purposes("Verdi")  # ✓
    assert ConsentPurpose.CPI_PROCESSING in purposes("Traoré")  # x
    assert ConsentPurpose.PROFILE_TO_CONFINDUSTRIA in purposes("Bianchi")
    assert ConsentPurpose.PROFILE_TO_CONFINDUSTRIA not in purposes("Nikolić")
    assert ConsentPurpose.PROFILE_TO_CONFINDUSTRIA not in purposes("Verdi")  # left empty
    assert parse_yes_no("✔") is True and parse_yes_no("✗") is False


def test_consultant_vacancies_deadlines_and_requirements(partners: Session) -> None:  # noqa: F811
    ingest_vacancy_file(partners, OUTSIDER / "o08_vacancies_consultant.xlsx", "CONFINDUSTRIA-BG")
    partners.commit()
    by_company = {v.company_written: v for v in partners.exec(select(Vacancy))}
    first = by_company["Officine Valseriana"]
    assert first.company_code == "COMP-OFFICINE-VALSERIANA"
    assert first.valid_until == date(2026, 12, 31)  # "entro fine mese"
    assert first.skills == ["patente B", "italiano A2", "disponibilità turni"]
    assert (first.licence_required, first.italian_required) == (Licence.B, "A2")
    welder = by_company["OFFICINE MECCANICHE VALSERIANA SRL"]
    assert welder.valid_until == date(2026, 12, 31) and welder.italian_required == "B1"
    assert by_company["Gomma Tecnica Isola spa"].skills == ["turni 3x8", "italiano base"]
    orio = by_company["Orio Hub Logistica"]
    assert (orio.valid_until, orio.status) == (date(2026, 11, 30), VacancyStatus.CLOSED)
    assert orio.licence_required == Licence.NONE  # "patentino muletto" is a skill, not a driving licence column
    for unknown in ("Brembo", "Fratelli Rota srl - Albano S.A."):
        assert by_company[unknown].company_code is None
        assert by_company[unknown].status == VacancyStatus.AWAITING_COMPANY


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("scad. 30/11/2026", date(2026, 11, 30)),
        ("Scadenza: 31.12.2026", date(2026, 12, 31)),
        ("entro fine mese", date(2026, 12, 31)),
        ("by end of month", date(2026, 12, 31)),
        ("entro fine gennaio", date(2027, 1, 31)),
        ("fino a copertura", None),
    ],
)
def test_deadline_forms(written: str, expected: date | None) -> None:
    assert parse_deadline(written) == expected
