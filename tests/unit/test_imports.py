"""Partner files in, clear errors out (issue 5): the corpus, row errors, re-imports, streaming."""

from __future__ import annotations

import csv
import io
import shutil
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

import models.tables  # noqa: F401  (table_counts counts every table)
from models.cases import Case
from models.enums import InterestAnswer, State
from models.exchange import Interest, Outcome
from models.ops import ImportFile, ImportRow, Outbox
from models.people import Consent, Person, Referral
from tasks.files.sheets import profiles_xlsx
from tasks.files.tabular import FileRejected, column_letter, open_table, parse_date, read_table
from tasks.referral.ingest import ingest_referral_file
from tasks.runtime import events
from tasks.runtime.events import EventSpec
from tasks.vacancies import ingest_vacancy_file
from tests.factories import make_case, seed_partners

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "corpus"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((DATA / "expected.yaml").read_text(encoding="utf-8"))


def table_counts(session: Session) -> dict[str, int]:
    """Rows in every application table: the database is unchanged iff this is unchanged."""
    session.expire_all()
    return {
        name: int(session.exec(select(func.count()).select_from(table)).one())
        for name, table in SQLModel.metadata.tables.items()
    }


def ingest(session: Session, path: Path, kind: str, sender: str) -> tuple[int, int]:
    """Import one file the way the stage flows do; (accepted, rejected)."""
    if kind == "vacancy":
        _id, counts = ingest_vacancy_file(session, path, sender)
        session.commit()
        return counts.get("accepted", 0), counts.get("rejected", 0)
    summary = ingest_referral_file(session, path, sender)
    session.commit()
    return summary.accepted_rows, summary.rejected_rows


@pytest.fixture(autouse=True)
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[EventSpec]:
    """Prefect events the imports announce after commit, captured instead of sent to an API."""
    sent: list[EventSpec] = []
    monkeypatch.setattr(events, "emit_now", sent.append)
    return sent


@pytest.fixture
def partners(session: Session) -> Session:
    seed_partners(session)
    return session


def test_corpus_is_big_enough_and_covers_the_formats() -> None:
    names = sorted(EXPECTED)
    assert len(names) >= 15
    assert sorted(p.name for p in CORPUS.iterdir()) == names
    suffixes = {Path(n).suffix for n in names}
    assert {".csv", ".xlsx", ".json", ".tsv", ".txt"} <= suffixes
    assert sum(1 for e in EXPECTED.values() if e["kind"] == "vacancy") >= 2
    assert sum(1 for e in EXPECTED.values() if "error" in e) >= 3


def test_corpus_is_reproducible(tmp_path: Path) -> None:
    """The committed files are exactly what make_corpus.py writes (no hand edits drift in)."""
    from tests.data import make_corpus

    copy = tmp_path / "data"
    shutil.copytree(DATA, copy, ignore=shutil.ignore_patterns("__pycache__"))
    make_corpus.HERE, make_corpus.CORPUS = copy, copy / "corpus"
    try:
        make_corpus.build()
    finally:
        make_corpus.HERE, make_corpus.CORPUS = DATA, CORPUS
    for path in sorted(CORPUS.iterdir()):
        assert (copy / "corpus" / path.name).read_bytes() == path.read_bytes(), path.name
    assert (copy / "expected.yaml").read_text(encoding="utf-8") == (DATA / "expected.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(partners: Session, name: str) -> None:
    spec = EXPECTED[name]
    path = CORPUS / name
    before = table_counts(partners)
    if "error" in spec:
        with pytest.raises(FileRejected, match=spec["error"]) as info:
            ingest(partners, path, spec["kind"], spec["sender"])
        assert str(info.value).startswith(name)
        partners.rollback()
        assert table_counts(partners) == before, "a file rejected as a whole must leave no trace"
        return
    accepted, rejected = ingest(partners, path, spec["kind"], spec["sender"])
    assert (accepted, rejected) == (spec["accepted"], spec["rejected"]), spec["note"]
    imp = partners.exec(select(ImportFile)).one()
    assert (imp.rows_total, imp.rows_accepted, imp.rows_rejected) == (accepted + rejected, accepted, rejected)
    bad = partners.exec(select(ImportRow)).all()
    assert len(bad) == rejected
    for row in bad:
        assert row.errors and all(e["column"] and e["reason"] for e in row.errors)
    # importing the same bytes again changes nothing
    after = table_counts(partners)
    again = ingest_referral_file(partners, path, spec["sender"]) if spec["kind"] == "referral" else None
    if again is not None:
        assert again.already_imported and again.import_id == imp.id
    else:
        assert ingest_vacancy_file(partners, path, spec["sender"]) == (imp.id, {"already_imported": 1})
    partners.commit()
    assert table_counts(partners) == after


def people(session: Session) -> list[tuple[str, str]]:
    return [(p.family_name, p.given_names) for p in session.exec(select(Person))]


def test_cp1252_names_are_never_misdecoded(partners: Session) -> None:
    ingest(partners, CORPUS / "01_caritas_excel_cp1252.csv", "referral", "CARITAS-BG")
    ingest(partners, CORPUS / "16_mixed_encoding.csv", "referral", "CARITAS-TRV")
    names = people(partners)
    assert ("Bonacina", "Nicolò") in names and ("Bonacina", "Niccolò") in names
    assert ("Müller", "Jürgen") in names
    assert not any("Ã" in f + g or "\ufffd" in f + g for f, g in names)
    person = partners.exec(select(Person).where(Person.given_names == "Jürgen")).first()
    assert person is not None and person.name_norm == "muller jurgen"


def test_cyrillic_names_kept_as_written_with_normalised_form(partners: Session, emitted: list[EventSpec]) -> None:
    ingest(partners, CORPUS / "12_ukrainian_cyrillic_utf8.csv", "referral", "ASSOC-PONTE-UCRAINA")
    assert len(emitted) == 4  # one incontro.case.referred per accepted row, case codes only
    for spec in emitted:
        text = repr(spec)
        assert spec.resource_id.startswith("incontro.case.BG-")
        assert not any(word in text for word in ("Коваленко", "Олена", "+380", "1985", "example"))
    olena = partners.exec(select(Person).where(Person.family_name == "Коваленко")).one()
    assert (olena.given_names, olena.native_given_names, olena.name_norm) == ("Олена", "Олена", "kovalenko olena")
    assert olena.phone == "+380671234567" and olena.birth_date == date(1985, 3, 12)
    maryana = partners.exec(select(Person).where(Person.given_names == "Мар'яна")).one()
    assert maryana.name_norm == "melnyk mariana"


def test_rejected_rows_carry_every_error_in_italian(partners: Session) -> None:
    ingest(partners, CORPUS / "01_caritas_excel_cp1252.csv", "referral", "CARITAS-BG")
    bad = {r.row_number: r for r in partners.exec(select(ImportRow))}
    assert sorted(bad) == [6, 7]  # header is row 1, as Excel shows it
    (cf_error,) = bad[6].errors
    assert cf_error["column"] == "Codice fiscale" and "codice fiscale non valido" in cf_error["reason"]
    assert len(cf_error["value"]) == 16
    (mail_error,) = bad[7].errors
    assert mail_error == {
        "column": "E-mail",
        "value": "fatima.elamrani@example,com",
        "reason": "indirizzo e-mail non valido",
    }
    assert bad[7].raw["family_name"] == "El Amrani"  # kept so an operator can fix it


def test_a_row_with_several_problems_reports_them_all(partners: Session, tmp_path: Path) -> None:
    path = tmp_path / "molti_errori.csv"
    path.write_text(
        "Cognome;Nome;Data di nascita;Cellulare;E-mail;Comune di residenza;Consenso privacy\n"
        "Rossi;Anna;31/02/1990;12;anna@;Milano;forse\n",
        encoding="utf-8",
    )
    summary = ingest_referral_file(partners, path, "CARITAS-BG")
    assert (summary.accepted_rows, summary.rejected_rows) == (0, 1)
    (row,) = partners.exec(select(ImportRow)).all()
    by_column = {e["column"]: e for e in row.errors}
    # Milano is not an error: outside the province, the case would wait for a CPI (test_places.py);
    # nor is the phone "12": dropped with a warning (test_people_fields.py)
    assert set(by_column) == {"Data di nascita", "E-mail", "Consenso privacy"}
    assert by_column["Data di nascita"]["reason"].startswith("data inesistente")
    assert "SI oppure NO" in by_column["Consenso privacy"]["reason"]
    assert row.row_number == 2


def test_unsafe_cell_values_are_shown_safely(partners: Session, tmp_path: Path) -> None:
    path = tmp_path / "controllo.csv"
    path.write_text(f"Cognome;Nome;Comune;E-mail\nRossi;Anna;Bergamo;\x07=cmd|x{'y' * 200}\n", encoding="utf-8")
    ingest_referral_file(partners, path, "CARITAS-BG")
    (row,) = partners.exec(select(ImportRow)).all()
    value = row.errors[0]["value"]
    assert value.startswith("?=cmd") and len(value) == 60 and value.isprintable()


def test_corrected_resubmission_of_only_the_bad_rows_is_accepted(partners: Session, tmp_path: Path) -> None:
    first = ingest_referral_file(partners, CORPUS / "01_caritas_excel_cp1252.csv", "CARITAS-BG")
    partners.commit()
    assert (first.accepted_rows, first.rejected_rows) == (6, 2)
    # the partner fixes the two rows the error report listed and sends only those
    source = (CORPUS / "01_caritas_excel_cp1252.csv").read_bytes().decode("cp1252").splitlines()
    header, bad_rows = source[0], [source[5], source[6]]
    fixed_cf = bad_rows[0].split(";")
    from demo.synthetic.corpus import PEOPLE
    from demo.synthetic.taxcodes import tax_code as cf

    fixed_cf[5] = cf(*PEOPLE[4][:5])
    fixed_mail = bad_rows[1].replace("example,com", "example.com")
    corrected = tmp_path / "correzioni.csv"
    corrected.write_bytes(("\r\n".join([header, ";".join(fixed_cf), fixed_mail]) + "\r\n").encode("cp1252"))
    second = ingest_referral_file(partners, corrected, "CARITAS-BG")
    partners.commit()
    assert (second.accepted_rows, second.rejected_rows) == (2, 0)
    assert second.import_id != first.import_id
    assert set(first.case_codes).isdisjoint(second.case_codes)
    assert table_counts(partners)["person"] == 8
    assert ("Müller", "Jürgen") in people(partners)
    # and sending the correction twice changes nothing
    before = table_counts(partners)
    assert ingest_referral_file(partners, corrected, "CARITAS-BG").already_imported
    partners.commit()
    assert table_counts(partners) == before


def test_everything_a_valid_row_becomes(partners: Session) -> None:
    summary = ingest_referral_file(partners, CORPUS / "03_caritas_title_block.xlsx", "CARITAS-BG")
    partners.commit()
    assert len(summary.case_codes) == 6 == len(set(summary.case_codes))
    refs = partners.exec(select(Referral).order_by(col(Referral.row_number))).all()
    assert [r.row_number for r in refs] == [5, 6, 7, 9, 10, 11]  # title block: data starts on row 5
    cases = partners.exec(select(Case)).all()
    assert {c.code for c in cases} == set(summary.case_codes)
    assert partners.exec(select(func.count()).select_from(Consent)).one() == 12  # 2 per privacy "SI"
    first = partners.exec(select(Person).where(Person.family_name == "Bonacina")).one()
    assert first.phone == "+393331234567" and first.birth_date == date(1988, 4, 12)  # number cell, date cell
    # a number cell whose leading 0 Excel dropped: the Bergamo landline is read back
    lost_zero = partners.exec(select(Person).where(Person.phone == "+39035294512")).one()
    assert (lost_zero.phone_raw, lost_zero.phone_verified) == ("35294512", True)


def test_chunked_ingest_gives_the_same_result(partners: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("INCONTRO_CHUNK_SIZE", "2")
    get_settings.cache_clear()
    summary = ingest_referral_file(partners, CORPUS / "05_mixed_dates.csv", "CARITAS-BG")
    partners.commit()
    assert (summary.accepted_rows, summary.rejected_rows) == (6, 2)
    numbers = sorted(int(c.rsplit("-", 1)[1]) for c in summary.case_codes)
    assert numbers == list(range(numbers[0], numbers[0] + 6))
    dates = sorted(p.birth_date or date.min for p in partners.exec(select(Person)))
    assert dates == sorted(
        [
            date(1988, 4, 12),
            date(1975, 11, 3),
            date(1998, 7, 5),
            date(1985, 2, 26),
            date(1969, 1, 30),
            date(1992, 9, 21),
        ]
    )


def test_layout_details() -> None:
    merged = read_table(CORPUS / "04_ambito_merged_header.xlsx", "referral", required=["family_name"])
    assert merged.header_row == 3 and merged.labels()["phone"] == "Telefono" and merged.labels()["email"] == "E-mail"
    assert [n for n, _ in merged.rows] == [4, 5, 6, 7, 8]
    two = read_table(CORPUS / "17_two_phone_columns.csv", "referral", required=["family_name"])
    assert two.labels()["phone"] == "Telefono / Cellulare"
    phones = [two.record(cells)["phone"] for _, cells in two.rows]
    assert phones == ["333 1234567", "035 294512", ""]
    pasted = read_table(CORPUS / "15_multiline_and_pasted.csv", "referral", required=["family_name"])
    assert [n for n, _ in pasted.rows] == [2, 3, 4, 6, 7]  # the repeated header (row 5) is not data
    assert pasted.record(pasted.rows[0][1])["experiences"] == "magazziniere\n(3 anni)\nmulettista"
    named = read_table(CORPUS / "18_vacancies_confindustria.xlsx", "vacancy", required=["company"], sheet="posizioni")
    assert named.header_row == 3 and len(named.rows) == 5
    with pytest.raises(FileRejected, match="foglio «Foglio9» non trovato"):
        read_table(CORPUS / "18_vacancies_confindustria.xlsx", "vacancy", required=["company"], sheet="Foglio9")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/04/1988", date(1988, 4, 12)),
        ("1/2/1990", date(1990, 2, 1)),
        ("3.11.75", date(1975, 11, 3)),
        ("03-11-1975", date(1975, 11, 3)),
        ("1998-07-05", date(1998, 7, 5)),
        ("1998/07/05", date(1998, 7, 5)),
        ("1998-07-05T00:00:00", date(1998, 7, 5)),
        ("30/01/1969 00:00:00", date(1969, 1, 30)),
        ("31104", date(1985, 2, 26)),
        (31104, date(1985, 2, 26)),
        (31104.75, date(1985, 2, 26)),
        (" 5 / 6 / 2001 ", date(2001, 6, 5)),
    ],
)
def test_parse_date_formats(text: object, expected: date) -> None:
    assert parse_date(text, past=True) == expected


def test_two_digit_years_depend_on_the_field() -> None:
    assert parse_date("01/01/45", past=True) == date(1945, 1, 1)  # a birth date
    assert parse_date("01/01/45") == date(2045, 1, 1)  # an expiry
    assert parse_date("15.1.27") == date(2027, 1, 15)
    assert parse_date("31/12/2035", past=True) == date(2035, 12, 31)  # four digits are never moved


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31/02/1990", "data inesistente"),
        ("12/31/1990", "il mese va dopo il giorno"),
        ("ieri", "data non riconosciuta"),
        ("1990", "data non riconosciuta"),
        (True, "data non riconosciuta"),
        (-3, "fuori intervallo"),
        (float("nan"), "fuori intervallo"),
    ],
)
def test_parse_date_errors(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_date(text)


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_streaming_reader_keeps_memory_bounded(tmp_path: Path) -> None:
    """40k rows (≈5 MB) stream through open_table with a peak far below the file size."""
    path = tmp_path / "grande.csv"
    with path.open("w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Cognome", "Nome", "Data di nascita", "Comune", "Esperienze"])
        for i in range(40_000):
            writer.writerow([f"Rossì{i}", "Nicolò", "01/02/1990", "Bergamo", "magazziniere " * 6])
    size = path.stat().st_size
    with open_table(path, "referral", required=["family_name"]) as (_layout, rows):
        next(rows)  # the header vocabulary, loaded once per process, is no part of the stream
    tracemalloc.start()
    try:
        with open_table(path, "referral", required=["family_name"]) as (_layout, rows):
            count = sum(1 for _ in rows)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 40_000
    assert size > 4_000_000 and peak < size / 5


def test_xlsx_export_neutralises_formulas_from_partner_text(tmp_path: Path) -> None:
    """Text typed by partners ends up in sheets we send: it must stay inert when opened."""
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "normale"]
    data = profiles_xlsx([{"profile_code": f"P-{i}", "area": v} for i, v in enumerate(hostile)], title="Lotto")
    out = tmp_path / "lotto.xlsx"
    out.write_bytes(data)
    ws = load_workbook(out).active
    cells = [ws.cell(row=r, column=2) for r in range(2, 2 + len(hostile))]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells] == ["'" + v for v in hostile[:5]] + ["normale"]


def test_reader_tolerates_number_cells_and_blank_sheet_rows(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append([None])
    ws.append(["Cognome", "Nome", "Codice fiscale", "Cellulare", "Comune"])
    ws.append(["Rossi", "Anna", 12345678901, 3331234567.0, "Bergamo"])
    for _ in range(50):
        ws.append([None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "numeri.xlsx"
    path.write_bytes(buf.getvalue())
    table = read_table(path, "referral", required=["family_name"])
    assert table.rows == [(3, ["Rossi", "Anna", 12345678901, 3331234567, "Bergamo"])]


def _errors_report(session: Session, import_id: int) -> Outbox:
    return session.exec(select(Outbox).where(Outbox.key == f"import:{import_id}:errors")).one()


def test_company_answers_file_keeps_every_error_per_column_and_reports_them(partners: Session, tmp_path: Path) -> None:
    from tasks.interest import ingest_interest_file

    case = make_case(partners, state=State.DISPATCHED, profile={})
    path = tmp_path / "risposte.csv"
    path.write_text(
        "Azienda;Codice profilo;Esito\n"
        f"COMP-GOMMA-ISOLA;{case.code};colloquio\n"
        "COMP-GOMMA-ISOLA;BG-2026-999999;forse\n"  # two errors in one row
        f"AZIENDA-X;{case.code};no\n",
        encoding="utf-8",
    )
    assert ingest_interest_file(partners, path, "CONFINDUSTRIA-BG") == {"accepted": 1, "rejected": 2}
    partners.commit()
    imp = partners.exec(select(ImportFile).where(ImportFile.filename == "risposte.csv")).one()
    assert (imp.rows_total, imp.rows_accepted, imp.rows_rejected, imp.status) == (3, 1, 2, "ingested")
    rows = partners.exec(
        select(ImportRow).where(ImportRow.import_file_id == imp.id).order_by(col(ImportRow.row_number))
    )
    errors = {r.row_number: [(e["column"], e["value"]) for e in r.errors] for r in rows}
    assert errors == {3: [("Esito", "forse"), ("Codice profilo", "BG-2026-999999")], 4: [("Azienda", "AZIENDA-X")]}
    assert partners.exec(select(Interest)).one().answer is InterestAnswer.INTERVIEW  # the good row, once
    report = _errors_report(partners, imp.id)  # type: ignore[arg-type]
    assert report.recipient_code == "CONFINDUSTRIA-BG" and report.kind == "import_errors"
    assert "riga 3" in report.body_text.lower() and "AZIENDA-X" in report.body_text
    assert ingest_interest_file(partners, path, "CONFINDUSTRIA-BG") == {"already_imported": 1}


def test_outcome_file_rejects_bad_rows_without_moving_their_cases(partners: Session, tmp_path: Path) -> None:
    from tasks.outcomes import record_outcome_file

    hired, waiting = (make_case(partners, state=s, profile={}) for s in (State.INTERVIEW, State.DISPATCHED))
    path = tmp_path / "esiti.csv"
    path.write_text(
        "Codice pratica;Esito;Azienda;Data inizio;Durata giorni\n"
        f"{hired.code};assunto;COMP-GOMMA-ISOLA;01/12/2026;180\n"
        f"{waiting.code};assunto;COMP-GOMMA-ISOLA;31/02/2026;sei mesi\n",  # wrong state, date, length
        encoding="utf-8",
    )
    assert record_outcome_file(partners, path, "PROV-LAVORO") == {"hired": 1, "rejected": 1}
    partners.commit()
    partners.expire_all()
    assert partners.get(Case, hired.id).state is State.HIRED  # type: ignore[union-attr]
    assert partners.get(Case, waiting.id).state is State.DISPATCHED  # type: ignore[union-attr]
    (bad,) = partners.exec(select(ImportRow)).all()
    assert [e["column"] for e in bad.errors] == ["Codice pratica", "Data inizio", "Durata giorni"]
    assert "non in colloquio" in bad.errors[0]["reason"] and bad.raw["length_days"] == "sei mesi"
    outcome = partners.exec(select(Outcome)).one()
    assert (outcome.case_id, outcome.start, outcome.length_days) == (hired.id, date(2026, 12, 1), 180)
    assert _errors_report(partners, bad.import_file_id).recipient_code == "PROV-LAVORO"


def test_a_vacancy_row_is_refused_for_its_errors_never_for_its_company(partners: Session, tmp_path: Path) -> None:
    """An unknown company waits for the coordinators (issue 17, tests/unit/test_vacancy_import.py)."""
    path = tmp_path / "posizioni.csv"
    path.write_text(
        "Azienda;Mansione;Posti\nCOMP-GOMMA-ISOLA;Magazziniere;2\nCOMP-NON-ASSOCIATA;Operaio;tanti\n"
        "COMP-NON-ASSOCIATA;Operaio;1\n",
        encoding="utf-8",
    )
    import_id, counts = ingest_vacancy_file(partners, path, "CONFINDUSTRIA-BG")
    assert import_id is not None and (counts["accepted"], counts["rejected"], counts["awaiting_company"]) == (2, 1, 1)
    (bad,) = partners.exec(select(ImportRow).where(ImportRow.import_file_id == import_id)).all()
    assert [(e["column"], e["value"]) for e in bad.errors] == [("Posti", "tanti")]
    assert "Posti" in _errors_report(partners, import_id).body_text
