"""``incontro check-file`` gives the import's own verdict on every corpus file and writes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.check_file import check_file

DATA = Path(__file__).resolve().parent.parent / "data"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((DATA / "expected.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_verdict_is_the_import_s_and_nothing_is_written(name: str, tmp_path: Path) -> None:
    spec = EXPECTED[name]
    var_before = os.environ["INCONTRO_VAR_DIR"]
    result = check_file(DATA / "corpus" / name, spec["kind"], spec["sender"])
    assert os.environ["INCONTRO_VAR_DIR"] == var_before
    assert not Path(var_before).exists() or not any(Path(var_before).iterdir()), "nothing written in var/"
    if "error" in spec:
        assert result["file_error"] is not None and spec["error"] in result["file_error"]
        assert result["rows"] == []
        return
    assert result["file_error"] is None
    assert (result["accepted"], result["rejected"]) == (spec["accepted"], spec["rejected"]), spec["note"]
    rejected = [r for r in result["rows"] if r["status"] == "rejected"]
    assert len(rejected) == spec["rejected"]
    assert all(r["errors"] and all(e["column"] and e["reason"] for e in r["errors"]) for r in rejected)
    assert all(r["errors"] == [] for r in result["rows"] if r["status"] == "accepted")


def test_the_command_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    code = main(
        [
            "check-file",
            str(DATA / "corpus" / "64_no_consent_columns.csv"),
            "--kind",
            "referral",
            "--sender",
            "AMBITO-TREVIGLIO",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) == {"file_error", "accepted", "rejected", "warnings", "rows"}
    assert out["accepted"] == 6 and out["rejected"] == 0
    assert any("consenso" in w for w in out["warnings"])
    assert {"row", "status", "errors"} <= set(out["rows"][0])


def test_a_file_refused_as_a_whole_exits_1_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    code = main(
        ["check-file", str(DATA / "corpus" / "22_no_header.csv"), "--kind", "referral", "--sender", "CARITAS-BG"]
    )
    assert code == 1
    assert "FILE RIFIUTATO" in capsys.readouterr().out
