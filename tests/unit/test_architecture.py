"""The architecture contracts (pyproject.toml ``[tool.importlinter]``, docs/ARCHITECTURE.md#layers)
hold, so CI fails when a module imports across a layer or from another stage."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(exe), "--no-cache", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_task_package_is_in_the_layers_contract() -> None:
    """A new package under tasks/ must be placed in a layer, or the contract would not see it."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layered = {
        name.strip()
        for contract in contracts["contracts"]
        if contract["type"] == "layers"
        for layer in contract["layers"]
        for name in layer.split("|")
    }
    packages = sorted(
        p.stem if p.is_file() else p.name
        for p in (ROOT / "tasks").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
    )
    missing = [name for name in packages if f"tasks.{name}" not in layered]
    assert not missing, f"tasks packages in no layer: {missing}"


def test_no_module_is_a_god_module() -> None:
    """No source module over 600 lines (docs/ARCHITECTURE.md#layers)."""
    folders = ["models", "config", "tasks", "flows", "portal", "deploy", "cli", "demo", "bench", "tests"]
    too_long = {
        str(path.relative_to(ROOT)): n
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if "migrations/versions" not in str(path) and (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not too_long, too_long
