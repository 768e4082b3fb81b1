"""``incontro occupations``: ISCO-08 candidates for job titles, as JSON or an Italian table (issue 21).

Run as an operator would, in a new process (tests/cli.py). The titles are the kind partners
write; the shape of ``--json`` is the one the README documents.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.cli import run_cli


def _run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    done = run_cli("occupations", *args, prefect_home=str(tmp_path / "prefect"), INCONTRO_VAR_DIR=str(tmp_path / "var"))
    return done.returncode, done.stdout, done.stderr


def test_json_gives_three_candidates_per_text_in_order(tmp_path: Path) -> None:
    code, stdout, stderr = _run(tmp_path, "--json", "Saldatrice a filo", "badante convivente", "оператор кол-центру")
    assert code == 0, stderr
    result: list[dict[str, Any]] = json.loads(stdout)
    assert [r["text"] for r in result] == ["Saldatrice a filo", "badante convivente", "оператор кол-центру"]
    assert [r["candidates"][0]["code"] for r in result] == ["7212", "5322", "4222"]
    for item in result:
        assert len(item["candidates"]) == 3
        assert len({c["code"] for c in item["candidates"]}) == 3
        for cand in item["candidates"]:
            assert set(cand) == {"code", "label", "score"}
            assert re.fullmatch(r"[0-9]{4}", cand["code"])
            assert isinstance(cand["score"], float) and 0 <= cand["score"] <= 100
        scores = [c["score"] for c in item["candidates"]]
        assert scores == sorted(scores, reverse=True)
        assert item["to_confirm"] is False
    # labels are the Italian ones of config/occupations.yaml, for the operator
    assert result[0]["candidates"][0]["label"] == "Saldatori e tagliatori a fiamma"


def test_file_answers_line_by_line_and_flags_unsure_titles(tmp_path: Path) -> None:
    titles = tmp_path / "mansioni.txt"
    titles.write_text("\ufeffmuratore\n\noperatore\nex ragioniera\n", encoding="utf-8")
    code, stdout, stderr = _run(tmp_path, "--file", str(titles), "--json")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert [r["text"] for r in result] == ["muratore", "", "operatore", "ex ragioniera"]
    assert result[0]["candidates"][0]["code"] == "7112" and not result[0]["to_confirm"]
    assert result[1]["candidates"] == [] and result[1]["to_confirm"]
    assert result[2]["to_confirm"]  # "operatore" of what? the operator chooses
    assert result[2]["doubt"] and result[0]["doubt"] == ""  # why, in Italian, only when unsure


def test_table_is_italian_and_says_what_to_confirm(tmp_path: Path) -> None:
    code, stdout, stderr = _run(tmp_path, "infermiera", "addetto")
    assert code == 0, stderr
    assert "«infermiera» — proposta sicura" in stdout
    assert re.search(r"1\. 2221  Infermieri\s+punteggio", stdout)
    assert "«addetto» — da confermare: scegliere tra le proposte (" in stdout  # with the reason
    assert "(2 mansioni, 1 da confermare)" in stdout


def test_wrong_use_is_explained_in_italian(tmp_path: Path) -> None:
    code, _, stderr = _run(tmp_path)
    assert code == 2 and "manca il testo" in stderr
    code, _, stderr = _run(tmp_path, "muratore", "--file", str(tmp_path / "x.txt"))
    assert code == 2 and "non entrambi" in stderr
    code, _, stderr = _run(tmp_path, "--file", str(tmp_path / "assente.txt"))
    assert code == 2 and "non trovato" in stderr
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("saldatore qualificato\nperché\n".encode("latin-1"))
    code, _, stderr = _run(tmp_path, "--file", str(latin1))
    assert code == 2 and "UTF-8" in stderr
    assert "Traceback" not in stderr
