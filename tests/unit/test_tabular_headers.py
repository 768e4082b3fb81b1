"""Headers as partners write them (issue 17): variants and typos recognised, false friends refused,
the header row found under title blocks, a missing column named, a repeated name kept as a
secondary field, repeated header lines skipped, and every unused column told to the sender."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from models.ops import ImportFile, ImportRow, Outbox
from models.people import Person
from tasks.files.tabular import FileRejected, read_table
from tasks.referral.ingest import accept_import, acknowledge_import, deduplicate_import, ingest_referral_file
from tests.factories import seed_partners

REQUIRED = ("family_name", "given_names", "municipality")


def _csv(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding=encoding)
    return path


# --- one header cell ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Città", "municipality"),
        ("Town of residence", "municipality"),
        ("City of residence", "municipality"),
        ("Località di residenza", "municipality"),
        ("Luogo di domicilio", "municipality"),
        ("Comune residenza/domicilio", "municipality"),
        ("Comune di residnza", "municipality"),  # a typo
        ("Місто", "municipality"),
        ("COGNOME (obbligatorio)", "family_name"),
        ("Cognome*", "family_name"),
        ("Cognme", "family_name"),
        ("Surname / Cognome / Прізвище", "family_name"),
        ("Nome (come da documento)", "given_names"),
        ("Data nascita (gg/mm/aaaa)", "birth_date"),
        ("DataNascita", "birth_date"),
        ("data_nascita", "birth_date"),
        ("Date of birth (dd/mm/yyyy)", "birth_date"),
        ("Comune di nascita", "birth_place"),
        ("Country of birth", "birth_place"),
        ("Numero di telefono", "phone"),
        ("Tel. cellulare", "phone"),
        ("Telefono 2", "phone"),
        ("Telefno", "phone"),
        ("Номер телефону", "phone"),
        ("Indirizzo e-mail", "email"),
        ("E-mail address", "email"),
        ("Cod. Fisc.", "codice_fiscale"),
        ("Naz.", "citizenship"),
        ("Paese di origine", "citizenship"),
        ("Titolo studio", "education"),
        ("Esperienze lavorative precedenti", "experiences"),
        ("Livello di italiano (QCER)", "italian_level"),
        ("Consenso al trattamento dei dati personali (SI/NO)", "consent_privacy"),
        ("Consenso invio profilo a Confindustria", "consent_confindustria"),
    ],
)
def test_header_variants_are_recognised(header: str, field: str) -> None:
    from tasks.files.headers import match_header

    assert match_header("referral", header) == field


@pytest.mark.parametrize(
    "header",
    [
        "Nome ente",  # the organisation's name, not the person's
        "Nome operatore",
        "Telefono referente",  # the referrer's phone, not the person's
        "Email operatore",
        "Data",  # which date?
        "Data segnalazione",
        "Cognome e nome",  # one column for two fields: ambiguous
        "Nome e cognome",
        "Full name",
        "Indirizzo",
        "Indirizzo di residenza",
        "Note",
        "Elenco segnalazioni - Comune di Bergamo",
        "",
    ],
)
def test_false_friends_are_not_matched(header: str) -> None:
    from tasks.files.headers import match_header

    assert match_header("referral", header) is None


# --- the header row ---------------------------------------------------------------------------


def test_header_row_is_found_below_a_title_block_that_names_a_field(tmp_path: Path) -> None:
    """The row mapping the most fields wins, not the first row that mentions one."""
    path = _csv(
        tmp_path,
        "cpia.csv",
        [
            "CPIA 1 Bergamo - Elenco iscritti;;;;",
            "Comune;Bergamo;;;",  # a title line that happens to name a field
            ";;;;",
            "Anno scolastico 2026/27;;;;",
            "Estratto il 12/11/2026;;;;",
            "N.;Cognome;Nome;Città;Telefono",
            "1;Rossi;Anna;Bergamo;333 1234567",
            "2;Diallo;Mamadou;Dalmine;347 9988776",
        ],
    )
    table = read_table(path, "referral", required=REQUIRED)
    assert table.header_row == 6
    assert [n for n, _ in table.rows] == [7, 8]
    assert table.record(table.rows[0][1])["municipality"] == "Bergamo"


def test_a_missing_required_column_is_named_with_its_header_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "senza_cognome.csv", ["Nome;Data di nascita;Comune", "Anna;01/01/1990;Bergamo"])
    with pytest.raises(FileRejected) as info:
        read_table(path, "referral", required=REQUIRED)
    message = str(info.value)
    assert message.startswith("senza_cognome.csv: manca la colonna obbligatoria «Cognome»")
    assert "nella riga di intestazione 1" in message
    assert "non trovata" not in message


def test_one_column_for_surname_and_name_names_both_missing_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path, "unica.csv", ["Cognome e nome;Telefono;Comune", "Rossi Mario;333 1234567;Bergamo"])
    with pytest.raises(FileRejected) as info:
        read_table(path, "referral", required=REQUIRED)
    message = str(info.value)
    assert "manca la colonna obbligatoria «Cognome» nella riga di intestazione 1" in message
    assert "manca la colonna obbligatoria «Nome» nella riga di intestazione 1" in message
    assert "separarli in due colonne" in message


def test_a_file_without_any_header_still_says_so(tmp_path: Path) -> None:
    path = _csv(tmp_path, "dati.csv", ["Rossi;Mario;Bergamo", "Bianchi;Anna;Dalmine"])
    with pytest.raises(FileRejected, match=r"dati\.csv: riga di intestazione non trovata nelle prime 30 righe"):
        read_table(path, "referral", required=REQUIRED)


def test_xlsx_header_found_below_title_rows(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in [
        ["Associazione Ponte - segnalazioni"],
        [],
        ["Compilare una riga per persona"],
        ["Surname", "First name", "Town of residence", "Mobile phone", "Remarks"],
        ["Koval", "Olena", "Bergamo", "+380 67 123 4567", "speaks English"],
    ]:
        ws.append(row)
    path = tmp_path / "ponte.xlsx"
    wb.save(path)
    table = read_table(path, "referral", required=REQUIRED)
    assert table.header_row == 4
    assert table.record(table.rows[0][1])["municipality"] == "Bergamo"
    assert table.record(table.rows[0][1])["phone"] == "+380 67 123 4567"
    assert table.unknown_headers == ["Remarks"]


# --- duplicates, repeated headers, unused columns -----------------------------------------------


def test_the_same_header_twice_becomes_primary_and_secondary(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "caritas.csv",
        [
            "Cognome;Nome;Telefono;Comune;Telefono",
            "Rossi;Anna;333 1234567;Bergamo;035 294512",
            "Diallo;Mamadou;;Dalmine;035 561122",
        ],
    )
    table = read_table(path, "referral", required=REQUIRED)
    assert table.secondary == {4: "phone_secondary"}
    first, second = (table.record(cells) for _, cells in table.rows)
    assert (first["phone"], first["phone_secondary"]) == ("333 1234567", "035 294512")
    assert (second["phone"], second["phone_secondary"]) == ("", "035 561122")
    labels = table.labels()
    assert labels["phone"] == "Telefono (colonna C)" and labels["phone_secondary"] == "Telefono (colonna E)"


def test_repeated_header_lines_inside_the_data_are_skipped(tmp_path: Path) -> None:
    header = "Cognome;Nome;Comune;Consenso privacy"
    lines = [header]
    for block in range(3):
        lines += [f"Rossi{c};Anna;Bergamo;SI" for c in "abcd"]
        # as pasted from another list: the same header re-typed with other variants
        lines.append("COGNOME;NOME;CITTÀ;CONSENSO;" if block % 2 else "Cognome ;Nome;Comune di residenza;Privacy")
    path = _csv(tmp_path, "incollato.csv", lines)
    table = read_table(path, "referral", required=REQUIRED)
    assert len(table.rows) == 12
    assert all(table.record(cells)["family_name"].startswith("Rossi") for _, cells in table.rows)


def test_unused_columns_are_listed(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "elenco.csv",
        ["Cognome;Nome;Comune;Note;Operatore;Nome", "Rossi;Anna;Bergamo;urgente;Suor Anna;Maria"],
    )
    table = read_table(path, "referral", required=REQUIRED)
    assert table.unknown_headers == ["Note", "Operatore"]
    unused = table.unused({"family_name", "given_names", "municipality"})
    assert unused == ["Note", "Operatore", "Nome (colonna F)"]


# --- through the referral import ------------------------------------------------------------------


def test_referral_import_keeps_the_second_phone_and_tells_the_unused_columns(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    path = _csv(
        tmp_path,
        "caritas_telefoni.csv",
        [
            "Cognome;Nome;Telefono;Città;Telefono;Consenso privacy;Note del centro;Scadenza permesso",
            "Rossi;Anna;333 1234567;Bergamo;035 294512;SI;segue corso;01/02/2027",
            "Diallo;Mamadou;;Dalmine;035 561122;SI;;",
            "COGNOME;NOME;TELEFONO;CITTÀ;TELEFONO;CONSENSO PRIVACY;NOTE DEL CENTRO;SCADENZA PERMESSO",
            "Okafor;Grace;347 9988776;Seriate;;SI;;",
        ],
    )
    summary = ingest_referral_file(session, path, "CARITAS-BG")
    assert (summary.accepted_rows, summary.rejected_rows) == (3, 0)
    assert summary.unused_columns == ["Note del centro"]
    phones = {p.family_name: (p.phone, p.phone_secondary) for p in session.exec(select(Person))}
    assert phones["Rossi"] == ("+393331234567", "+39035294512")
    assert phones["Diallo"] == ("+39035561122", None)  # only a landline: it is the phone
    deduplicate_import(session, summary.import_id)
    accept_import(session, summary.import_id)
    acknowledge_import(session, summary.import_id)
    session.commit()
    imp = session.exec(select(ImportFile)).one()
    assert imp.notices["unused_columns"] == ["Note del centro"]
    assert session.exec(select(ImportRow)).all() == []
    ack = session.exec(select(Outbox).where(Outbox.kind == "referral_ack")).one()
    assert "colonne non usate: «Note del centro»" in ack.body_text
    assert "Note del centro" in (ack.body_html or "")


def test_a_vacancy_file_keeps_its_unused_columns_and_tells_them_with_the_errors(
    session: Session, tmp_path: Path
) -> None:
    from tasks.vacancies import ingest_vacancy_file

    seed_partners(session)
    path = _csv(
        tmp_path,
        "posizioni.csv",
        [
            "Azienda;Mansione;Sede;Posti;Referente aziendale;Note interne",
            "COMP-GOMMA-ISOLA;Operaio stampaggio gomma;Bergamo;3;ufficio personale;urgente",
            "COMP-GOMMA-ISOLA;Magazziniere;Bergamo;tanti;ufficio personale;",
        ],
    )
    ingest_vacancy_file(session, path, "CONFINDUSTRIA-BG")
    session.commit()
    imp = session.exec(select(ImportFile)).one()
    assert imp.notices["unused_columns"] == ["Referente aziendale", "Note interne"]
    report = session.exec(select(Outbox).where(Outbox.kind == "import_errors")).one()
    assert "colonne non usate: «Referente aziendale», «Note interne»" in report.body_text


def test_a_template_line_of_hints_and_an_example_under_the_header_are_not_people(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "modello.csv",
        [
            "Cognome;Nome;Data di nascita;Comune;Consenso privacy",
            "obbligatorio;obbligatorio;gg/mm/aaaa;;SI/NO",
            "Es. Rossi;Mario;01/01/1980;Bergamo;SI",
            "Diallo;Mamadou;01/07/1999;Dalmine;SI",
        ],
    )
    table = read_table(path, "referral", required=REQUIRED)
    assert table.header_row == 1 and [n for n, _ in table.rows] == [4]
