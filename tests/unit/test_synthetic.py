"""The demo generator must be deterministic and produce the messy-but-known data the importer expects."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

import pytest
from codicefiscale import codicefiscale
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from demo.synthetic.dataset import DemoDataset, build_demo_dataset
from demo.synthetic.dedup_names import NAMESAKE_PLACES, ORIGINS
from demo.synthetic.partners import (
    CARITAS_TITLE,
    FMT_CSV_CP1252,
    FMT_CSV_CYRILLIC,
    FMT_XLSX,
    REFERRAL_HEADERS,
    ReferralFileSpec,
    generate_referral_files,
)
from demo.synthetic.people import SyntheticPerson, generate_people
from demo.synthetic.taxcodes import corrupt_check_char, omocode, tax_code, temporary_tax_code
from demo.synthetic.vacancies import VACANCY_HEADERS, generate_vacancy_file

MUNICIPALITIES = ["Bergamo", "Dalmine", "Seriate", "Treviglio", "Albino", "Zogno"]
REFERRERS = ["CARITAS-BG", "ASS-UCR", "CPIA-BG", "AMBITO-DALMINE", "AMBITO-SERIATE"]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def people() -> list[SyntheticPerson]:
    return generate_people(200, seed=7, municipalities=MUNICIPALITIES)


@pytest.fixture(scope="module")
def specs(people: list[SyntheticPerson], tmp_path_factory: pytest.TempPathFactory) -> list[ReferralFileSpec]:
    out = tmp_path_factory.mktemp("referrals")
    return generate_referral_files(people, REFERRERS, out, seed=7, duplicates=20)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> DemoDataset:
    return build_demo_dataset(tmp_path_factory.mktemp("demo"), seed=2026)


def _read_rows(spec: ReferralFileSpec) -> list[list[str]]:
    """Data rows only, as strings, whatever the format."""
    if spec.file_format == FMT_XLSX:
        ws = load_workbook(spec.path).active
        assert ws is not None
        return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(min_row=4, values_only=True)]
    text = spec.path.read_bytes().decode(spec.encoding)
    assert spec.delimiter is not None
    rows = list(csv.reader(io.StringIO(text), delimiter=spec.delimiter))
    return rows[1:]


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = build_demo_dataset(tmp_path / "a", seed=11, n_people=80)
    b = build_demo_dataset(tmp_path / "b", seed=11, n_people=80)
    files_a, files_b = _files(a.out_dir), _files(b.out_dir)
    assert files_a.keys() == files_b.keys()
    assert any(name.endswith(".xlsx") for name in files_a)
    assert files_a == files_b
    c = build_demo_dataset(tmp_path / "c", seed=12, n_people=80)
    assert _files(c.out_dir) != files_a


def test_codici_fiscali_are_valid(people: list[SyntheticPerson]) -> None:
    real = [p for p in people if not p.cf_temporary]
    assert len(real) > 0.9 * len(people)
    for p in real:
        assert codicefiscale.is_valid(p.codice_fiscale), (p.key, p.codice_fiscale)
    for p in people:
        if p.cf_temporary:
            assert p.is_ukrainian and len(p.codice_fiscale) == 11 and p.codice_fiscale.isdigit()


@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZàèéìòùäëïöüç' -", min_size=1, max_size=14),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZàèéìòùäëïöüç' -", min_size=1, max_size=14),
    st.sampled_from("MF"),
    st.dates(min_value=date(1962, 1, 1), max_value=date(2008, 12, 31)),
    st.sampled_from(sorted({o[0] for o in ORIGINS.values()} | set(NAMESAKE_PLACES))),
)
@settings(max_examples=60, deadline=None)
def test_tax_code_from_a_belfiore_code_is_what_the_library_encodes(
    family: str, given_name: str, sex: str, born: date, place: str
) -> None:
    """The library is the oracle for the generator's short cut (no place lookup, no re-decoding)."""
    try:
        expected = codicefiscale.encode(
            lastname=family, firstname=given_name, gender=sex, birthdate=f"{born:%d/%m/%Y}", birthplace=place
        )
    except ValueError:  # a code not valid on that date (e.g. Z105, Czechoslovakia, after 1992): no oracle
        reject()
    assert tax_code(family, given_name, sex, born, place) == expected


def test_tax_code_helpers() -> None:
    code = tax_code("Kovalenko", "Olena", "F", date(1985, 3, 12), "Ucraina")
    assert code == tax_code("Kovalenko", "Olena", "F", date(1985, 3, 12), "Z138") == "KVLLNO85C52Z138C"
    assert codicefiscale.is_valid(omocode(code, 1)) and omocode(code, 1) != code == omocode(code, 0)
    assert not codicefiscale.is_valid(corrupt_check_char(code))
    with pytest.raises(ValueError, match="birthplace"):
        tax_code("Rossi", "Mario", "M", date(1980, 1, 1), "Roccacannuccia")
    rng = random.Random(1)
    temporary = [temporary_tax_code(rng) for _ in range(20)]
    assert all(len(t) == 11 and t.isdigit() and t[7:10] == "016" for t in temporary)


def test_origin_mix_and_cyrillic_names(people: list[SyntheticPerson]) -> None:
    ukrainians = [p for p in people if p.is_ukrainian]
    assert 0.30 <= len(ukrainians) / len(people) <= 0.40
    for p in ukrainians:
        assert any("\u0400" <= ch <= "\u04ff" for ch in p.native_family_name)
        assert p.family_name.isascii() and p.citizenship == "Ucraina"
    for p in people:
        assert 17 <= (date_ref_age := (2026 - p.birth_date.year)) <= 63, date_ref_age
        assert p.sex in ("M", "F")


def test_cyrillic_file_has_cyrillic_names(specs: list[ReferralFileSpec]) -> None:
    cyr = next(s for s in specs if s.file_format == FMT_CSV_CYRILLIC)
    rows = _read_rows(cyr)
    cyrillic_rows = [r for r in rows if any("\u0400" <= ch <= "\u04ff" for ch in r[0] + r[1])]
    assert len(cyrillic_rows) >= 10


def test_duplicates_span_different_referrers(specs: list[ReferralFileSpec]) -> None:
    by_person: dict[str, set[str]] = {}
    for s in specs:
        for d in s.expected_duplicates:
            assert d.other_referrer != s.referrer
            by_person.setdefault(d.person_key, set()).add(s.referrer)
    assert len(by_person) == 20
    assert all(len(refs) == 2 for refs in by_person.values())
    # The spec matches the files: each duplicated person appears in exactly two rows overall.
    rows_per_person: dict[str, int] = {}
    for s in specs:
        for r in s.rows:
            rows_per_person[r.person_key] = rows_per_person.get(r.person_key, 0) + 1
    assert {k for k, v in rows_per_person.items() if v == 2} == set(by_person)
    variations = {v for s in specs for d in s.expected_duplicates for v in d.variations}
    assert "phone_format" in variations
    assert variations & {"transliteration", "typo", "swapped_names", "cyrillic"}


def test_bad_rows_are_recorded(specs: list[ReferralFileSpec]) -> None:
    total = sum(s.rows_written for s in specs)
    bad = [(s, b) for s in specs for b in s.expected_bad]
    assert 0.02 * total <= len(bad) <= 0.04 * total
    for s, b in bad:
        row = _read_rows(s)[b.row_number - 1]
        if b.reason == "invalid_date":
            assert row[2].startswith("31/02/")
        elif b.reason == "cf_checksum":
            assert not codicefiscale.is_valid(row[6])
        elif b.reason == "missing_surname":
            assert row[0] == ""
        elif b.reason == "invalid_email":
            assert row[8].endswith("@")
        elif b.reason == "unknown_municipality":
            assert row[9] not in MUNICIPALITIES


def test_cp1252_files(specs: list[ReferralFileSpec]) -> None:
    cp = [s for s in specs if s.file_format == FMT_CSV_CP1252]
    assert len(cp) >= 2
    for s in cp:
        raw = s.path.read_bytes()
        text = raw.decode("cp1252")
        assert ";" in text and "\r\n" in text
        assert text.splitlines()[0] == ";".join(REFERRAL_HEADERS)
        assert len(_read_rows(s)) == s.rows_written
        for row in _read_rows(s):
            assert len(row) == len(REFERRAL_HEADERS)
            assert row[15] in ("SI", "NO") and row[16] in ("SI", "NO")


def test_bom_csv(specs: list[ReferralFileSpec]) -> None:
    s = next(s for s in specs if s.encoding == "utf-8-sig")
    assert s.path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_title_block_and_header(specs: list[ReferralFileSpec]) -> None:
    s = next(s for s in specs if s.file_format == FMT_XLSX)
    ws = load_workbook(s.path).active
    assert ws is not None
    assert ws.cell(row=1, column=1).value == CARITAS_TITLE
    assert ws.cell(row=2, column=1).value
    assert [c.value for c in ws[3]] == list(REFERRAL_HEADERS)
    assert ws.max_row == 3 + s.rows_written


def test_vacancy_file(tmp_path: Path) -> None:
    path = generate_vacancy_file(
        ["AZ1", "AZ2"],
        {"AZ1": ["welder", "cnc_operator"], "AZ2": ["cleaner"]},
        MUNICIPALITIES,
        tmp_path / "vac.xlsx",
        n=30,
        seed=3,
    )
    ws = load_workbook(path).active
    assert ws is not None
    assert [c.value for c in ws[1]] == list(VACANCY_HEADERS)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 30
    for azienda, mansione, sede, _req, ita, patente, contratto, posti, scadenza in rows:
        assert azienda in ("AZ1", "AZ2") and mansione and sede in MUNICIPALITIES
        assert ita in ("A1", "A2", "B1", "B2") and patente in ("B", "C", "nessuna")
        assert contratto and 1 <= int(posti) <= 5 and scadenza is not None


def test_dataset_shape_and_lookup(dataset: DemoDataset) -> None:
    assert len(dataset.referral_files) >= 5
    total = sum(s.rows_written for s in dataset.referral_files)
    assert 280 <= total <= 320
    assert 35 <= len(dataset.vacancies) <= 45 and dataset.vacancy_file.exists()
    assert len(dataset.people_by_key) == len(dataset.people)
    for s in dataset.referral_files:
        for r in s.rows:
            if r.bad_reason == "missing_surname":
                continue
            found = dataset.lookup(r.written_family_name, r.written_given_names)
            assert found is not None
    profile = next(iter(dataset.people_by_key.values()))
    assert set(profile.italian_levels) == {
        "listening",
        "reading",
        "speaking",
        "writing",
    }
    assert profile.occupation_codes
