"""Property-based tests and a fuzz run over the partner-file readers.

Whatever bytes arrive, an import ends in rows or in :class:`FileRejected`: no other exception,
and a file rejected as a whole leaves the database exactly as it was.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from demo.synthetic.taxcodes import tax_code, temporary_tax_code
from models import clock
from tasks.files.normalize import normalize_cf, normalize_email, normalize_phone
from tasks.files.tabular import FileRejected, open_table, parse_date
from tasks.referral.ingest import ingest_referral_file
from tasks.runtime import events
from tests.factories import seed_partners
from tests.unit.test_imports import CORPUS, table_counts

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TODAY = clock.today()


# --- parse_date -------------------------------------------------------------------------------


@given(st.dates(min_value=date(1920, 1, 1), max_value=date(2100, 12, 31)))
@settings(max_examples=300, deadline=None)
def test_parse_date_round_trips_every_format(d: date) -> None:
    for text in (
        f"{d:%d/%m/%Y}",
        f"{d.day}/{d.month}/{d.year}",
        f"{d.isoformat()}",
        f"{d:%d.%m.%Y}",
        f"{d:%d-%m-%Y}",
        f"{d:%d/%m/%Y} 00:00:00",
        f"{d.isoformat()}T08:30:00",
    ):
        assert parse_date(text) == d, text
    serial = (d - date(1899, 12, 30)).days
    assert parse_date(serial) == d and parse_date(float(serial) + 0.5) == d
    if serial >= 10_000:  # as text only five digits count as a serial: "1990" is a year, not a date
        assert parse_date(str(serial)) == d


@given(st.dates(min_value=TODAY.replace(year=TODAY.year - 99) + timedelta(days=1), max_value=TODAY))
@settings(max_examples=200, deadline=None)
def test_two_digit_birth_years_land_in_the_last_century(d: date) -> None:
    assert parse_date(f"{d.day}.{d.month}.{d:%y}", past=True) == d


@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none()))
@settings(max_examples=400, deadline=None)
def test_parse_date_never_fails_otherwise(value: object) -> None:
    try:
        parse_date(value)
    except ValueError as exc:
        assert str(exc)  # an Italian reason, never an empty message


# --- identifiers ------------------------------------------------------------------------------

NAMES = st.text(alphabet="ABCDEFGHILMNOPRSTUVZ", min_size=2, max_size=12)


@given(
    NAMES,
    NAMES,
    st.sampled_from("MF"),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31)),
    st.sampled_from(["Bergamo", "Seriate", "Ucraina", "Marocco", "Senegal"]),
)
@settings(max_examples=40, deadline=None)
def test_codice_fiscale_checksum(family: str, given_name: str, sex: str, born: date, place: str) -> None:
    code = tax_code(family, given_name, sex, born, place)
    assert normalize_cf(f" {code.lower()[:8]} {code[8:]} ") == code
    for wrong in {chr(c) for c in range(65, 91)} - {code[15]}:
        assert normalize_cf(code[:15] + wrong) is None


@given(st.integers(min_value=0, max_value=2**32))
def test_temporary_numeric_tax_codes_are_accepted(seed: int) -> None:
    code = temporary_tax_code(random.Random(seed))
    assert normalize_cf(code) == code
    assert normalize_cf(code[:10]) is None
    assert normalize_cf(code[:10] + str((int(code[10]) + 1) % 10)) is None  # wrong check digit


@given(
    st.sampled_from(["320", "328", "333", "338", "340", "347", "349", "366", "371", "380", "392"]),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.sampled_from(["", "+39 ", "0039", "+39"]),
    st.sampled_from([" ", "-", "", "/"]),
)
def test_italian_mobiles_normalise(prefix: str, rest: str, country: str, sep: str) -> None:
    assert normalize_phone(f"{country}{prefix}{sep}{rest}") == f"+39{prefix}{rest}"


@given(
    st.sampled_from(["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"]),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.sampled_from(["+380 ", "00380", "+380"]),
)
def test_ukrainian_mobiles_are_kept_foreign(operator: str, rest: str, country: str) -> None:
    assert normalize_phone(f"{country}{operator} {rest}") == f"+380{operator}{rest}"


@given(st.text(max_size=30))
def test_phone_and_email_never_raise(text: str) -> None:
    phone, email = normalize_phone(text), normalize_email(text)
    assert phone is None or phone.startswith("+")
    assert email is None or ("@" in email and email == email.lower())


@given(
    st.from_regex(r"[a-z][a-z0-9._]{0,15}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9-]{1,10}[a-z]\.(it|com|org|eu)", fullmatch=True),
)
def test_valid_emails_are_lowercased(local: str, domain: str) -> None:
    if ".." in local or domain[2:4] == "--":  # "ab--" labels are reserved for IDNA (RFC 5891): not valid
        return
    assert normalize_email(f"{local.upper()}@{domain}") == f"{local}@{domain}"


# --- CSV reader -------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,;'\"-/()àèéìòùÀÈÉçÇäöüÄÖÜñß\n\t"
CELL = st.text(
    alphabet=st.sampled_from(list(_LETTERS)),
    max_size=20,
)
HEADERS = ["Cognome", "Nome", "Comune", "Esperienze"]


@given(
    st.lists(st.lists(CELL, min_size=4, max_size=4), max_size=25),
    st.sampled_from([";", ",", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    st.sampled_from(["\r\n", "\n"]),
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_csv_reader_round_trips(
    tmp_path: Path, rows: list[list[str]], delimiter: str, encoding: str, newline: str
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    path = tmp_path / "prova.csv"
    path.write_bytes(buf.getvalue().encode(encoding))
    with open_table(path, "referral", required=["family_name", "given_names"]) as (layout, found):
        got = [(n, cells) for n, cells in found]
    expected = [(n, r) for n, r in enumerate(rows, start=2) if any(c.strip() for c in r) and r != HEADERS]
    assert layout.mapping == {0: "family_name", 1: "given_names", 2: "municipality", 3: "experiences"}
    assert got == expected


# --- fuzz -------------------------------------------------------------------------------------


def _inputs(seed: int) -> list[tuple[str, bytes]]:
    """A deterministic fuzz corpus: damaged spreadsheets, junk, wrong encodings, huge cells."""
    rng = random.Random(seed)
    xlsx = (CORPUS / "03_caritas_title_block.xlsx").read_bytes()
    csv_text = (CORPUS / "02_ambito_utf8_bom.csv").read_bytes()
    cyr = (CORPUS / "12_ukrainian_cyrillic_utf8.csv").read_text(encoding="utf-8")
    out: list[tuple[str, bytes]] = []
    for cut in sorted(rng.sample(range(1, len(xlsx)), 60)):
        out.append(("truncated.xlsx", xlsx[:cut]))
    for _ in range(60):
        data = bytearray(xlsx)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        out.append(("flipped.xlsx", bytes(data)))
    for _ in range(40):
        out.append(("random.csv", rng.randbytes(rng.randint(1, 3000))))
        out.append(("random.xlsx", b"PK\x03\x04" + rng.randbytes(rng.randint(0, 3000))))
        out.append(("random.json", rng.randbytes(rng.randint(1, 500))))
    for _ in range(60):
        data = bytearray(csv_text)
        at = rng.randrange(len(data))
        data[at:at] = rng.randbytes(rng.randint(1, 40))
        out.append(("junk.csv", bytes(data)))
    for encoding in ("utf-16-le", "utf-16-be", "utf-32", "cp500", "koi8-u", "cp1251", "mac-roman", "shift_jis"):
        try:
            out.append((f"{encoding}.csv", cyr.encode(encoding, errors="replace")))
        except LookupError:
            continue
    header = "Cognome;Nome;Comune;Esperienze\r\n"
    for size in (131_000, 131_073, 400_000, 2_000_000):
        out.append(("huge_cell.csv", (header + f"Rossi;Anna;Bergamo;{'x' * size}\r\n").encode()))
        out.append(("huge_quoted.csv", (header + f'Rossi;Anna;Bergamo;"{"y;" * (size // 2)}"\r\n').encode()))
    out.append(("unclosed_quote.csv", (header + 'Rossi;"Anna;Bergamo;x\r\nBianchi;Luca;Seriate;y\r\n').encode()))
    out.append(("only_bom.csv", b"\xef\xbb\xbf"))
    out.append(("blank.csv", b" \r\n\r\n"))
    out.append(("header_only.csv", header.encode()))
    docs: list[object] = [
        [],
        {},
        [1, 2],
        {"a": [1]},
        [{"cognome": "Rossi"}],
        [{"Cognome": "Rossi", "Nome": {"x": 1}}],
        {"righe": [{"Cognome": "R", "Nome": "A", "Comune": "Bergamo"}]},
        "x",
        None,
        [[[[]]]],
    ]
    out += [("doc.json", json.dumps(doc).encode()) for doc in docs]
    out.append(("deep.json", b"[" * 100_000))
    return out


def test_fuzz_every_input_ends_in_rows_or_a_clear_rejection(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "emit_now", lambda spec: None)
    seed_partners(session)
    inputs = _inputs(seed=5)
    outcomes = {"rows": 0, "rejected": 0}
    for i, (name, data) in enumerate(inputs):
        path = tmp_path / f"{i:04d}_{name}"
        path.write_bytes(data)
        before = table_counts(session)
        try:
            summary = ingest_referral_file(session, path, "CARITAS-BG")
        except FileRejected as exc:
            session.rollback()
            message = str(exc)
            assert message.startswith(path.name) and len(message) < 400, message
            assert table_counts(session) == before, name
            outcomes["rejected"] += 1
            continue
        session.commit()
        after = table_counts(session)
        assert after["import_file"] == before["import_file"] + 1
        assert after["person"] - before["person"] == summary.accepted_rows
        assert after["import_row"] - before["import_row"] == summary.rejected_rows
        outcomes["rows"] += 1
    assert sum(outcomes.values()) == len(inputs) >= 300
    assert outcomes["rows"] and outcomes["rejected"]
    print(f"fuzz: {len(inputs)} inputs, {outcomes}")  # shown with -s; the count goes in the report


@given(st.binary(max_size=2000), st.sampled_from([".csv", ".xlsx", ".json", ".txt"]))
@FUZZ
def test_readers_on_arbitrary_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str) -> None:
    path = tmp_path_factory.mktemp("fz") / f"file{suffix}"
    path.write_bytes(data)
    try:
        with open_table(path, "referral", required=["family_name", "given_names"]) as (_layout, rows):
            for number, cells in rows:
                assert number >= 1 and isinstance(cells, list)
    except FileRejected as exc:
        assert str(exc).startswith(path.name)


@given(st.integers(min_value=0, max_value=10_000), st.binary(min_size=1, max_size=16))
@FUZZ
def test_readers_on_damaged_xlsx(tmp_path_factory: pytest.TempPathFactory, position: int, patch: bytes) -> None:
    data = bytearray((CORPUS / "04_ambito_merged_header.xlsx").read_bytes())
    position %= len(data)
    data[position : position + len(patch)] = patch
    path = tmp_path_factory.mktemp("fz") / "danneggiato.xlsx"
    path.write_bytes(bytes(data))
    try:
        with open_table(path, "referral", required=["family_name", "given_names"]) as (_layout, rows):
            sum(1 for _ in rows)
    except FileRejected as exc:
        assert str(exc).startswith(path.name)
