"""The referral import's bulk path: a few multi-row statements per chunk, never one per row, and
the same rows, steps and history as the one-by-one rules would give (tasks/referral/store.py).

Speed itself is measured in ``bench/bench_import.py``; these tests pin the behaviour that makes
it: statements counted per table on the real migrated SQLite database, every stored value
compared with what the core rules (``plan_defaults``, the consent rules) say, and each shortcut
of the fast path (a file's rows read without a model per row, the driver's executemany, the
plain Italian phone number, the common e-mail address) compared with what it stands for.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import clock
from models.cases import Case, CaseEvent
from models.enums import Channel, ConsentPurpose, Language, State
from models.ops import ImportRow
from models.people import Consent, Person, PersonKey, Referral
from tasks.core.next_steps import plan_defaults
from tasks.files.normalize import normalize_email
from tasks.files.phones import _number_type, _parse
from tasks.files.rows import read_row, validate_row
from tasks.files.tabular import FileRejected, open_table
from tasks.referral.ingest import REFERRAL_REQUIRED, ingest_referral_file
from tasks.referral.store import _insert_rows
from tests.factories import seed_partners

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"

FAMILY = ["Bonacina", "Kovalenko", "Diallo", "Pesenti", "El Amrani", "Hoxha", "Gualandris", "Popescu", "Sow"]
GIVEN = ["Olena", "Mamadou", "Chiara", "Fatima", "Ardit", "Nicolò", "Iryna", "Moussa", "Maria Grazia"]
TOWNS = ["Bergamo", "Seriate (BG)", "Dalmine", "Albino", "Romano di Lomb.", "Zingonia", "Treviglio", "Milano", ""]
HEADER = "Cognome;Nome;Data di nascita;Cellulare;E-mail;Comune di residenza;Consenso privacy;Consenso Confindustria"


def _file(tmp_path: Path, rows: int) -> Path:
    """A Caritas-style export: real-looking people, a few rows every partner gets wrong."""
    rng = random.Random(17)
    lines = [HEADER]
    for i in range(rows):
        born = f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 13):02d}/{rng.randrange(1960, 2004)}"
        phone = rng.choice([f"3{rng.randrange(20, 50)} {rng.randrange(1000000, 9999999)}", "", "nessuno"])
        mail = f"persona{i}@example.it" if rng.random() < 0.6 else ""
        privacy = rng.choice(["SI", "SI", "sì", "NO"])
        confindustria = rng.choice(["SI", "NO", ""])
        if i % 97 == 5:
            born = "31/02/1990"  # an impossible date: the row is rejected
        lines.append(
            f"{rng.choice(FAMILY)};{rng.choice(GIVEN)};{born};{phone};{mail};{rng.choice(TOWNS)};{privacy};{confindustria}"
        )
    path = tmp_path / "segnalazioni_caritas.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


@pytest.fixture
def statements(engine: Engine) -> Iterator[Counter[str]]:
    """INSERT statements sent to the database, by table (an executemany counts once)."""
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        if words[:2] == ["INSERT", "INTO"]:
            seen[words[2].strip('"')] += 1

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_chunk_is_written_in_a_few_statements_whatever_its_rows(
    session: Session, tmp_path: Path, statements: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCONTRO_CHUNK_SIZE", "250")
    from config.settings import get_settings

    get_settings.cache_clear()
    seed_partners(session)
    statements.clear()
    summary = ingest_referral_file(session, _file(tmp_path, 1000), "CARITAS-BG")
    session.commit()
    assert summary.rejected_rows == 11 and summary.accepted_rows == 989
    chunks = 1000 // 250 + 1  # the last, possibly empty, chunk included
    for table in ("person_key", "case", "person", "referral", "consent", "case_event", "import_row"):
        assert 1 <= statements[table] <= chunks, (table, statements[table])


def test_the_bulk_rows_are_those_of_the_rules(session: Session, tmp_path: Path) -> None:
    seed_partners(session)
    path = _file(tmp_path, 300)
    summary = ingest_referral_file(session, path, "CARITAS-BG")
    session.commit()
    cases = session.exec(select(Case).order_by(col(Case.id))).all()
    assert [c.code for c in cases] == summary.case_codes and len(cases) == summary.accepted_rows
    # each new case starts where the core rules put a REFERRED case: step, owner, due date
    expected = plan_defaults(session, cases, State.REFERRED, today=clock.today())
    assert {c.id: (c.next_step, c.owner, c.next_due) for c in cases} == {
        i: (a.step, a.owner, a.due) for i, a in expected.items()
    }
    assert all(c.state is State.REFERRED and c.office_code is None and c.version == 0 for c in cases)
    # one creation history row each, no "from" state
    history = session.exec(select(CaseEvent)).all()
    assert sorted(e.case_id for e in history) == sorted(c.id for c in cases)
    assert {(e.from_state, e.to_state, e.actor) for e in history} == {(None, State.REFERRED, "flow:referral")}
    # every case has its own key, person and referral (row number as the partner sees it)
    people = {p.key: p for p in session.exec(select(Person)).all()}
    referrals = {r.case_id: r for r in session.exec(select(Referral)).all()}
    keys = set(session.exec(select(PersonKey.token)).all())
    for case in cases:
        assert case.person_key in keys and case.person_key in people
        ref = referrals[case.id]
        assert (ref.person_key, ref.referrer_code, ref.channel) == (case.person_key, "CARITAS-BG", Channel.FILE)
        assert ref.import_file_id == summary.import_id and ref.row_number is not None and ref.row_number >= 2
    rejected = session.exec(select(ImportRow)).all()
    assert len(rejected) == summary.rejected_rows
    assert {r.row_number for r in rejected}.isdisjoint(r.row_number for r in referrals.values())
    # the consents each row's cells gave, nothing more
    lines = path.read_text(encoding="utf-8").splitlines()
    expected_consents = set()
    for ref in referrals.values():
        cells = lines[(ref.row_number or 0) - 1].split(";")
        if cells[6] in ("SI", "sì"):
            expected_consents |= {
                (ref.person_key, ConsentPurpose.CPI_PROCESSING),
                (ref.person_key, ConsentPurpose.REFERRER_CONTACT),
            }
        if cells[7] == "SI":
            expected_consents.add((ref.person_key, ConsentPurpose.PROFILE_TO_CONFINDUSTRIA))
    consents = [(c.person_key, c.purpose) for c in session.exec(select(Consent)).all()]
    assert sorted(consents) == sorted(expected_consents)
    assert {c.source for c in session.exec(select(Consent)).all()} == {f"import:{summary.import_id}"}


def test_the_stored_person_is_the_validated_row(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "una_riga.csv"
    path.write_text(
        "Cognome;Nome;Data di nascita;Cellulare;E-mail;Comune di residenza;Lingue;Consenso privacy\r\n"
        "Коваленко;Олена;07/03/1988;097 772 97 95;Olena.K@Example.it;Dalmine (Bg);ucraino, russo;SI\r\n",
        encoding="utf-8",
    )
    seed_partners(session)
    ingest_referral_file(session, path, "CARITAS-BG")
    session.commit()
    (person,) = session.exec(select(Person)).all()
    assert (person.family_name, person.native_family_name, person.name_norm) == (
        "Коваленко",
        "Коваленко",
        "kovalenko olena",
    )
    assert (person.birth_date, person.municipality, person.email) == (
        date(1988, 3, 7),
        "Dalmine",
        "olena.k@example.it",
    )
    assert (person.phone, person.phone_raw, person.phone_verified) == ("+380977729795", "097 772 97 95", True)
    assert person.languages == ["ucraino", "russo"] and person.preferred_language.value == "uk"


# --- the shortcuts of the fast path, each against what it stands for ----------------------------

#: Cells partners get wrong, swapped into real rows to reach every check and message.
ODD_CELLS: list[Any] = [
    *["", " ", None, "31/02/1990", "1/1/1900", "01.02.03", "5 / 6 / 2001", 44000, 3331234567.0, "Milano"],
    *["nome@", "A.B@Example.IT", "a@b", "x" * 400, "=HYPERLINK(1)", "Mario 2", "SI", "no", "forse", "A2"],
    *["madrelingua", "RSSMRA80A01H501U", "12345678901", "333 1234567 / 035 123456", "nessuno", "M"],
    *["345-ABC-1234", "Жінка", "Україна", "BG", "Dalmine (Bg)", "  Seriate  ", "italiano; inglese"],
]


def _corpus_rows() -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    for path in sorted(CORPUS.iterdir()):
        try:
            with open_table(path, "referral", required=REFERRAL_REQUIRED) as (layout, rows):
                for _number, cells in rows:
                    yield layout.record(cells), layout.labels()
        except FileRejected:
            continue  # vacancy files, damaged files


def test_a_file_row_reads_as_the_model_validates_it() -> None:
    """``read_row`` (files) and ``validate_row`` (forms, API: the pydantic model) give the same
    values, phone readings, warnings and Italian errors, in the same order, for every corpus row
    and for the same rows with odd cells swapped in or a column taken out."""
    rng = random.Random(7)
    compared = valid = 0
    for raw, labels in _corpus_rows():
        variants = [raw]
        for _ in range(4):
            odd = dict(raw)
            for name in rng.sample(sorted(odd), min(len(odd), rng.randrange(1, 4))):
                odd[name] = rng.choice(ODD_CELLS)
            if rng.random() < 0.2:
                odd.pop(rng.choice(sorted(odd)))
            variants.append(odd)
        for cells in variants:
            model, model_errors = validate_row(cells, labels)
            record, errors = read_row(cells, labels)
            assert errors == model_errors, cells
            assert (record is None) == (model is None), cells
            compared += 1
            if model is None or record is None:
                continue
            valid += 1
            for name, value in model.model_dump().items():
                assert getattr(record, name) == value and type(getattr(record, name)) is type(value), name
            derived = ("phone_raw", "phone_verified", "phone_secondary_raw", "phone_secondary_verified", "warnings")
            assert [getattr(record, n) for n in derived] == [getattr(model, n) for n in derived]
            assert record.name_norm == model.name_norm
    assert compared > 1000 and 0 < valid < compared  # rows of both kinds were compared


def test_the_bulk_insert_stores_what_core_stores(session: Session) -> None:
    """``_insert_rows`` (the driver's executemany, values converted by the column types) stores
    each value exactly as a Core INSERT does: same text, numbers, JSON, enums, dates, NULLs."""
    conn = session.connection()
    now = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    keys = ["core0", "core1", "bulk0", "bulk1"]
    conn.execute(insert(PersonKey), [{"token": k, "created_at": now} for k in keys])
    people: list[dict[str, Any]] = [
        {"family_name": "Коваленко", "given_names": "Олена", "birth_date": date(1988, 3, 7), "sex": None}
        | {"phone_verified": True, "phone_secondary_verified": False, "languages": ["ucraino", "russo"]}
        | {"preferred_language": Language.UK, "permit_expiry": date(2027, 1, 31), "municipality": "Dalmine"},
        {"family_name": "Rossi", "given_names": "Anna", "birth_date": None, "sex": "F"}
        | {"phone_verified": None, "phone_secondary_verified": None, "languages": []}
        | {"preferred_language": Language.IT, "permit_expiry": None, "municipality": None},
    ]
    conn.execute(insert(Person), [{**p, "key": k, "created_at": now} for p, k in zip(people, keys[:2], strict=True)])
    _insert_rows(conn, Person, [{**p, "key": k} for p, k in zip(people, keys[2:], strict=True)], created_at=now)
    columns = [c.name for c in Person.__table__.columns if c.name not in ("id", "key")]  # type: ignore[attr-defined]
    stored = ", ".join(f'typeof("{c}"), "{c}"' for c in columns)
    rows = conn.execute(text(f'SELECT {stored} FROM person ORDER BY "key"')).all()  # bulk0, bulk1, core0, core1
    assert [tuple(r) for r in rows[:2]] == [tuple(r) for r in rows[2:]]
    assert rows[0][columns.index("languages") * 2 + 1] == '["ucraino", "russo"]'


def test_the_plain_italian_number_is_parsed_as_phonenumbers_parses_it() -> None:
    """``_parse`` builds the commonest cell ("333 1234567") itself: the same PhoneNumber as
    ``phonenumbers.parse`` (or the same error) for every shape of digits and spaces."""
    rng = random.Random(11)
    shapes = ["333 1234567", "3331234567", "39 333 1234567", "393331234567", "035 123456", "1", "2 7"]
    for _ in range(20_000):
        first = rng.choice("0123456789+ ")
        shapes.append((first + "".join(rng.choice("0123456789   ") for _ in range(rng.randrange(1, 20)))).strip())
    for text_ in filter(None, shapes):
        for region in ("IT", "UA"):
            try:
                expected: Any = phonenumbers.parse(text_, region)
            except phonenumbers.NumberParseException as exc:
                expected = exc.error_type
            try:
                got: Any = _parse(text_, region)
            except phonenumbers.NumberParseException as exc:
                got = exc.error_type
            assert got == expected and repr(got) == repr(expected), (text_, region)


def test_the_type_of_a_number_is_the_one_phonenumbers_gives() -> None:
    """``_number_type`` (patterns compiled once) answers as ``phonenumbers.number_type`` for the
    example number of every region and type, numbers near them, and random national numbers."""
    rng = random.Random(5)
    types = [t for t in range(phonenumbers.PhoneNumberType.VOICEMAIL + 1)]
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in types:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            numbers.append(example)
            digits = str(example.national_number)
            for _ in range(3):
                cut = rng.randrange(1, len(digits) + 1)
                near = digits[:-cut] + "".join(rng.choice(string.digits) for _ in range(cut + rng.randrange(-1, 2)))
                if near:
                    numbers.append(phonenumbers.parse(f"+{example.country_code}{near}", None))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        if (example := phonenumbers.example_number_for_non_geo_entity(code)) is not None:
            numbers.append(example)
    for _ in range(5_000):
        national = "".join(rng.choice(string.digits) for _ in range(rng.randrange(4, 15)))
        try:
            numbers.append(phonenumbers.parse(national, rng.choice(sorted(phonenumbers.SUPPORTED_REGIONS))))
        except phonenumbers.NumberParseException:
            continue
    kinds = Counter(phonenumbers.number_type(n) for n in numbers)
    assert len(kinds) >= 10  # every kind of number was met
    assert [_number_type(n) for n in numbers] == [phonenumbers.number_type(n) for n in numbers]


def test_the_common_email_is_normalised_as_email_validator_does() -> None:
    """``normalize_email`` checks a plain address's domain once (cached) instead of the whole
    address each time: the same answer as email_validator for addresses valid and not."""
    rng = random.Random(3)
    domains = ["example.it", "GMAIL.com", "x", "a.b", "-a.it", "a-.it", "a..it", ".it", "it.", "xn--bcher-kva.it"]
    domains += ["localhost", "a.test", "123.45", "a.invalid", "mail.arpa", "a" * 64 + ".it", "a" * 70 + ".com"]
    domains += ["a_b.it", "x.y.z.co.uk", "bücher.de", "bad domain.it", "x.local"]
    addresses = ["persona1@example.it", "Mario.Rossi@X.it", "nome@", "@x.it", "a@b@c.it", ".a@x.it", "a..b@x.it"]
    addresses += ['"q"@x.it', "Name <a@x.it>", "a@[1.2.3.4]", "a" * 250 + "@x.it", " a@x.it ", "ñ@x.it"]
    characters = string.ascii_letters + string.digits + ".-_+@'\"<> àé!#%"
    for _ in range(3_000):
        local = "".join(rng.choice(characters) for _ in range(rng.randrange(0, 12)))
        addresses += [f"{local}@{rng.choice(domains)}", "a" * rng.randrange(1, 260) + "@" + rng.choice(domains)]

    def reference(address: str) -> str | None:
        try:
            return validate_email(address.strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            return None

    answers = [(normalize_email(a), reference(a)) for a in addresses]
    assert all(got == expected for got, expected in answers)
    assert 0 < sum(1 for got, _ in answers if got) < len(answers)
