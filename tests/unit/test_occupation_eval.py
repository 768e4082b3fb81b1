"""Occupation coding accuracy on hand-written job titles (issue 6).

``tests/data/job_titles_labelled.csv`` holds titles written by hand the way referrers and
companies type them (typos, "addetto/a", "op. CNC", "con esperienza", "patentino muletto",
Russian words in Ukrainian forms, English from CVs), each with the ISCO-08 unit group a
person would choose. It is never used to build the taxonomy: synonyms in
config/occupations.yaml must not be copied from it, or the figure below means nothing.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from config.data import load_taxonomy
from tasks.matching.occupations import default_coder

DATA = Path(__file__).resolve().parents[1] / "data" / "job_titles_labelled.csv"
ACCURACY_FLOOR = 0.90


def _rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_labelled_list_is_sound() -> None:
    rows = _rows()
    langs = Counter(r["lang"] for r in rows)
    assert len(rows) >= 300 and set(langs) == {"it", "en", "uk"}, langs
    assert min(langs.values()) >= 100, langs
    known = set(load_taxonomy().by_code)
    assert {r["code"] for r in rows} <= known
    assert len({r["text"].casefold() for r in rows}) == len(rows)  # no duplicated titles


def test_top1_accuracy_on_hand_written_titles() -> None:
    rows = _rows()
    coded = default_coder().code_many([r["text"] for r in rows], k=3)
    right: Counter[str] = Counter()
    in_top3: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for row, top in zip(rows, coded, strict=True):
        total[row["lang"]] += 1
        codes = [c for c, _ in top]
        right[row["lang"]] += bool(codes) and codes[0] == row["code"]
        in_top3[row["lang"]] += row["code"] in codes
    accuracy = sum(right.values()) / len(rows)
    figures = (
        f"top-1 accuracy {accuracy:.3f} on {len(rows)} titles ("
        + ", ".join(f"{lang} {right[lang] / total[lang]:.3f}" for lang in sorted(total))
        + f"); top-3 {sum(in_top3.values()) / len(rows):.3f}"
    )
    assert accuracy >= ACCURACY_FLOOR, figures
    print(figures)
