"""The KPI tables as readers see them (Italian headers, the terminal report) and the same figures on PostgreSQL.

Same seeded October 2026 history and hand-computed expectations as :mod:`tests.unit.test_kpis`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from models.cases import Case
from models.enums import State
from tasks.reports import kpis
from tasks.reports.funnel import FUNNEL_ORDER
from tasks.reports.tables import TABLES, collect_kpis, labelled_rows
from tests.unit.test_kpis import (
    ALL,
    CONVERSION_ALL,
    FLOWS_OCT,
    OCT,
    PLACEMENT_REFERRER,
    TIME_IN_STAGE_OCT,
    seed,
)


@pytest.fixture
def seeded(session: Session) -> dict[str, Case]:
    return seed(session)


# --------------------------------------------------------------------------------------------
# Everything together, as artifacts, XLSX and the terminal see it


def test_collect_kpis_labels_every_table_in_italian(session: Session, seeded: dict[str, Case]) -> None:
    tables = collect_kpis(session, OCT)
    assert set(tables) == set(TABLES)
    for name, rows in tables.items():
        labelled = labelled_rows(name, rows)
        assert all(list(r) == [label for _k, label in TABLES[name].columns] for r in labelled)
    placement = labelled_rows("placement_office", tables["placement_office"])
    assert placement[-1]["Tasso %"] == 44.4 and placement[0]["Rispetto al 15%"] == "sotto"
    flows = labelled_rows("flows", tables["flows"])
    assert flows[0] == {"Stato": "Segnalati", "Entrati": 7, "Usciti": 6}


# --------------------------------------------------------------------------------------------
# The same figures on PostgreSQL

PG_ADMIN = os.environ.get("INCONTRO_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    from config.settings import get_settings
    from tasks.runtime.db import get_engine, make_engine, migrate

    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if os.environ.get("INCONTRO_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL NOT TESTED: no server at 127.0.0.1:5432 ({type(exc).__name__})")
    name = f"incontro_kpi_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    monkeypatch.setenv("INCONTRO_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    migrate(url)
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as s:
            yield s
    finally:
        engine.dispose()
        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_same_kpis_on_postgresql(pg_session: Session) -> None:
    seeded = seed(pg_session)
    s = pg_session
    assert {r["state"]: (r["entered"], r["left"]) for r in kpis.state_flows(s, OCT)} == FLOWS_OCT
    conv = [(r["from_state"], r["to_state"], r["entered"], r["converted"]) for r in kpis.conversion(s, ALL)]
    assert conv == CONVERSION_ALL
    placement = kpis.placement(s, ALL, by="referrer")
    assert [(r["group"], r["taken_in_charge"], r["hired"]) for r in placement] == [
        (g, t, h) for g, t, h, *_ in PLACEMENT_REFERRER
    ]
    stage = {
        r["state"]: (r["completed"], r["mean_bd"], r["median_bd"], r["max_bd"], r["open"], r["open_median_bd"])
        for r in kpis.time_in_stage(s, OCT)
    }
    assert stage == TIME_IN_STAGE_OCT
    assert [r["case_code"] for r in kpis.overdue_steps(s, date(2026, 11, 1))] == [
        seeded["H"].code,
        seeded["M"].code,
    ]
    assert [r["employed_180"] for r in kpis.retention_180(s, OCT)] == [0, 1, 1]
    assert kpis.literacy_outcomes(s, OCT)[-1]["ongoing"] == 2
    assert kpis.interest_by_batch(s, OCT)[-1]["with_interest"] == 1


# --------------------------------------------------------------------------------------------
# The terminal shows the same figures


def test_cli_report_prints_the_same_figures(
    session: Session, seeded: dict[str, Case], capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.report import report

    assert report("2026-10") == 0
    out = capsys.readouterr().out
    assert out.startswith("Incontro al lavoro – indicatori di ottobre 2026")
    for spec in TABLES.values():
        assert spec.title in out
    lines = out.splitlines()
    total = next(line for line in lines if line.startswith("Totale") and "sopra" in line)
    assert total.split() == ["Totale", "9", "4", "44,4", "29,4", "sopra"]
    assert any(line.split()[:3] == ["Segnalati", "7", "6"] for line in lines)
    assert seeded["H"].code in out and "Rossi" not in out


@pytest.mark.parametrize("bad", ["2026-13", "ottobre"])
def test_cli_report_refuses_a_bad_month(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.report import report

    assert report(bad) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "scrivere AAAA-MM, per esempio 2026-10" in captured.err


def test_cli_report_explains_an_uninitialised_database(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.report import report

    assert report("2026-10") == 1  # no ``engine`` fixture: the database has no tables
    assert "non inizializzato" in capsys.readouterr().err


def test_funnel_order_lists_every_state_once_main_path_first() -> None:
    """The artifact's funnel table shows every state, so no case is missing from its totals."""
    assert len(FUNNEL_ORDER) == len(set(FUNNEL_ORDER)) == len(State)
    assert tuple(FUNNEL_ORDER[: len(kpis.FUNNEL_STATES)]) == kpis.FUNNEL_STATES
