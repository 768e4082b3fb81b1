"""A flow run is a new process that imports its stage module before the first step: the heavy
libraries (charts, spreadsheets, arrays, fuzzy matching, templates, migrations, phone numbers)
are imported inside the functions that use them, and the tables a stage does not use are not
loaded (``models`` imports its table modules lazily), so no stage pays for them at start
(issue 16; bench/bench_startup.py measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.bench_startup import HEAVY, OPTIONAL_TABLES, stage_modules

ROOT = Path(__file__).resolve().parents[2]
STAGE_MODULES = stage_modules()  # every deployment's entrypoint module (deploy/specs.py)
# One process imports Prefect (what every stage module imports first and the fork server of
# deploy/forkserver.py holds), then imports each stage module in a fork of itself: a fresh
# process per module without paying Prefect's import once per module.
_PROBE = """
import json, os, sys, traceback
import prefect
out = {}
for module in MODULES:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            __import__(module)
            found = {"loaded": [m for m in WATCHED if m in sys.modules]}
        except BaseException:
            found = {"error": traceback.format_exc()}
        os.write(w, json.dumps(found).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    out[module] = json.loads(data or b'{"error": "no answer"}')
print(json.dumps(out))
"""
#: Stages whose work touches no vacancy, company answer, dispatch or measure: they start without
#: those tables (models.exchange, models.policy). The desk's tables (models.accounts) no stage loads.
EARLY_STAGES = ("flows.closure", "flows.intake", "flows.literacy", "flows.referral")
TABLE_MODULES = ("models.accounts", "models.cases", "models.exchange", "models.ops", "models.people", "models.policy")


@pytest.fixture(scope="module")
def loaded_at_start() -> dict[str, list[str]]:
    """The heavy libraries and optional table modules each stage module loads, one fresh process
    (a fork after ``import prefect``) per module."""
    code = f"MODULES = {list(STAGE_MODULES)!r}\nWATCHED = {list(HEAVY + OPTIONAL_TABLES)!r}\n{_PROBE}"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found: dict[str, dict[str, Any]] = json.loads(done.stdout)
    errors = {m: f["error"] for m, f in found.items() if "error" in f}
    assert not errors, "\n".join(f"import {m} failed:\n{e}" for m, e in errors.items())
    return {m: f["loaded"] for m, f in found.items()}


def test_every_deployment_module_is_probed() -> None:
    """The list comes from deploy/specs.py, so a new stage is checked without editing this test."""
    assert "flows.referral" in STAGE_MODULES and "flows.reports" in STAGE_MODULES
    assert all((ROOT / (m.replace(".", "/") + ".py")).is_file() for m in STAGE_MODULES)


@pytest.mark.parametrize("module", STAGE_MODULES)
def test_stage_module_loads_no_heavy_library(module: str, loaded_at_start: dict[str, list[str]]) -> None:
    heavy = [m for m in loaded_at_start[module] if m in HEAVY]
    assert heavy == [], f"{module} loads {', '.join(heavy)} at import"


@pytest.mark.parametrize("module", STAGE_MODULES)
def test_no_stage_loads_the_desk_tables(module: str, loaded_at_start: dict[str, list[str]]) -> None:
    assert "models.accounts" not in loaded_at_start[module]


@pytest.mark.parametrize("module", EARLY_STAGES)
def test_early_stages_start_without_the_exchange_and_policy_tables(
    module: str, loaded_at_start: dict[str, list[str]]
) -> None:
    assert module in STAGE_MODULES
    tables = [m for m in loaded_at_start[module] if m in OPTIONAL_TABLES]
    assert tables == [], f"{module} loads {', '.join(tables)} at import"


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_models_package_and_its_small_modules_load_no_table() -> None:
    """``from models import clock`` (every task module) and the enums cost no SQLAlchemy."""
    out = _run(
        "import sys, models, models.clock, models.enums, models.state_machine; "
        f"print(sorted(m for m in sys.modules if m == 'sqlalchemy' or m in {TABLE_MODULES!r}))"
    )
    assert out == "[]"


def test_the_re_exports_load_their_table_module_on_first_use() -> None:
    import models

    for name in models.__all__:
        value = getattr(models, name)
        assert value.__name__ == name and value.__module__.startswith("models.")
    with pytest.raises(AttributeError):
        models.NoSuchTable  # noqa: B018


@pytest.mark.parametrize("module", TABLE_MODULES)
def test_a_table_module_alone_registers_the_tables_its_foreign_keys_name(module: str) -> None:
    """A flush sorts the tables it writes by their foreign keys, which must then find their
    tables: in a process that imported only ``module``, every foreign key of every registered
    table resolves (SQLAlchemy raises NoReferencedTableError otherwise)."""
    out = _run(
        f"import importlib; from sqlmodel import SQLModel; importlib.import_module({module!r}); "
        "tables = SQLModel.metadata.sorted_tables; "
        "print(sum(1 for t in tables for fk in t.foreign_keys if fk.column is not None))"
    )
    assert int(out) > 0


def test_models_tables_registers_every_table() -> None:
    """The migrations and the schema checks import ``models.tables``: the same tables as importing
    every module of the package."""
    every = _run(
        "import importlib, pkgutil, models; from sqlmodel import SQLModel; "
        "[importlib.import_module(f'models.{m.name}') for m in pkgutil.iter_modules(models.__path__) if not m.ispkg]; "
        "print(sorted(SQLModel.metadata.tables))"
    )
    registered = _run("import models.tables; from sqlmodel import SQLModel; print(sorted(SQLModel.metadata.tables))")
    assert registered == every and "desk_user" in registered and "policy_measure" in registered
