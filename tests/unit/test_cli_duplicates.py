"""``incontro duplicates FILE [--json]``: the duplicate search on a partner file, as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import run_cli

# A Caritas export with English headers and its own ids. R-104 is R-101 copied from the
# Ukrainian passport; are twins sharing the mother's phone; R-105..R-107 are
# three different people referred with the social worker's phone; R-108 is R-106 again with
# day and month swapped and the Russian spelling.
CSV = """record_id,first_name,last_name,birth_date,phone,email,codice_fiscale,municipality
R-101,Yuliia,Tkachenko,03/11/1990,+39 347 118 2290,,,Bergamo
R-102,Oleksandr,Kovalenko,14/03/2006,+39 340 552 7781,,,Seriate
R-103,Oleksandra,Kovalenko,14/03/2006,+39 340 552 7781,,,Seriate
R-104,Юлія,Ткаченко,1990-11-03,,,,Bergamo
R-105,Andrii,Melnyk,22/07/1979,035 221 144,,,Dalmine
R-106,Serhii,Bondarenko,05/09/1984,035 221 144,,,Dalmine
R-107,Halyna,Lysenko,30/01/1962,035 221 144,,,Treviglio
R-108,Sergey,Bondarenko,09/05/1984,+39 388 004 1172,,,Dalmine
"""


def _run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    done = run_cli("duplicates", *args, prefect_home=str(tmp_path / "prefect"), INCONTRO_VAR_DIR=str(tmp_path / "var"))
    return done.returncode, done.stdout, done.stderr


def test_json_names_the_file_s_own_ids_and_explains_each_pair(tmp_path: Path) -> None:
    path = tmp_path / "caritas.csv"
    path.write_text(CSV, encoding="utf-8")
    code, out, err = _run(tmp_path, str(path), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["records"] == 8
    pairs = {(p["a"], p["b"]): p for p in result["pairs"]}
    assert pairs[("R-101", "R-104")]["band"] == "merge"
    assert pairs[("R-106", "R-108")]["band"] == "merge"
    # twins and the social worker's phone are not one person
    merged = {frozenset((p["a"], p["b"])) for p in result["pairs"] if p["band"] == "merge"}
    assert frozenset(("R-102", "R-103")) not in merged
    assert not any({"R-105", "R-106", "R-107"} >= pair for pair in merged)
    for p in result["pairs"]:
        assert set(p) == {"a", "b", "band", "score", "why"}
        assert 0 <= p["score"] <= 100
        assert "data di nascita" in p["why"] and "telefon" in p["why"]
        assert "birth" not in p["why"] and "name" not in p["why"]  # Italian, not field codes


def test_text_output_is_italian_and_row_numbers_stand_in_for_missing_ids(tmp_path: Path) -> None:
    """An Italian Excel file without an id column: rows are named as Excel numbers them."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Cognome", "Nome", "Data di nascita", "Cellulare", "Codice fiscale", "Comune di residenza"])
    ws.append(["Rossi", "Giulia", "12/05/1991", "333 4455667", "RSSGLI91E52A794C", "Bergamo"])
    ws.append(["Shevchenko", "Mykola", "01/02/1975", "", "", "Albino"])
    ws.append(["ROSSI", "GIULIA", "", "", "RSSGLI91E52A794C", "Bergamo"])
    path = tmp_path / "ambito.xlsx"
    wb.save(path)
    code, out, err = _run(tmp_path, str(path))
    assert code == 0, err
    assert out.splitlines()[0] == "ambito.xlsx: 3 segnalazioni, 1 doppioni da unire, 0 coppie da verificare"
    assert "4 ↔ 2: stessa persona" in out
    assert "stesso codice fiscale" in out
    assert "Rossi" not in out and "GIULIA" not in out  # ids only, never a name


def test_a_missing_file_is_told_in_italian(tmp_path: Path) -> None:
    code, _out, err = _run(tmp_path, str(tmp_path / "manca.csv"))
    assert code == 2
    assert "non trovato" in err


def test_the_comune_of_residence_is_read_and_weighed_where_a_birth_date_is_missing(tmp_path: Path) -> None:
    """A repeat referral without a birth date: the same comune (written another way, under the
    Italian header) merges it; the same name in another comune goes to a person."""
    path = tmp_path / "cooperativa.csv"
    path.write_text(
        "id segnalazione;Cognome;Nome;Data di nascita;Comune di residenza\n"
        "S-1;Tkachenko;Yuliia;03/11/1990;Villa d'Almè\n"
        "S-2;TKACHENKO;YULIIA;;VILLA D'ALME (BG)\n"
        "S-3;Melnyk;Tetiana;22/07/1979;Dalmine\n"
        "S-4;Melnyk;Tetiana;;Lovere\n",
        encoding="utf-8",
    )
    code, out, err = _run(tmp_path, str(path), "--json")
    assert code == 0, err
    pairs = {(p["a"], p["b"]): p for p in json.loads(out)["pairs"]}
    assert pairs[("S-1", "S-2")]["band"] == "merge"
    assert "stesso comune di residenza" in pairs[("S-1", "S-2")]["why"]
    assert pairs[("S-3", "S-4")]["band"] == "review"
    assert "comuni di residenza diversi" in pairs[("S-3", "S-4")]["why"]


def test_a_month_first_birth_date_is_compared_when_it_cannot_be_day_first() -> None:
    """An English-language form's 12/30/2005 is the same date as 30/12/2005 for comparing; an
    ambiguous 03/04/2005 stays day-first, an impossible one counts as missing."""
    from datetime import date

    from cli.duplicates import _date
    from tasks.files.tabular import parse_date

    assert _date("12/30/2005", parse_date) == date(2005, 12, 30)
    assert _date("03/04/2005", parse_date) == date(2005, 4, 3)
    assert _date("13/13/2005", parse_date) is None
    assert _date("  ", parse_date) is None
