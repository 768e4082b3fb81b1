"""The referral import's bulk path: a few multi-row statements per chunk, never one per row, and
the same rows, steps and history as the one-by-one rules would give (tasks/referral/store.py).

Speed itself is measured in ``bench/bench_import.py``; these tests pin the behaviour that makes
it: statements counted per table on the real migrated SQLite database, and every stored value
compared with what the core rules (``plan_defaults``, the consent rules) say.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import clock
from models.cases import Case, CaseEvent
from models.enums import Channel, ConsentPurpose, State
from models.ops import ImportRow
from models.people import Consent, Person, PersonKey, Referral
from tasks.core.next_steps import plan_defaults
from tasks.referral.ingest import ingest_referral_file
from tests.factories import seed_partners

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
