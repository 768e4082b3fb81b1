"""The last front-door rules (issue 17): a comune is read the same way wherever it is written
(a referral, a vacancy's work site, the policy facts), a referral file without a comune column
is imported with a notice, and messages name columns only in Italian.

Real parts: the migrated SQLite app database, the real import and acceptance steps, the place
resolver over config/; only the hand-over of events to Prefect is recorded instead of sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.cases import Case
from models.enums import State
from models.ops import ImportFile, ImportRow
from tasks.core.routing import ASSIGN_OFFICE
from tasks.files.rows import validate_row
from tasks.files.tabular import FileRejected, read_table
from tasks.files.vacancy_rows import VacancyRow
from tasks.policy.facts import case_facts
from tasks.referral.ingest import (
    MUNICIPALITY_COLUMN_MISSING,
    accept_import,
    deduplicate_import,
    file_warning_label,
    ingest_referral_file,
)
from tasks.referral.offices import waiting_for_office
from tasks.runtime import events
from tasks.runtime.events import EventSpec
from tests.factories import make_case, seed_partners


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list[EventSpec]:
    """The events handed to Prefect after each commit (recorded, no server in unit tests)."""
    out: list[EventSpec] = []
    monkeypatch.setattr(events, "emit_now", out.append)
    return out


# --------------------------------------------------------------------------- a vacancy's work site


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("Dalmine (Bg)", "Dalmine"),
        ("Romano di Lomb.", "Romano di Lombardia"),
        ("S. Pellegrino Terme", "San Pellegrino Terme"),
        ("Stabilimento di Dalmine", "Dalmine"),
        ("Sforzatica", "Dalmine"),  # a frazione: its comune
        ("Curno - BG", "Curno"),
        ("Torre de Busi", "Torre de' Busi"),
        ("Zingonia", "Zingonia"),  # five comuni: kept as written, its CPI is still known
        ("Milano", "Milano"),
    ],
)
def test_a_work_site_is_read_like_a_referral_comune(written: str, stored: str) -> None:
    row = VacancyRow.model_validate({"company": "Brembo S.p.A.", "title": "Magazziniere", "municipality": written})
    assert row.municipality == stored


# --------------------------------------------------------------------------- policy facts


@pytest.mark.parametrize(
    ("written", "region"),
    [
        ("Bergamo", "Lombardia"),
        ("Dalmine (Bg)", "Lombardia"),
        ("Romano di Lomb.", "Lombardia"),
        ("Sforzatica", "Lombardia"),
        ("Zingonia", "Lombardia"),
        ("BERGAMO - BG", "Lombardia"),
        ("Milano", None),
        ("senza fissa dimora", None),
    ],
)
def test_the_dote_region_reads_the_comune_like_the_import(session: Session, written: str, region: str | None) -> None:
    seed_partners(session)
    case = make_case(session, state=State.ACCEPTED, municipality=written)
    assert case_facts(session, case).region == region


# --------------------------------------------------------------------------- no comune column


def _no_comune_file(tmp_path: Path) -> Path:
    path = tmp_path / "sportello_migranti_elenco.csv"
    path.write_text(
        "Cognome;Nome;Data di nascita;Telefono;Consenso privacy\r\n"
        "Bonacina;Chiara;12/05/1994;347 1122334;SI\r\n"
        "Diallo;Awa;03/11/1989;;SI\r\n"
        "Shevchenko;Oksana;21/07/1979;097 772 97 95;SI\r\n",
        encoding="utf-8",
    )
    return path


def test_a_referral_file_without_a_comune_column_is_imported_with_a_notice(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    summary = ingest_referral_file(session, _no_comune_file(tmp_path), "CARITAS-BG")
    assert (summary.accepted_rows, summary.rejected_rows) == (3, 0)
    assert MUNICIPALITY_COLUMN_MISSING in summary.warnings
    imp = session.get(ImportFile, summary.import_id)
    assert imp is not None and MUNICIPALITY_COLUMN_MISSING in (imp.notices or {})["warnings"]
    label = file_warning_label(MUNICIPALITY_COLUMN_MISSING)
    assert "colonna del comune" in label and "_" not in label
    deduplicate_import(session, summary.import_id)
    counts = accept_import(session, summary.import_id)
    assert counts["waiting_office"] == 3 and not counts.get("accepted") and not counts.get("rejected")
    session.commit()
    cases = session.exec(select(Case)).all()
    assert {(c.state, c.next_step, c.next_step_reason, c.owner) for c in cases} == {
        (State.REFERRED, ASSIGN_OFFICE, "empty", "coordinators")
    }
    assert {w.label for w in waiting_for_office(session)} == {"comune non indicato"}
    assert session.exec(select(ImportRow)).all() == []


def test_a_file_with_the_comune_column_has_no_such_notice(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "con_comune.csv"
    path.write_text("Cognome;Nome;Comune\r\nPesenti;Marco;Seriate\r\n", encoding="utf-8")
    seed_partners(session)
    assert MUNICIPALITY_COLUMN_MISSING not in ingest_referral_file(session, path, "CARITAS-BG").warnings


# --------------------------------------------------------------------------- Italian column names


def test_a_missing_vacancy_column_is_named_in_italian_only(tmp_path: Path) -> None:
    path = tmp_path / "posizioni.csv"
    path.write_text("Azienda;Sede;Posti\r\nBrembo S.p.A.;Curno;2\r\n", encoding="utf-8")
    with pytest.raises(FileRejected) as info:
        read_table(path, "vacancy", required=["company", "title"])
    message = str(info.value)
    assert "manca la colonna obbligatoria «Mansione» nella riga di intestazione 1" in message
    assert "title" not in message and "(" not in message


def test_a_row_error_names_the_column_in_italian_when_the_file_gives_no_header() -> None:
    # a portal call sends fields by their internal names: the sender still reads Italian
    row, errors = validate_row({"family_name": "Hoxha", "given_names": "Ardit", "email": "ardit.hoxha@"}, {})
    assert row is None
    assert [(e["column"], e["reason"]) for e in errors] == [("E-mail", "indirizzo e-mail non valido")]
