"""Occupation coding on job titles written by an outsider, not from the coder's synonyms (issue 21).

``tests/data/job_titles_outsider.csv`` was written independently of config/occupations.yaml and of
tests/data/job_titles_labelled.csv, the way people and ads write titles: CV lines ("ho lavorato
come aiuto cuoco in pizzeria", "10 years as HGV driver"), Bergamo ads ("op. di produzione su 3
turni"), care and public-sector jobs, professionals, Ukrainian titles as Ukrainians write them
(Russian forms, Latin letters), feminine forms, typos and titles with years and employers. Each has
the ISCO-08 unit group a careful coder would choose and the defensible alternatives; a title too
vague to code ("operaio", "worker", "різноробочий") has the code ``?``: the right answer is to ask.
It came in three batches: the first written before any fix, the second after the first round, the
third after the last, never tuned on (the issue's closing note gives the figures of each).
Both halves count here: the file is not a tuning set.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from config.data import load_taxonomy
from tasks.matching.occupation_eval import UNSURE, Scores, evaluate, read_labelled
from tasks.matching.occupations import default_coder

DATA = Path(__file__).resolve().parents[1] / "data" / "job_titles_outsider.csv"
#: The issue's floors for an independently written set, per language.
STRICT_FLOOR = 0.85
CONFIDENT_WRONG_CEILING = 0.02


def test_outsider_list_is_sound() -> None:
    titles = read_labelled(DATA)
    langs = Counter(t.lang for t in titles)
    assert set(langs) == {"it", "en", "uk"} and min(langs.values()) >= 120, langs
    known = set(load_taxonomy().by_code)
    assert {t.code for t in titles} <= known | {UNSURE}
    assert {a for t in titles for a in t.alternatives} <= known
    assert all(t.code not in t.alternatives for t in titles)
    assert len({t.text.casefold() for t in titles}) == len(titles)
    vague = Counter(t.lang for t in titles if t.unsure)
    assert min(vague[lang] for lang in ("it", "en", "uk")) >= 5, vague  # the "ask" answer is measured too


@pytest.fixture(scope="module")
def per_language() -> dict[str, Scores]:
    out: dict[str, Scores] = {}
    for (_, lang), scores in evaluate(default_coder(), read_labelled(DATA)).items():
        total = out.setdefault(lang, Scores())
        for name in ("titles", "strict", "accepted", "top3", "to_confirm", "confident_wrong"):
            setattr(total, name, getattr(total, name) + getattr(scores, name))
    return out


@pytest.mark.parametrize("lang", ["it", "en", "uk"])
def test_outsider_titles_per_language(per_language: dict[str, Scores], lang: str) -> None:
    s = per_language[lang]
    figures = (
        f"{lang}: strict {s.rate('strict'):.3f}, with alternatives {s.rate('accepted'):.3f}, "
        f"confident-wrong {s.rate('confident_wrong'):.3f}, to confirm {s.rate('to_confirm'):.3f} on {s.titles}"
    )
    assert s.rate("strict") >= STRICT_FLOOR, figures
    assert s.rate("confident_wrong") <= CONFIDENT_WRONG_CEILING, figures


@pytest.mark.parametrize(
    ("text", "code"),
    [  # words the configured taxonomy had in a group other than the one they name in use
        ("менеджер з продажу", "3322"),  # a salesperson in Ukrainian CVs, like "менеджер з продажів"
        ("соціальний працівник", "3412"),
        ("cameriere ai piani", "9112"),  # hotel rooms, as "cameriera ai piani"
        ("збирач ягід", "9211"),  # seasonal farm work, not subsistence gathering (6340)
        ("medical receptionist", "4226"),
    ],
)
def test_configured_taxonomy_places_false_friends(text: str, code: str) -> None:
    assert default_coder().code(text, k=1)[0][0] == code
