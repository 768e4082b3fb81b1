"""A flow run is a new process that imports its stage module before the first step: the heavy
libraries (charts, spreadsheets, arrays, fuzzy matching, templates, migrations, phone numbers)
are imported inside the functions that use them, so no stage pays for them at start
(issue 16; bench/bench_startup.py measures the time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_startup import HEAVY, stage_modules

ROOT = Path(__file__).resolve().parents[2]
STAGE_MODULES = stage_modules()  # every deployment's entrypoint module (deploy/specs.py)
_PROBE = "import sys, {module}; print(','.join(m for m in {heavy!r} if m in sys.modules))"


@pytest.fixture(scope="module")
def loaded_at_start() -> dict[str, list[str]]:
    """The heavy libraries each stage module loads, one fresh process per module, all at once."""
    procs = {
        module: subprocess.Popen(
            [sys.executable, "-c", _PROBE.format(module=module, heavy=HEAVY)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for module in STAGE_MODULES
    }
    loaded: dict[str, list[str]] = {}
    for module, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"import {module} failed:\n{err}"
        loaded[module] = [m for m in out.strip().split(",") if m]
    return loaded


def test_every_deployment_module_is_probed() -> None:
    """The list comes from deploy/specs.py, so a new stage is checked without editing this test."""
    assert "flows.referral" in STAGE_MODULES and "flows.reports" in STAGE_MODULES
    assert all((ROOT / (m.replace(".", "/") + ".py")).is_file() for m in STAGE_MODULES)


@pytest.mark.parametrize("module", STAGE_MODULES)
def test_stage_module_loads_no_heavy_library(module: str, loaded_at_start: dict[str, list[str]]) -> None:
    assert loaded_at_start[module] == [], f"{module} loads {', '.join(loaded_at_start[module])} at import"


def test_cells_are_cleaned_of_what_openpyxl_refuses_without_importing_it() -> None:
    """tasks/files/sheets.py keeps its own copy of openpyxl's pattern, so that ``safe_cell``
    needs no openpyxl: the copy must stay the same."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as openpyxl_re  # type: ignore[import-untyped]

    from tasks.files.sheets import ILLEGAL_CHARACTERS_RE, safe_cell

    assert (ILLEGAL_CHARACTERS_RE.pattern, ILLEGAL_CHARACTERS_RE.flags) == (openpyxl_re.pattern, openpyxl_re.flags)
    assert safe_cell("a\x00b\x0bc\x1fd\te") == "abcd\te"


@pytest.mark.parametrize("path", sorted((ROOT / "config").glob("*.yaml")), ids=lambda p: p.name)
def test_config_files_read_the_same_with_libyaml(path: Path) -> None:
    """config/data.py reads YAML with libyaml's parser (offices.yaml is read at every flow start):
    the data must be what the pure-Python parser gives."""
    import yaml

    from config.data import _read_yaml

    assert _read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_invalid_yaml_is_reported_as_the_python_parser_words_it(tmp_path: Path) -> None:
    """libyaml words its errors differently: a refused file is read again by PyYAML's own parser."""
    import yaml

    from config.data import ConfigError, load_routing

    bad = tmp_path / "routing.yaml"
    bad.write_text("literacy: {threshold: A2\ndedup: {}\n", encoding="utf-8")
    with bad.open(encoding="utf-8") as fh, pytest.raises(yaml.YAMLError) as python:
        yaml.safe_load(fh)
    with pytest.raises(ConfigError) as info:
        load_routing(bad)
    assert str(info.value) == f"{bad}: invalid YAML: {python.value}"
    assert "line 2, column 6" in str(info.value)
