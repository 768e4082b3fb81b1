"""Why the occupation coder doubts a best code that scores well (issue 21, docs/ARCHITECTURE.md#matching).

A fuzzy score says how alike a title and a label are, not whether the words they share are the
ones that name the job. After scoring, the title is compared word by word with the label that
gave the best code its score; the coder says it is unsure (the operator picks among the top 3)
when:

* a word of the title that the label does not explain is a word the taxonomy uses for one of
  the other candidates ("rubber production operator" → "production operator": "rubber" names
  the rubber-products operators);
* the title and the label share only generic words, used by the labels of many unit groups
  ("meat processing worker" → "roofing worker" share only "worker"), or no word at all;
* the label is narrower than the title: it says a specific word the title does not say
  ("construction worker" → "skilled construction worker").

Words are compared by a light stem (Italian and English endings, Ukrainian/Russian case endings,
feminine forms such as "operatrice"/"operatore", "вчителька"/"вчитель", "працівниця"/"працівник"),
by spelling (typos) and across compounds ("lava piatti" / "lavapiatti").
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise

from rapidfuzz import fuzz, process

__all__ = ["GENERIC_CODES", "Lexicon", "common_prefix", "doubt", "same_word", "word_stem"]

#: A word found in the labels of this many unit groups or more says little about the job
#: ("operatore", "worker", "assistente", "працівник"). Chosen on the dev half of the labelled titles.
GENERIC_CODES = 15
_SPELLING = 85  # fuzz.ratio from which two words are the same word misspelt
_PREFIX = 6  # letters two derived words share at least ("domicilio"/"domiciliare")

_CYR_RE = re.compile(r"[\u0400-\u04ff]")
_LATIN_FEMININE = (
    (re.compile(r"trice$"), "tore"),
    (re.compile(r"trici$"), "tori"),
    (re.compile(r"(or|ent)ess[ae]$"), r"\1e"),
)
_LATIN_ENDING = re.compile(r"(?:(?<=[^s])s$|(?<=..)(?:ing|er)s?$|[aeiou]+$)")
_CYR_FEMININE = (
    (re.compile(r"ниц[яіи]$"), "ник"),
    (re.compile(r"(?<=[лн])ьк[аиі]$"), "ь"),
    (re.compile(r"(ор|ер|іст|ист)к[аиі]$"), r"\1"),
)
_CYR_ENDING = re.compile(r"(?:ами|ями|ові|еві|єві|ою|ею|ого|ому|ими|их|ій|ий|ів|ах|ях|ам|ям|ом|ем|[аяуюіїиоеєьй])$")


def masculine(word: str) -> str:
    """The masculine form of a feminine job noun ("operatrice", "professoressa", "вчителька",
    "працівниця", "операторка"); other words unchanged."""
    for pattern, repl in _CYR_FEMININE if _CYR_RE.search(word) else _LATIN_FEMININE:
        word = pattern.sub(repl, word)
    return word


def word_stem(word: str) -> str:
    """The word without its inflection and feminine ending, for comparison only."""
    cyrillic = bool(_CYR_RE.search(word))
    stem = word
    for pattern, repl in _CYR_FEMININE if cyrillic else _LATIN_FEMININE:
        stem = pattern.sub(repl, stem)
    stem = (_CYR_ENDING if cyrillic else _LATIN_ENDING).sub("", stem)
    return stem if len(stem) >= 3 else word


def same_word(a: str, b: str) -> bool:
    """One word in two forms: equal, same stem or misspelt (long enough for spelling to tell)."""
    if a == b or word_stem(a) == word_stem(b):
        return True
    shared = len(common_prefix(a, b))  # a derived word: "domicilio"/"domiciliare", "magazzino"/"magazziniere"
    if shared >= _PREFIX and shared >= 0.6 * min(len(a), len(b)):
        return True
    return min(len(a), len(b)) >= 3 and fuzz.ratio(a, b) >= _SPELLING


def common_prefix(a: str, b: str) -> str:
    """The longest start ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def _covered(words: Sequence[str], other: Sequence[str]) -> set[int]:
    """Indexes of ``words`` that ``other`` says too, a compound counting for its two halves."""
    joined = [a + b for a, b in pairwise(other)]
    got: set[int] = set()
    for i, word in enumerate(words):
        if any(same_word(word, x) for x in other) or word in joined:
            got.add(i)
        if i + 1 < len(words) and word + words[i + 1] in other:
            got |= {i, i + 1}
    return got


def _words(text: str) -> list[str]:
    return [w for w in text.split() if len(w) >= 2 and not w.isdigit()]


class Lexicon:
    """Which codes' labels use each word, by stem or spelling; answers are cached."""

    def __init__(self, labelled: Iterable[tuple[str, str]]) -> None:
        """``labelled``: (normalised label, code) pairs of one script."""
        by_word: dict[str, set[str]] = defaultdict(set)
        for label, code in labelled:
            for word in _words(label):
                by_word[word].add(code)
        self._words = sorted(by_word)
        self._codes = [frozenset(by_word[w]) for w in self._words]
        self._by_stem: dict[str, list[int]] = defaultdict(list)
        for i, word in enumerate(self._words):
            self._by_stem[word_stem(word)].append(i)
        self._cache: dict[str, frozenset[str]] = {}

    def codes_of(self, word: str) -> frozenset[str]:
        """The codes whose labels use ``word`` in some form."""
        found = self._cache.get(word)
        if found is None:
            hits = set(self._by_stem.get(word_stem(word), ()))
            if len(word) >= _PREFIX:  # derived words share a long start (sorted: one slice)
                lo = bisect_left(self._words, word[:_PREFIX])
                hi = bisect_left(self._words, word[:_PREFIX] + "\uffff")
                hits.update(i for i in range(lo, hi) if same_word(word, self._words[i]))
            if len(word) >= 4:
                near = process.extract(word, self._words, scorer=fuzz.ratio, score_cutoff=_SPELLING, limit=None)
                hits.update(i for _, _, i in near)
            found = frozenset().union(*(self._codes[i] for i in hits)) if hits else frozenset()
            self._cache[word] = found
        return found


def doubt(
    title: str, label: str, codes: Sequence[str], lexicon: Lexicon, name: Callable[[str], str], *, narrower: bool = True
) -> str:
    """Why the best of ``codes`` is not sure although it scores well, in Italian; empty when no doubt.

    ``title`` and ``label`` are normalised (the title variant and the label of ``codes[0]`` that
    scored best); ``name`` gives a code's label for the explanation.
    """
    top, others = codes[0], set(codes[1:])
    words, label_words = _words(title), _words(label)
    matched_at = _covered(words, label_words)
    matched = [w for i, w in enumerate(words) if i in matched_at]
    unmatched = [w for i, w in enumerate(words) if i not in matched_at]
    for word in unmatched:
        elsewhere = lexicon.codes_of(word)
        if len(elsewhere) >= GENERIC_CODES:
            continue  # "worker" says nothing about which of the candidates
        rival = next((c for c in codes[1:] if c in elsewhere), None) if top not in elsewhere else None
        if rival is not None and rival in others:
            return f"«{word}» non compare in «{label}» e fa pensare a «{name(rival)}» ({rival})"
    if unmatched and all(len(lexicon.codes_of(w)) >= GENERIC_CODES for w in matched):
        if not matched:
            return f"nessuna parola del titolo compare in «{label}»"
        return f"il titolo somiglia a «{label}» solo per parole generiche ({', '.join(matched)})"
    if narrower:
        said = _covered(label_words, words)
        for i, word in enumerate(label_words):
            if i not in said and len(word) >= 4 and len(lexicon.codes_of(word)) < GENERIC_CODES:
                return f"«{label}» dice anche «{word}», che il titolo non dice"
    return ""
