"""Phones, names and tax codes as outsiders write them (issue 17): a phone never refuses a referral
and is read in the row's most likely region, never keypad-mapped; a name that is a spreadsheet
formula is refused and every export neutralises formula-like cells; each codice fiscale defect
has its own Italian message, the provisional numeric code included."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from demo.synthetic.taxcodes import corrupt_check_char, omocode, tax_code, temporary_tax_code
from models.ops import ImportFile, ImportRow, Outbox
from models.people import Person
from tasks.files.normalize import cf_problem, normalize_cf
from tasks.files.phones import LETTERS, NOT_A_PHONE, UNVERIFIED, read_phone_cell, region_hints
from tasks.files.rows import ReferralRow, row_warnings, validate_row
from tasks.files.sheets import profiles_xlsx, safe_cell
from tasks.files.tabular import safe_value
from tasks.referral.ingest import acknowledge_import, ingest_referral_file
from tasks.reports.monthly import tables_xlsx
from tasks.runtime import events
from tests.data import make_corpus_people as people_files
from tests.factories import make_case, seed_partners

DATA = Path(__file__).resolve().parents[1] / "data"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((DATA / "expected.yaml").read_text(encoding="utf-8"))
CHECK_CHAR = "codice fiscale non valido: carattere di controllo errato"


@pytest.fixture(autouse=True)
def _no_prefect_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "emit_now", lambda spec: None)


@pytest.fixture
def partners(session: Session) -> Session:
    seed_partners(session)
    return session


def _row(**fields: Any) -> dict[str, Any]:
    return {"family_name": "Rossi", "given_names": "Anna", "municipality": "Bergamo", **fields}


# --- phones -----------------------------------------------------------------------------------

# (cell, citizenship, birth place, languages, numbers kept, all verified, warning)
PHONES: list[tuple[Any, str, str, list[str], list[str], bool, str | None]] = [
    # Ukrainian mobiles as Ukrainians write them
    ("097 772 97 95", "Ucraina", "", [], ["+380977729795"], True, None),
    ("097 772 97 95", "UKR", "", [], ["+380977729795"], True, None),
    ("063 555 12 34", "українка", "", [], ["+380635551234"], True, None),  # not the Rome landline 06…
    ("0038 067 123 45 67", "", "", [], ["+380671234567"], True, None),
    ("+38 (050) 765-43-21", "", "", [], ["+380507654321"], True, None),
    ("380931112233", "", "", [], ["+380931112233"], True, None),  # country code without "+"
    ("066 321 45 67", "", "", ["ucraino", "russo"], ["+380663214567"], True, None),
    ("8 097 772 97 95", "Україна", "", [], ["+380977729795"], True, None),  # old trunk prefix 8
    # Latin-American and African mobiles in local format, read by citizenship or birth place
    ("987 654 321", "PERUVIANA", "", [], ["+51987654321"], True, None),
    ("300 456 7890", "colombiana", "", [], ["+573004567890"], True, None),
    ("310 555 1234", "Colombia", "", [], ["+393105551234"], True, None),  # also Italian: Italian first
    ("099 876 5432", "ecuadoriano", "", [], ["+593998765432"], True, None),
    ("0661-234567", "MAROCCHINO", "", [], ["+212661234567"], True, None),
    ("06 61 23 45 67", "", "Casablanca (Marocco)", [], ["+212661234567"], True, None),
    ("77 123 45 67", "", "Dakar, Senegal", [], ["+221771234567"], True, None),
    ("77 123 45 67", "", "", ["wolof", "francese"], ["+221771234567"], True, None),
    ("77 123 45 67", "", "", [], [], True, NOT_A_PHONE),  # no hint, and no Italian number starts with 7
    ("333 12345", "", "", [], ["+3933312345"], False, UNVERIFIED),  # a digit short: kept, not verified
    (71234567, "boliviana", "El Alto", [], ["+59171234567"], True, None),
    # Italian landlines, whoever wrote them
    ("035 123456", "Ucraina", "", [], ["+39035123456"], True, None),
    ("035/123456", "", "", [], ["+39035123456"], True, None),
    ("0363 123456", "peruviana", "", [], ["+390363123456"], True, None),
    ("+39 (0)35 4128765", "", "", [], ["+390354128765"], True, None),
    (35294512, "", "", [], ["+39035294512"], True, None),  # Excel dropped the leading 0
    # notes, extensions, two numbers
    ("035 4128765 int. 12", "", "", [], ["+390354128765"], True, None),
    ("035 4128765 x12", "", "", [], ["+390354128765"], True, None),
    ("333 1234567 ore pasti", "", "", [], ["+393331234567"], True, None),
    ("tel. 347 998 8776 (figlia)", "", "", [], ["+393479988776"], True, None),
    ("333 1234567 / 035 123456", "", "", [], ["+393331234567", "+39035123456"], True, None),
    ("333 1234567 035 123456", "", "", [], ["+393331234567", "+39035123456"], True, None),
    ("0039 320 1122334 - 035 224466", "", "", [], ["+393201122334", "+39035224466"], True, None),
    # letters are never keypad digits; what is no phone is dropped with a warning
    ("345-ABC-1234", "", "", [], [], True, LETTERS),
    ("345ABC1234", "", "", [], [], True, LETTERS),
    ("tel. 345-ABC-1234 oppure 333 1234567", "", "", [], ["+393331234567"], True, LETTERS),
    ("1-800-FLOWERS", "", "", [], [], True, NOT_A_PHONE),
    ("12", "", "", [], [], True, NOT_A_PHONE),
    ("chiedere in segreteria", "", "", [], [], True, NOT_A_PHONE),
    ("nessuno", "", "", [], [], True, None),
    ("немає", "Україна", "", [], [], True, None),
    ("-", "", "", [], [], True, None),
]


@pytest.mark.parametrize(("cell", "citizenship", "born", "languages", "numbers", "verified", "warning"), PHONES)
def test_phone_cells_read_in_the_rows_likely_region(
    cell: Any,
    citizenship: str,
    born: str,
    languages: list[str],
    numbers: list[str],
    verified: bool,
    warning: str | None,
) -> None:
    read = read_phone_cell(cell, lambda: region_hints(citizenship, born, languages))
    assert [n.e164 for n in read.numbers] == numbers
    assert all(n.verified for n in read.numbers) is verified
    assert read.problem == warning


@pytest.mark.parametrize(("cell", "citizenship", "born", "languages", "numbers", "verified", "warning"), PHONES)
def test_a_phone_never_refuses_the_row(
    cell: Any,
    citizenship: str,
    born: str,
    languages: list[str],
    numbers: list[str],
    verified: bool,
    warning: str | None,
) -> None:
    """The row is accepted whatever the cell holds; the first number is the phone, as written."""
    raw = _row(phone=cell, citizenship=citizenship, birth_place=born, languages=", ".join(languages))
    row, errors = validate_row(raw, {"phone": "Cellulare"})
    assert errors == [] and row is not None
    assert [row.phone, row.phone_secondary] == [*numbers, None, None][:2]
    assert row.phone_raw == (str(cell) if numbers else None)
    assert row.phone_verified == (verified if numbers else None)
    assert row_warnings(row, {"phone": "Cellulare"}) == (
        [{"column": "Cellulare", "reason": warning}] if warning else []
    )


@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=False)), st.sampled_from(["", "UA", "PE"]))
@settings(max_examples=300, deadline=None)
def test_any_cell_is_read_without_raising(cell: Any, hint: str) -> None:
    """Whatever a partner types, the reading ends in E.164 numbers or a reason, never an error;
    a letter between digits always drops the number."""
    read = read_phone_cell(cell, lambda: (hint,) if hint else ())
    assert all(n.e164.startswith("+") and n.e164[1:].isdigit() for n in read.numbers)
    assert read.problem is not None or all(n.verified for n in read.numbers)


def test_keypad_letters_are_never_digits() -> None:
    """The old reader turned 345-ABC-1234 into +39 345 222 1234: a stranger's number."""
    row, _ = validate_row(_row(phone="345-ABC-1234"), {})
    assert row is not None and row.phone is None and row.phone_raw is None
    assert not any("2221234" in str(v) for v in row.model_dump().values())


def test_second_column_and_extra_numbers() -> None:
    only_second, _ = validate_row(_row(phone="", phone_secondary="035 123456"), {})
    assert only_second is not None and (only_second.phone, only_second.phone_secondary) == ("+39035123456", None)
    three, _ = validate_row(_row(phone="333 1234567 / 347 9988776", phone_secondary="035 123456"), {})
    assert three is not None and (three.phone, three.phone_secondary) == ("+393331234567", "+393479988776")
    assert row_warnings(three, {"phone_secondary": "Telefono casa"}) == [
        {"column": "Telefono casa", "reason": "più di due numeri di telefono: conservati i primi due"}
    ]


def test_region_hints_come_from_general_names_not_examples() -> None:
    """CLDR names in several languages, ISO codes, adjectives in every gender, language names."""
    assert region_hints("Perù", None) == ("PE",)
    assert region_hints("Republic of Moldova", None) == ("MD",)
    assert region_hints("Côte d’Ivoire", None) == ("CI",)
    assert region_hints("ERI", None) == ("ER",)
    assert region_hints("cittadinanza: ucraine", None) == ("UA",)
    assert region_hints("Україна", "Kyiv") == ("UA",)
    assert region_hints("italiana", "Lima - Perù", ["italiano", "spagnolo"]) == ("PE",)  # Spanish: no country
    assert region_hints(None, "Bergamo", ["tigrino"]) == ("ER",)
    assert region_hints("", "", []) == ()


def test_phone_fields_reach_the_person_and_the_acknowledgement(partners: Session) -> None:
    path = DATA / "corpus" / people_files.PARISH
    summary = ingest_referral_file(partners, path, "CARITAS-BG")
    assert (summary.accepted_rows, summary.rejected_rows) == (10, 0)
    assert [(w["row"], w["column"]) for w in summary.row_warnings] == [
        (7, "Telefono"),
        (8, "Telefono"),
        (9, "Telefono"),
    ]
    stored = {p.family_name: p for p in partners.exec(select(Person))}
    assert (stored["Pesenti"].phone, stored["Pesenti"].phone_raw) == ("+39035123456", "035 12 34 56 ore pasti")
    assert stored["Carminati"].phone_secondary == "+39035123456" and stored["Carminati"].phone_verified
    assert stored["Ravasio"].phone is None and stored["Ravasio"].phone_raw is None
    imp = partners.exec(select(ImportFile)).one()
    assert imp.notices["row_warnings_total"] == 3 and "345" not in str(imp.notices)  # no cell values kept
    assert imp.id is not None and acknowledge_import(partners, imp.id) >= 1
    ack = partners.exec(select(Outbox).where(Outbox.kind == "referral_ack")).one()
    assert "Avvisi sulle segnalazioni accettate: 3" in ack.body_text
    assert "riga 7, colonna «Telefono»: il numero contiene lettere" in ack.body_text
    assert "Avvisi" in (ack.body_html or "")


def test_erasure_blanks_the_phone_as_written(partners: Session) -> None:
    from tasks.privacy.erasure import erase_person

    case = make_case(partners, phone="+380977729795", phone_raw="097 772 97 95 (Olena)", phone_verified=True)
    erase_person(partners, case.code)
    person = partners.exec(select(Person).where(Person.key == case.person_key)).one()
    assert (person.phone, person.phone_raw, person.phone_verified) == (None, None, None)


# --- names and exports ------------------------------------------------------------------------

FORMULA_NAMES = [
    '=HYPERLINK("http://example.org/x","Rossi")',
    "+Rossi",
    "-Rossi",
    "@Rossi",
    " =Rossi",
    "\t=Rossi",
    "＝Rossi",
    'HYPERLINK("http://example.org";"Rossi")',
    'Rossi =WEBSERVICE("http://example.org")',
    "cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("name", FORMULA_NAMES)
@pytest.mark.parametrize("field", ["family_name", "given_names"])
def test_a_name_that_is_a_formula_is_refused_in_italian(field: str, name: str) -> None:
    row, errors = validate_row(_row(**{field: name}), {"family_name": "Cognome", "given_names": "Nome"})
    assert row is None
    (error,) = errors
    assert error["column"] == ("Cognome" if field == "family_name" else "Nome")
    assert "formula di foglio di calcolo" in error["reason"]
    assert not error["value"].lstrip().startswith(("=", "+", "-", "@"))  # quoted back inert


@pytest.mark.parametrize("name", ["D'Angelo", "Müller-Lüdenscheidt", "O’Brien", "Rossi (in Bianchi)", "Ковальчук"])
def test_real_names_with_punctuation_stay_accepted(name: str) -> None:
    row, errors = validate_row(_row(family_name=name), {})
    assert errors == [] and row is not None and row.family_name == name


def test_other_text_that_looks_like_a_formula_is_kept_and_neutralised_on_export() -> None:
    row, errors = validate_row(_row(experiences="=magazzino+pulizie"), {})
    assert errors == [] and row is not None and row.experiences == "=magazzino+pulizie"
    assert safe_cell(row.experiences) == "'=magazzino+pulizie"


def _runs_as_formula(value: object) -> bool:
    """What a spreadsheet would evaluate, judged independently of the code under test."""
    if not isinstance(value, str):
        return False
    return value.lstrip(" \u00a0\u200b\ufeff")[:1] in set("=+-@\t\r\n＝＋－＠")


FORMULA_LIKE = st.builds(
    lambda lead, trigger, body: lead + trigger + body,
    st.sampled_from(["", " ", "  ", "\u00a0", "\u200b", "\x00", "\x01 ", "\x1f"]),
    st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"]),
    st.text(max_size=30),
)


@given(st.lists(FORMULA_LIKE, min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_a_formula_like_string_is_never_written_raw_to_any_export(values: list[str]) -> None:
    """Profile sheets, monthly KPI sheets and the values quoted in error reports and
    acknowledgements: every cell is text that a spreadsheet shows and never runs."""
    profile = profiles_xlsx([{"profile_code": v, "area": v, "occupations": [v]} for v in values], title=values[0])
    kpis = tables_xlsx({"flows": [{"state": v, "entered": 1, "left": 0} for v in values]}, title="Prova")
    for data in (profile, kpis):
        for sheet in load_workbook(io.BytesIO(data)).worksheets:
            for cells in sheet.iter_rows(min_row=2):
                for cell in cells:
                    assert cell.data_type != "f" and not _runs_as_formula(cell.value), cell.value
    for v in values:
        assert not _runs_as_formula(safe_value(v)) and not _runs_as_formula(safe_cell(v))


def test_error_report_quotes_formula_cells_inert(partners: Session, tmp_path: Path) -> None:
    path = tmp_path / "modulo.csv"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(
        [["Cognome", "Nome", "Comune", "E-mail"], ['=HYPERLINK("http://x";"Rossi")', "Anna", "Bergamo", "@x"]]
    )
    path.write_text(buffer.getvalue(), encoding="utf-8")
    summary = ingest_referral_file(partners, path, "CARITAS-BG")
    assert acknowledge_import(partners, summary.import_id) >= 2
    (bad,) = partners.exec(select(ImportRow)).all()
    assert [e["value"] for e in bad.errors] == ['\'=HYPERLINK("http://x";"Rossi")', "'@x"]
    report = partners.exec(select(Outbox).where(col(Outbox.kind) == "import_errors")).one()
    assert "«'=HYPERLINK" in report.body_text and "«=HYPERLINK" not in report.body_text


# --- codice fiscale ---------------------------------------------------------------------------

MALE = tax_code("Gashi", "Arben", "M", date(1984, 3, 9), "Bergamo")
FEMALE = tax_code("Hoxha", "Drita", "F", date(1991, 12, 30), "Albania")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (corrupt_check_char(MALE), CHECK_CHAR),
        (MALE[:15], "15 caratteri invece di 16"),
        (MALE + "X", "17 caratteri invece di 16"),
        (MALE[:8] + "F" + MALE[9:], "la lettera del mese «F» non esiste"),
        (MALE[:9] + "32" + MALE[11:], "il giorno di nascita non esiste"),
        (MALE[:8] + "B30" + MALE[11:], "il giorno di nascita non esiste"),  # 30 February
        (MALE[:6] + "8A" + MALE[8:], "lettere e cifre non sono al loro posto"),
        (MALE[:5] + "*" + MALE[6:], "caratteri diversi da lettere e cifre"),
        ("1234567890", "10 cifre"),
        ("12345678901", "codice fiscale provvisorio non valido: cifra di controllo errata"),
    ],
)
def test_each_tax_code_defect_has_its_own_message(code: str, reason: str) -> None:
    row, errors = validate_row(_row(codice_fiscale=code), {"codice_fiscale": "Codice fiscale"})
    assert row is None
    (error,) = errors
    assert error["column"] == "Codice fiscale" and reason in error["reason"]
    assert normalize_cf(code) is None


def test_the_check_character_message_never_reveals_the_right_code() -> None:
    messages = {cf_problem(MALE[:15] + c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != MALE[15]}
    assert messages == {CHECK_CHAR + " (l'ultimo carattere non corrisponde ai precedenti)"}  # one text for all


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"birth_date": "19/03/1984", "sex": "M"}, "non coerente con la data di nascita della riga"),
        ({"birth_date": "09/03/1984", "sex": "F"}, "non coerente con il sesso della riga"),
        ({"birth_date": "10/03/1984", "sex": "donna"}, "non coerente con la data di nascita e il sesso della riga"),
    ],
)
def test_a_code_of_someone_else_is_caught_by_date_and_sex(fields: dict[str, str], reason: str) -> None:
    row, errors = validate_row(_row(codice_fiscale=MALE, **fields), {})
    assert row is None and [e["reason"] for e in errors] == [f"codice fiscale {reason}"]


@pytest.mark.parametrize("n", [0, 1, 3, 7])
def test_omocodia_codes_pass_with_their_date_and_sex(n: int) -> None:
    code = omocode(FEMALE, n)
    row, errors = validate_row(_row(codice_fiscale=code, birth_date="30/12/1991", sex="Жінка"), {})
    assert errors == [] and row is not None and row.codice_fiscale == code


@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=12),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=12),
    st.sampled_from("MF"),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31)),
    st.sampled_from(["A794", "Z138", "Z330", "Z343", "Z611", "Z100"]),  # Bergamo, UA, MA, SN, PE, AL
    st.integers(min_value=0, max_value=25),
)
@settings(max_examples=80, deadline=None)
def test_synthetic_codes_pass_and_a_mutated_check_character_fails(
    family: str, given_name: str, sex: str, born: date, place: str, shift: int
) -> None:
    code = tax_code(family, given_name, sex, born, place)
    fields = {"birth_date": born.strftime("%d/%m/%Y"), "sex": sex}
    row, errors = validate_row(_row(codice_fiscale=code, **fields), {})
    assert errors == [] and row is not None and row.codice_fiscale == code
    wrong = code[:15] + chr(65 + (ord(code[15]) - 65 + 1 + shift % 25) % 26)
    row, errors = validate_row(_row(codice_fiscale=wrong, **fields), {})
    assert row is None and [e["reason"] for e in errors] == [cf_problem(wrong)]
    assert errors[0]["reason"].startswith(CHECK_CHAR)


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=9))
@settings(max_examples=60)
def test_provisional_codes_are_checked_by_their_check_digit(seed: int, shift: int) -> None:
    code = temporary_tax_code(random.Random(seed))
    assert normalize_cf(code) == code and cf_problem(code) is None
    wrong = code[:10] + str((int(code[10]) + shift) % 10)
    assert normalize_cf(wrong) is None
    assert cf_problem(wrong) == "codice fiscale provvisorio non valido: cifra di controllo errata"


@given(st.text(alphabet="ABCDEHLMPRSTXYZ0123456789LMNPQRSTUV", min_size=16, max_size=16))
@settings(max_examples=200)
def test_a_message_exactly_when_the_code_is_refused(code: str) -> None:
    assert (cf_problem(code) is None) == (normalize_cf(code) is not None)


# --- the corpus files of these rules ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(people_files.WARNINGS))
def test_corpus_files_give_their_phones_warnings_and_reasons(partners: Session, name: str) -> None:
    spec = EXPECTED[name]
    summary = ingest_referral_file(partners, DATA / "corpus" / name, spec["sender"])
    assert (summary.accepted_rows, summary.rejected_rows) == (spec["accepted"], spec["rejected"])
    assert len(summary.row_warnings) == people_files.WARNINGS[name]
    stored = {p.family_name: p.phone for p in partners.exec(select(Person))}
    for family, phone in people_files.PHONES.get(name, {}).items():
        assert stored[family] == phone, family
    reasons = {r.row_number: " ".join(e["reason"] for e in r.errors) for r in partners.exec(select(ImportRow))}
    expected = people_files.REASONS.get(name, {})
    assert sorted(reasons) == sorted(expected)
    for number, fragment in expected.items():
        assert fragment in reasons[number], (number, reasons[number])


def test_referral_row_keeps_no_input_for_its_derived_phone_fields() -> None:
    """phone_raw and phone_verified come from the reading, never from a file's column."""
    row = ReferralRow.model_validate(_row(phone="333 1234567", phone_verified=False, phone_raw="falso"))
    assert (row.phone_raw, row.phone_verified) == ("333 1234567", True)


def test_phone_region_config_names_real_regions_and_fails_loudly(tmp_path: Path) -> None:
    import phonenumbers

    from config.data import ConfigError
    from config.phone_regions import load_phone_regions, parse_phone_regions

    rules = load_phone_regions()
    regions = {*rules.demonyms, *rules.aliases, *rules.languages.region_of.values()}
    assert regions <= set(phonenumbers.SUPPORTED_REGIONS)
    bad = tmp_path / "phone_regions.yaml"
    bad.write_text("name_locales: [it]\ndemonyms: {Ukraine: [ucraino]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"phone_regions\.yaml.*Ukraine"):
        parse_phone_regions(bad)
