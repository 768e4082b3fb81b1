"""Measuring the occupation coder on labelled job titles (bench/bench_occupations.py, tests).

A labelled title has the unit group a person would choose and, where another is defensible
("cameriera ai piani": hotel cleaner 9112, or domestic 9111?), the alternatives. Titles are
split into a dev half, on which thresholds and synonyms may be tuned, and a held-out half that
only reports, by a fixed hash of the text: the same title always lands in the same half.

A title too vague to code ("operaio", "worker", "різноробочий") has the code ``?``: the right
answer is "to confirm" (the operator picks among the top 3). Its alternatives, if any, are the
codes a coder could still defend: a sure answer among them is accepted but not strict, any other
sure answer is a confident mistake.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tasks.matching.occupations import OccupationCoder

__all__ = ["UNSURE", "LabelledTitle", "Scores", "evaluate", "read_labelled", "split_of"]

#: The code of a labelled title whose right answer is "to confirm".
UNSURE = "?"

Split = Literal["dev", "held-out"]


@dataclass(frozen=True, slots=True)
class LabelledTitle:
    """One free-text title with its expected ISCO-08 unit group and defensible alternatives."""

    text: str
    lang: str
    code: str
    alternatives: tuple[str, ...] = ()

    @property
    def unsure(self) -> bool:
        """The title is too vague for any code: the coder should say it is unsure."""
        return self.code == UNSURE

    @property
    def accepted(self) -> frozenset[str]:
        """Codes a sure answer may give without being wrong."""
        return frozenset(self.alternatives if self.unsure else (self.code, *self.alternatives))

    @property
    def split(self) -> Split:
        return split_of(self.text)


def split_of(text: str) -> Split:
    """``dev`` or ``held-out`` by the first byte of the SHA-256 of the casefolded text."""
    return "dev" if hashlib.sha256(text.casefold().encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


def read_labelled(path: str | Path) -> list[LabelledTitle]:
    """Rows ``text,lang,code[,alternatives]``; alternatives are ';'-separated, the column optional."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return [
            LabelledTitle(
                text=row["text"],
                lang=row["lang"],
                code=row["code"],
                alternatives=tuple(a.strip() for a in (row.get("alternatives") or "").split(";") if a.strip()),
            )
            for row in csv.DictReader(fh)
        ]


@dataclass(slots=True)
class Scores:
    """Counts for one group of titles; rates are over all titles of the group."""

    titles: int = 0
    strict: int = 0  # best code is the expected one (a vague title: the coder is unsure)
    accepted: int = 0  # best code is the expected one or a defensible alternative
    top3: int = 0  # an accepted code among the three candidates
    to_confirm: int = 0  # the coder said it is unsure
    confident_wrong: int = 0  # the coder was sure and the best code is not accepted

    def rate(self, name: str) -> float:
        value: int = getattr(self, name)
        return value / self.titles if self.titles else 0.0


def evaluate(coder: OccupationCoder, titles: Iterable[LabelledTitle]) -> dict[tuple[Split, str], Scores]:
    """Scores per (split, language); the titles are coded in one batch."""
    items = list(titles)
    codings = coder.suggest_many([t.text for t in items])
    out: dict[tuple[Split, str], Scores] = {}
    for title, coding in zip(items, codings, strict=True):
        scores = out.setdefault((title.split, title.lang), Scores())
        best = coding.candidates[0][0] if coding.candidates else None
        asked = title.unsure and coding.to_confirm  # a vague title the coder left to the operator
        scores.titles += 1
        scores.strict += asked or best == title.code
        scores.accepted += asked or best in title.accepted
        scores.top3 += asked or any(code in title.accepted for code, _ in coding.candidates)
        scores.to_confirm += coding.to_confirm
        scores.confident_wrong += not coding.to_confirm and best not in title.accepted
    return out
