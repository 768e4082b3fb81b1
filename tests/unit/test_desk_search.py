"""The desk's search (portal/desk/cases.py: search_cases) on SQLite: names in any script and
spelling through the stored folded key (``person.name_key``) and through names not folded yet
(on SQLite and PostgreSQL);
a changed or erased name leaves no key behind; migration 0017 fills the key of existing people;
office scoping for every kind of identifier; the search starts from the people found, never
from an office's whole caseload; what a search shows is audited."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.accounts import DeskUser, Role
from models.ops import AuditLog
from models.people import Person
from portal.app import create_app
from portal.desk.cases import search_cases
from portal.desk.security import add_user
from tasks.files.normalize import name_key, normalize_name
from tasks.runtime.db import alembic_config, get_engine, make_engine, migrate
from tests.factories import make_case, seed_partners
from tests.pg import postgres_database

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

PASSWORD = "Treviglio-sportello-7"


def _person(family: str, given: str, *, folded: bool = True, **extra: Any) -> dict[str, Any]:
    """A person as the import stores her: ``folded`` adds the search key the import writes."""
    norm = normalize_name(f"{family} {given}")
    return {"family_name": family, "given_names": given, "name_norm": norm, **extra} | (
        {"name_key": name_key(norm)} if folded else {}
    )


def _users(session: Session) -> dict[str, DeskUser]:
    return {
        "operator": add_user(
            session, username="g.bianchi", password=PASSWORD, role=Role.OPERATOR, office_code="CPI-BG"
        ),
        "coordinator": add_user(session, username="c.rota", password=PASSWORD, role=Role.COORDINATOR, office_code=None),
    }


def _build(session: Session) -> dict[str, Any]:
    seed_partners(session)
    users = _users(session)
    session.commit()
    cases = {
        "olha": make_case(session, **_person("Шевченко", "Ольга", native_family_name="Шевченко")),
        "serhii": make_case(session, **_person("Ткаченко", "Сергій")),
        "yevhen": make_case(session, **_person("Бойко", "Євген", folded=False)),  # written before its key
        "olga": make_case(session, **_person("Shevchenko", "Olga", folded=False)),
        "other_office": make_case(
            session,
            office="CPI-TRE",
            codice_fiscale="DLLMMD95C12Z343K",
            phone="+380671234567",
            **_person("Мельник", "Андрій"),
        ),
        "landline": make_case(session, phone_secondary="+39035123456", **_person("Diallo", "Awa")),
    }
    return {"users": users, "cases": cases}


@pytest.fixture
def desk(session: Session) -> dict[str, Any]:
    return _build(session)


def _found(session: Session, desk: dict[str, Any], typed: str, who: str = "operator") -> set[str]:
    codes = {c.code: name for name, c in desk["cases"].items()}
    return {codes[r.case.code] for r in search_cases(session, desk["users"][who], typed)}


#: (typed, found by the CPI-BG operator)
NAMES: list[tuple[str, set[str]]] = [
    ("shevchenko", {"olha", "olga"}),  # Cyrillic typed in Latin, Latin as written
    ("Шевченко Ольга", {"olha"}),  # exact first: Ольга is "olha"; Olga is another spelling
    ("Olga Shevchenko", {"olga"}),  # exact first again, the other way round
    ("Sergey Tkachenko", {"serhii"}),  # no exact match: spellings folded through the stored key
    ("tkach serg", {"serhii"}),  # the start of each word is enough
    ("Evgeny Boyko", {"yevhen"}),  # a name not folded yet is folded at the search
    ("Евгений", {"yevhen"}),  # Russian spelling in Cyrillic
    ("035 123456", {"landline"}),  # the second phone
    ("BG 2026 x", set()),  # not a code: a name nobody has
]
#: (typed, found by the CPI-BG operator, found by a coordinator)
SCOPES: list[tuple[str, set[str], set[str]]] = [
    ("Andrii Melnyk", set(), {"other_office"}),
    ("Andrey Melnik", set(), {"other_office"}),  # folded
    ("DLLMMD95C12Z343K", set(), {"other_office"}),
    ("+380 67 123 4567", set(), {"other_office"}),
    ("067 123 4567", set(), {"other_office"}),  # written at home without +380: the number compared
]


@pytest.mark.parametrize(("typed", "found"), NAMES)
def test_names_are_found_in_any_script_and_spelling(
    session: Session, desk: dict[str, Any], typed: str, found: set[str]
) -> None:
    assert _found(session, desk, typed) == found


def test_the_folded_search_reads_the_stored_key(session: Session, desk: dict[str, Any]) -> None:
    """A key is what the fold matches: a person whose stored key says another name is found by
    that name only (the search does not fold stored names again at each search)."""
    person = session.exec(select(Person).where(Person.name_norm == "tkachenko serhii")).one()
    person.name_key = name_key("Kravchenko Serhii")
    session.add(person)
    session.commit()
    assert _found(session, desk, "Sergey Tkachenko") == set()
    assert _found(session, desk, "Kravchenko") == {"serhii"}


def test_a_changed_or_erased_name_leaves_no_key_behind(session: Session, desk: dict[str, Any]) -> None:
    olha = session.exec(select(Person).where(Person.name_norm == "shevchenko olha")).one()
    serhii = session.exec(select(Person).where(Person.name_norm == "tkachenko serhii")).one()
    assert serhii.name_key == "tkacenko sergi"
    olha.family_name = olha.given_names = olha.name_norm = ""  # erasure blanks the name
    serhii.family_name, serhii.name_norm = "Bondarenko", "bondarenko serhii"  # a rectification
    session.add_all([olha, serhii])
    session.commit()
    with Session(session.get_bind()) as fresh:
        wanted = col(Person.id).in_([olha.id, serhii.id])
        keys = {pid: key for pid, key in fresh.exec(select(Person.id, Person.name_key).where(wanted)).all()}
    assert keys == {olha.id: "", serhii.id: ""}
    assert _found(session, desk, "Olha Shevchenko") == {"olga"}  # the other spelling only
    assert _found(session, desk, "Sergey Tkachenko") == set()
    assert _found(session, desk, "Sergey Bondarenko") == {"serhii"}  # the new name, folded at the search


@pytest.mark.parametrize(("typed", "operator", "coordinator"), SCOPES)
def test_an_operator_finds_only_her_offices_cases(
    session: Session, desk: dict[str, Any], typed: str, operator: set[str], coordinator: set[str]
) -> None:
    assert _found(session, desk, typed, "operator") == operator
    assert _found(session, desk, typed, "coordinator") == coordinator


def test_postgresql_finds_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same searches, same answers on PostgreSQL (LIKE is case-sensitive there: both sides are
    normalised to lower case)."""
    from config.settings import get_settings

    with postgres_database("incontro_desk") as url:
        monkeypatch.setenv("INCONTRO_DATABASE_URL", url)
        get_settings.cache_clear()
        get_engine.cache_clear()
        migrate(url)
        engine = get_engine()
        try:
            with Session(engine, expire_on_commit=False) as session:
                desk = _build(session)
                assert [_found(session, desk, typed) for typed, _ in NAMES] == [found for _, found in NAMES]
                for typed, operator, coordinator in SCOPES:
                    assert (_found(session, desk, typed), _found(session, desk, typed, "coordinator")) == (
                        operator,
                        coordinator,
                    ), typed
        finally:
            engine.dispose()
            get_engine.cache_clear()


def test_the_search_starts_from_the_people_found(engine: Engine, session: Session, desk: dict[str, Any]) -> None:
    """SQLite without statistics would walk the office's whole caseload and test every case
    against the people found (seconds on 100,000 cases): each search goes from the people to
    their cases by ``case.person_key``."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and '"case"' in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        for typed in ("Sergey Tkachenko", "shevchenko", "DLLMMD95C12Z343K", "067 123 4567", "+39035123456"):
            search_cases(session, desk["users"]["operator"], typed)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) >= 5
    conn = session.connection()
    for statement, parameters in statements:
        plan = " | ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
        assert "ix_case_person_key" in plan and "ix_case_office_code" not in plan, plan


def test_migration_0017_folds_the_names_already_stored(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0016")
    engine = make_engine(url)
    people = {"k1": "shevchenko olha", "k2": "tkachenko serhii", "k3": ""}  # k3: erased
    with engine.begin() as conn:
        for key, norm in people.items():
            conn.execute(text("INSERT INTO person_key (token, created_at) VALUES (:k, CURRENT_TIMESTAMP)"), {"k": key})
            conn.execute(
                text(
                    "INSERT INTO person (key, family_name, given_names, native_family_name, native_given_names, "
                    "name_norm, languages, preferred_language, created_at) "
                    "VALUES (:k, '', '', '', '', :n, '[]', 'it', CURRENT_TIMESTAMP)"
                ),
                {"k": key, "n": norm},
            )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        keys: dict[str, str] = {k: v for k, v in conn.execute(text("SELECT key, name_key FROM person")).all()}
    engine.dispose()
    assert keys == {"k1": "sevcenko olga", "k2": "tkacenko sergi", "k3": ""}
    assert keys["k1"] == name_key("Шевченко Ольга") == name_key("Shevchenko Olga")


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="http://127.0.0.1", follow_redirects=False) as c:
        yield c


def test_what_a_search_shows_is_audited(client: TestClient, session: Session, desk: dict[str, Any]) -> None:
    page = client.get("/scrivania/accedi")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    client.post("/scrivania/accedi", data={"csrf": token.group(1), "username": "g.bianchi", "password": PASSWORD})
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/scrivania/pratiche").text)
    assert csrf
    with Session(session.get_bind()) as fresh:
        before = {a.id for a in fresh.exec(select(AuditLog)).all()}
    page = client.post("/scrivania/pratiche", data={"csrf": csrf.group(1), "q": "Sergey Tkachenko"})
    assert page.status_code == 200 and "Ткаченко Сергій" in page.text
    with Session(session.get_bind()) as fresh:
        rows = [a for a in fresh.exec(select(AuditLog)).all() if a.id not in before]
    assert [(a.actor, a.case_code, a.purpose) for a in rows] == [
        ("scrivania:g.bianchi", desk["cases"]["serhii"].code, "scrivania: ricerca pratiche")
    ]


def test_the_import_and_a_rectification_write_the_search_key(tmp_path: Path) -> None:
    """People imported from a partner file are found by a spelling variant through the stored key
    (not folded again at search time), and a rectified name gets its new key at once."""
    from models.cases import Case
    from tasks.privacy.rectification import rectify_person
    from tasks.referral.ingest import ingest_referral_file

    url = f"sqlite:///{tmp_path / 'import.db'}"
    migrate(url)
    engine = make_engine(url)
    path = tmp_path / "segnalazioni.csv"
    path.write_text(
        "Cognome;Nome;Data di nascita;Cellulare;Comune di residenza;Consenso privacy\n"
        "Коваленко;Олена;12/03/1985;+380 67 123 4567;Bergamo;SI\n",
        encoding="utf-8",
    )
    with Session(engine) as s:
        seed_partners(s)
        s.commit()
        assert ingest_referral_file(s, path, "CARITAS-BG").accepted_rows == 1
        s.commit()
        person = s.exec(select(Person)).one()
        assert person.name_key and person.name_key == name_key(person.name_norm)
        code = s.exec(select(Case.code)).one()
        rectify_person(s, code, {"family_name": "Bondarenko"})
        s.commit()
        s.refresh(person)
        assert person.name_key == name_key(normalize_name("Bondarenko Олена")) != ""
