"""Occupation coding measured on job titles written by hand, as partners type them (issues 6, 21).

``tests/data/job_titles_labelled.csv`` holds titles written the way referrers, CVs and companies
write them (typos, "addetto/a", feminine forms, "op. CNC", "ex ragioniera", Russian words in
Ukrainian forms, English from CVs), each with the ISCO-08 unit group a person would choose and,
in ``alternatives``, the other unit groups a careful coder could defend. It is never used to
build the taxonomy: synonyms in config/occupations.yaml must not be copied from it. Titles are
split by a fixed hash into a dev half (thresholds are tuned on it) and a held-out half; the
floors below hold on both, per language. bench/bench_occupations.py prints the figures.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from config.data import load_taxonomy
from tasks.matching.occupation_eval import UNSURE, LabelledTitle, Scores, evaluate, read_labelled, split_of
from tasks.matching.occupations import OccupationCoder, default_coder

DATA = Path(__file__).resolve().parents[1] / "data" / "job_titles_labelled.csv"
#: Regression floors, a little under the figures measured on both halves (bench/README.md);
#: the issue's targets are 0.88 / 0.92 / 0.02.
STRICT_FLOOR = 0.88
ACCEPTED_FLOOR = 0.90
CONFIDENT_WRONG_CEILING = 0.02
#: Saying "to confirm" to everything would make confident mistakes vanish: it must stay rare.
TO_CONFIRM_CEILING = 0.20


def test_labelled_list_is_sound() -> None:
    titles = read_labelled(DATA)
    langs = Counter(t.lang for t in titles)
    assert set(langs) == {"it", "en", "uk"} and min(langs.values()) >= 300, langs
    known = set(load_taxonomy().by_code)
    assert {t.code for t in titles} <= known
    assert {a for t in titles for a in t.alternatives} <= known
    assert all(t.code not in t.alternatives for t in titles)
    assert len({t.text.casefold() for t in titles}) == len(titles)  # no duplicated titles
    halves = Counter(t.split for t in titles)
    assert min(halves.values()) >= 0.4 * len(titles), halves


def test_split_is_fixed_by_the_text() -> None:
    assert split_of("Saldatore a filo") == split_of("SALDATORE A FILO")
    assert {split_of(t.text) for t in read_labelled(DATA)} == {"dev", "held-out"}


def test_old_rows_without_alternatives_still_read(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text("text,lang,code\nsaldatrice,it,7212\n", encoding="utf-8")
    (title,) = read_labelled(path)
    assert title.alternatives == () and title.accepted == {"7212"}


def test_a_vague_title_is_right_when_the_coder_asks(tmp_path: Path) -> None:
    """Code ``?``: the right answer is "to confirm"; a sure answer among the alternatives is
    defensible (not strict), any other sure answer is a confident mistake."""
    coder = OccupationCoder([("9329", ["operaio generico"]), ("7212", ["saldatore"]), ("5120", ["cuoco"])])
    path = tmp_path / "vague.csv"
    path.write_text(
        "text,lang,code,alternatives\nxqzt,it,?,\noperaio generico,it,?,9329\nsaldatore,it,?,\ncuoco,it,?,9329\n",
        encoding="utf-8",
    )
    titles = read_labelled(path)
    assert all(t.unsure and t.code == UNSURE for t in titles)
    assert titles[1].accepted == {"9329"} and titles[0].accepted == frozenset()
    codings = coder.suggest_many([t.text for t in titles])
    assert [c.to_confirm for c in codings] == [True, True, False, False]  # "operaio generico" says no trade
    s = Scores()
    for scores in evaluate(coder, titles).values():
        for name in ("titles", "strict", "accepted", "confident_wrong", "to_confirm"):
            setattr(s, name, getattr(s, name) + getattr(scores, name))
    assert (s.titles, s.strict, s.accepted, s.confident_wrong, s.to_confirm) == (4, 2, 2, 2, 2)


def test_a_coded_title_keeps_its_code_and_alternatives() -> None:
    title = LabelledTitle("cameriera ai piani", "it", "9112", ("9111",))
    assert not title.unsure and title.accepted == {"9112", "9111"}


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], Scores]:
    return {key: scores for key, scores in evaluate(default_coder(), read_labelled(DATA)).items()}


@pytest.mark.parametrize("split", ["dev", "held-out"])
@pytest.mark.parametrize("lang", ["it", "en", "uk"])
def test_accuracy_per_language_and_half(results: dict[tuple[str, str], Scores], split: str, lang: str) -> None:
    s = results[(split, lang)]
    figures = (
        f"{split} {lang}: strict {s.rate('strict'):.3f}, with alternatives {s.rate('accepted'):.3f}, "
        f"confident-wrong {s.rate('confident_wrong'):.3f}, to confirm {s.rate('to_confirm'):.3f} on {s.titles}"
    )
    assert s.rate("strict") >= STRICT_FLOOR, figures
    assert s.rate("accepted") >= ACCEPTED_FLOOR, figures
    assert s.rate("confident_wrong") <= CONFIDENT_WRONG_CEILING, figures
    assert s.rate("to_confirm") <= TO_CONFIRM_CEILING, figures
