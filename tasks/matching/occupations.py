"""Coding free-text job titles to ISCO-08 codes by fuzzy match against a taxonomy (docs/ARCHITECTURE.md#matching).

Labels are normalised once when the coder is built (``occupation_doubts.normalize_title``); texts
are normalised, split into the titles they contain (each also without the setting after "in",
"at", "на": ``_variants``), deduplicated and scored in one ``rapidfuzz.process.cdist`` call, then
reduced to the best score per code with numpy. Cyrillic text is compared with Cyrillic (Ukrainian/Russian)
labels only and Latin text with Latin (Italian/English) labels, so scripts never mix; a Latin
title the Latin labels hardly know is also read back in Cyrillic ("medsestra").
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from tasks.matching.occupation_doubts import (
    CONFIRM_BELOW,
    DOUBT_POINTS,
    MIN_MARGIN,
    Lexicon,
    confidence,
    doubt,
    is_cyrillic,
    normalize_title,
    split_titles,
    titles_of,
    to_cyrillic,
    vague,
    why_unsure,
)

__all__ = [
    "CONFIRM_BELOW",
    "DOUBT_POINTS",
    "MIN_MARGIN",
    "Coding",
    "OccupationCoder",
    "TaxonomyEntry",
    "confidence",
    "default_coder",
    "entries_from_taxonomy",
    "load_esco_occupations_csv",
    "normalize_title",
    "split_titles",
]

LANGS = ("it", "en", "uk")


@dataclass(frozen=True, slots=True)
class TaxonomyEntry:
    """One code with every label it can be written as, per language tag (it/en/uk/...)."""

    code: str
    labels: Mapping[str, tuple[str, ...]]

    def all_labels(self) -> list[str]:
        return [label for labels in self.labels.values() for label in labels]


# --- taxonomy inputs ----------------------------------------------------------------------------


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    return tuple(v for v in value if isinstance(v, str) and v.strip())


def _to_entry(item: Any) -> TaxonomyEntry:
    if isinstance(item, TaxonomyEntry):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        code, given = item
        if isinstance(given, Mapping):
            return TaxonomyEntry(str(code), {k: _as_tuple(v) for k, v in given.items()})
        return TaxonomyEntry(str(code), {"any": _as_tuple(given)})
    if isinstance(item, Mapping):
        item_code, get = item["code"], item.get
    else:
        item_code = item.code

        def get(name: str, default: Any = None) -> Any:
            return getattr(item, name, default)

    labels: dict[str, list[str]] = defaultdict(list)
    for lang in LANGS:
        labels[lang].extend(_as_tuple(get(lang)))
    synonyms = get("synonyms")
    if isinstance(synonyms, Mapping):
        for lang, syns in synonyms.items():
            labels[lang].extend(_as_tuple(syns))
    elif synonyms is not None:  # config.data.Synonyms: attributes it/en/uk
        for lang in LANGS:
            labels[lang].extend(_as_tuple(getattr(synonyms, lang, None)))
    return TaxonomyEntry(str(item_code), {k: tuple(v) for k, v in labels.items() if v})


def entries_from_taxonomy(items: Iterable[Any]) -> list[TaxonomyEntry]:
    """Accept ``TaxonomyEntry``, ``(code, labels)`` tuples, dicts or objects with
    ``code/it/en/uk/synonyms`` attributes (``config.data.Occupation``) or a ``Taxonomy``."""
    occupations = getattr(items, "occupations", items)
    return [_to_entry(item) for item in occupations]


def load_esco_occupations_csv(
    path: str | Path, language: str = "en", *, include_hidden: bool = True
) -> list[TaxonomyEntry]:
    """Read an official ESCO ``occupations_<lang>.csv`` into entries keyed by ISCO unit group.

    ESCO occupations are finer than ISCO unit groups; all their preferred, alternative (and, by
    default, hidden = common misspelling) labels are pooled under their 4-digit ``iscoGroup``.
    Alternative labels are newline-separated inside one cell, as in the official download.

    Bad input raises ``ValueError`` in Italian naming file, row and column, before anything is
    returned (a half-read taxonomy would silently mis-code people).
    """
    path = Path(path)
    pooled: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("iscoGroup", "preferredLabel") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{path}: mancano le colonne {', '.join(missing)}; serve il file ESCO "
                "occupations_<lingua>.csv (colonne conceptUri, iscoGroup, preferredLabel, altLabels)"
            )
        for row in reader:
            group = (row.get("iscoGroup") or "").strip()
            if not (group.isdigit() and len(group) <= 4):
                raise ValueError(
                    f"{path}, riga {reader.line_num}, colonna iscoGroup: {group!r} non è un codice "
                    "ISCO-08 (da 1 a 4 cifre); correggere la riga o riscaricare il file ESCO"
                )
            code = group.zfill(4)
            columns = ["preferredLabel", "altLabels"] + (["hiddenLabels"] if include_hidden else [])
            for column in columns:
                for label in (row.get(column) or "").splitlines():
                    if label.strip() and label.strip() not in pooled[code]:
                        pooled[code].append(label.strip())
    if not pooled:
        raise ValueError(f"{path}: nessuna occupazione con etichette; il file è vuoto o non è un file ESCO")
    return [TaxonomyEntry(code, {language: tuple(labels)}) for code, labels in sorted(pooled.items())]


# --- the coder ---------------------------------------------------------------------------------


_STOPWORDS = frozenset(
    "con per del della delle dei degli alla alle allo agli nel nella and the for with від для при про або".split()
)
#: Words that say nothing about the job. Dropped before scoring (unless nothing else is left):
#: fuzzy partial matching would otherwise pair "maestra della scuola dell'infanzia" with every
#: label containing "della" or "dell".
_FILLERS = frozenset(
    "a al alla alle allo ai agli all d da dal dalla de dei degli del dell della delle di e ed i il in "
    "la le lo nel nella per su sul sulla un una uno of the a an and in at on to for as "
    "в у на з із зі до для та і й по при від и с со".split()
)


def _content(text: str) -> str:
    """``text`` without filler words, or ``text`` itself when it is nothing but fillers."""
    words = [w for w in text.split() if w not in _FILLERS]
    return " ".join(words) if words else text


#: Words after which a title says where or for whom, not what: "contabile in studio commercialista",
#: "economist at a bank", "кухар у ресторані". The words before them are tried alone too, a little
#: below the whole title (``_HEAD_WEIGHT``), so "carpentiere in ferro" stays the metal trade.
_SETTING_WORDS = frozenset("in nel nella nei negli nelle per at for on в у на для при".split())
_HEAD_WEIGHT = 0.9


def _variants(text: str | None) -> list[tuple[str, float]]:
    """The title, the titles it lists and the head of each (when it names a trade), with weights."""
    out: list[tuple[str, float]] = []
    whole, parts = titles_of(text)
    for title in (whole, *parts):
        out.append((_content(title), 1.0))
        words = title.split()
        cut = next((i for i, w in enumerate(words) if w in _SETTING_WORDS), 0)
        head = _content(" ".join(words[:cut]))
        if head and cut < len(words) - 1 and not vague(head):
            out.append((head, _HEAD_WEIGHT))
    return out


_MAX_TOKEN_DF = 40  # tokens in more labels than this do not nominate candidates
_RATIO_TOP = 12  # labels kept per query by plain ratio in the prefilter
_TOKEN_CUTOFF = 80  # fuzzy token match (typos) for candidate nomination


@dataclass(frozen=True, slots=True)
class _Pool:
    labels: list[str]  # normalised labels, grouped by code (contiguous)
    starts: np.ndarray  # index of the first label of each code in ``labels``
    codes: list[str]  # code of each group
    label_code: np.ndarray  # code index of each label
    vocab: list[str]  # informative label tokens (df <= _MAX_TOKEN_DF)
    post_ptr: np.ndarray  # CSR pointers: vocab token -> labels containing it
    post_idx: np.ndarray


def _build_pool(pairs: list[tuple[str, str]]) -> _Pool:
    by_code: dict[str, list[str]] = defaultdict(list)
    for code, label in pairs:
        if label not in by_code[code]:
            by_code[code].append(label)
    labels: list[str] = []
    starts: list[int] = []
    codes: list[str] = []
    for code, group in by_code.items():
        starts.append(len(labels))
        codes.append(code)
        labels.extend(group)
    label_code = np.repeat(np.arange(len(codes)), np.diff([*starts, len(labels)]))
    postings: dict[str, list[int]] = defaultdict(list)
    for li, label in enumerate(labels):
        for tok in set(label.split()):
            if len(tok) >= 3 and tok not in _STOPWORDS:
                postings[tok].append(li)
    vocab = [t for t, ls in postings.items() if len(ls) <= _MAX_TOKEN_DF]
    sizes = [len(postings[t]) for t in vocab]
    post_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    post_idx = np.asarray([li for t in vocab for li in postings[t]], dtype=np.int64)
    return _Pool(
        labels, np.asarray(starts, dtype=np.int64), codes, label_code.astype(np.int64), vocab, post_ptr, post_idx
    )


#: Scorers and their weights: the weighted sum is the score of a (query, label) pair.
Scoring = tuple[tuple[Callable[..., float], float], ...]


def _exhaustive(queries: list[str], pool: _Pool, scoring: Scoring, workers: int) -> np.ndarray:
    matrix = sum(
        weight * process.cdist(queries, pool.labels, scorer=scorer, dtype=np.float32, workers=workers)
        for scorer, weight in scoring
    )
    return np.maximum.reduceat(np.asarray(matrix, dtype=np.float32), pool.starts, axis=1)


def _prefiltered(queries: list[str], pool: _Pool, scoring: Scoring, workers: int) -> np.ndarray:
    """Per-code best scores computed only on candidate labels.

    Candidates of a query: the labels closest by plain ``ratio`` (fast, catches typos in short
    titles) plus every label sharing an informative token with it, tokens matched fuzzily (so
    "saldatore" inside a long sentence still nominates the welder labels). The real scorer then
    runs on those pairs only with ``cpdist``.
    """
    nq, nl = len(queries), len(pool.labels)
    # 1. nearest labels by plain ratio
    ratio = process.cdist(queries, pool.labels, scorer=fuzz.ratio, dtype=np.uint8, workers=workers)
    top = min(_RATIO_TOP, nl)
    near = np.argpartition(-ratio.astype(np.int16), top - 1, axis=1)[:, :top]
    del ratio
    q_parts = [np.repeat(np.arange(nq), top)]
    l_parts = [near.ravel()]
    # 2. labels sharing a (fuzzily matched) informative token
    if pool.vocab:
        tok_index: dict[str, int] = {}
        tok_q: list[int] = []
        tok_t: list[int] = []
        for qi, q in enumerate(queries):
            for tok in set(q.split()):
                if len(tok) >= 3 and tok not in _STOPWORDS:
                    tok_q.append(qi)
                    tok_t.append(tok_index.setdefault(tok, len(tok_index)))
        if tok_index:
            sim = process.cdist(
                list(tok_index),
                pool.vocab,
                scorer=fuzz.ratio,
                dtype=np.uint8,
                score_cutoff=_TOKEN_CUTOFF,
                workers=workers,
            )
            t_idx, v_idx = np.nonzero(sim)
            # query-token occurrences x matching vocab tokens
            order = np.argsort(t_idx, kind="stable")
            t_idx, v_idx = t_idx[order], v_idx[order]
            t_start = np.searchsorted(t_idx, np.arange(len(tok_index)))
            t_count = np.searchsorted(t_idx, np.arange(len(tok_index)), side="right") - t_start
            occ_t = np.asarray(tok_t, dtype=np.int64)
            occ_q = np.asarray(tok_q, dtype=np.int64)
            reps = t_count[occ_t]
            pair_q = np.repeat(occ_q, reps)
            offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
            pair_v = v_idx[np.repeat(t_start[occ_t], reps) + offs]
            plen = pool.post_ptr[pair_v + 1] - pool.post_ptr[pair_v]
            cand_q = np.repeat(pair_q, plen)
            offs = np.arange(plen.sum()) - np.repeat(np.cumsum(plen) - plen, plen)
            cand_l = pool.post_idx[np.repeat(pool.post_ptr[pair_v], plen) + offs]
            q_parts.append(cand_q)
            l_parts.append(cand_l)
    keys = np.unique(np.concatenate(q_parts) * nl + np.concatenate(l_parts))
    cq, cl = keys // nl, keys % nl
    left, right = [queries[i] for i in cq], [pool.labels[i] for i in cl]
    scores = np.asarray(
        sum(
            weight * process.cpdist(left, right, scorer=scorer, dtype=np.float32, workers=workers)
            for scorer, weight in scoring
        ),
        dtype=np.float32,
    )
    out = np.zeros((nq, len(pool.codes)), dtype=np.float32)
    np.maximum.at(out, (cq, pool.label_code[cl]), scores)
    return out


@dataclass(frozen=True, slots=True)
class Coding:
    """The coder's answer for one text: up to three candidates, best first, and how sure it is.

    ``to_confirm`` means a person chooses: the best candidate is not to be stored silently.
    """

    text: str
    candidates: tuple[tuple[str, float], ...]
    confidence: float
    #: Why the coder is unsure, in Italian, for the operator (empty when sure).
    doubt: str = ""

    @property
    def to_confirm(self) -> bool:
        return self.confidence < CONFIRM_BELOW

    @property
    def code(self) -> str | None:
        """The best code when sure, else ``None`` (no code is better than a wrong one)."""
        return self.candidates[0][0] if self.candidates and not self.to_confirm else None


#: Per text: top-k (code, score), the script pool that scored them, the title variants it scored.
_Ranked = tuple[list[tuple[str, float]], _Pool | None, list[tuple[str, float]]]
#: A Latin title is read in Cyrillic only when no Latin label scores this much (it is unknown, not
#: misspelt), and the reading is taken only when it beats the Latin score by ``_TRANSLIT_GAIN``.
_TRANSLIT_BELOW = 80.0
_TRANSLIT_GAIN = 10.0


class OccupationCoder:
    """Fuzzy coder of free-text titles to taxonomy codes.

    The score of a (title, label) pair is ``fuzz.WRatio`` blended with ``token_sort_ratio``
    (``order_weight``). WRatio rewards a title contained in a longer text ("saldatore a filo"
    → "saldatore") less than an exact match, where ``token_set_ratio`` gives 100 to every
    label sharing a generic word such as "addetto"; but WRatio alone gives the same 90 to
    every label that is one word of the title ("вчитель математики" → "математик" or
    "вчитель"), and the token blend prefers the label covering more of the title.
    """

    def __init__(
        self,
        taxonomy: Iterable[Any],
        *,
        scorer: Callable[..., float] = fuzz.WRatio,
        order_weight: float = 0.2,
        workers: int = -1,
        exhaustive_limit: int = 200_000,
        doubts: bool = True,
    ) -> None:
        """``exhaustive_limit``: above this many query x label pairs, score candidates only
        (see ``_prefiltered``); below it every label is scored. ``doubts=False``: sure on score
        and margin alone (the coder before the word doubts, for benchmarks)."""
        self.entries = entries_from_taxonomy(taxonomy)
        self.scorer = scorer
        self._scoring: Scoring = ((scorer, 1.0 - order_weight), (fuzz.token_sort_ratio, order_weight))
        if not order_weight:
            self._scoring = ((scorer, 1.0),)
        self.workers = workers
        self.exhaustive_limit = exhaustive_limit
        self.doubts = doubts
        latin: list[tuple[str, str]] = []
        cyrillic: list[tuple[str, str]] = []
        for entry in self.entries:
            for label in entry.all_labels():
                norm = _content(normalize_title(label))
                if norm:
                    (cyrillic if is_cyrillic(norm) else latin).append((entry.code, norm))
        self._latin = _build_pool(latin)
        self._cyrillic = _build_pool(cyrillic)
        self._lexicons = {
            id(pool): Lexicon((label, pool.codes[c]) for label, c in zip(pool.labels, pool.label_code, strict=True))
            for pool in (self._latin, self._cyrillic)
        }

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.entries]

    def label(self, code: str, language: str = "it") -> str:
        """The first label of ``code`` in ``language`` (Italian by default), else the code."""
        for entry in self.entries:
            if entry.code == code:
                labels = entry.labels.get(language) or entry.labels.get("it") or entry.all_labels()
                return labels[0] if labels else code
        return code

    def suggest(self, text: str | None) -> Coding:
        """Top 3 codes for one text with the confidence (see :class:`Coding`)."""
        return self.suggest_many([text])[0]

    def suggest_many(self, texts: Sequence[str | None]) -> list[Coding]:
        """Top 3 codes and confidence for many texts, scored together; a code that scores well
        is still unsure when the words of the title cast a doubt on it (``occupation_doubts``)."""
        answers: dict[str, Coding] = {}
        for text, (top, pool, variants) in zip(texts, self._top_many(texts, k=3), strict=True):
            key = text or ""
            if key not in answers:
                sure, why = confidence(top), why_unsure(top)
                if sure >= CONFIRM_BELOW and pool is not None and self.doubts:
                    title, label, head = self._best_label(variants, top[0][0], pool)
                    why = doubt(title, label, [c for c, _ in top], self._lexicons[id(pool)], self.label)
                    if head and not why:  # "manovale in fabbrica": the setting may change the trade
                        why = f"scelto su «{title}» senza il resto del titolo: va confermato"
                    sure = min(sure, CONFIRM_BELOW - DOUBT_POINTS) if why else sure
                answers[key] = Coding(key, tuple(top), sure, why if sure < CONFIRM_BELOW else "")
        return [answers[text or ""] for text in texts]

    def _best_label(self, variants: list[tuple[str, float]], code: str, pool: _Pool) -> tuple[str, str, bool]:
        """The title variant and the label of ``code`` that gave ``code`` its score, and whether
        that variant is only the head of the title (``_variants``)."""
        j = pool.codes.index(code)
        labels = pool.labels[pool.starts[j] : pool.starts[j + 1] if j + 1 < len(pool.codes) else len(pool.labels)]
        queries = [q for q, _ in variants]
        scores = sum(weight * process.cdist(queries, labels, scorer=scorer) for scorer, weight in self._scoring)
        scores = scores * np.asarray([w for _, w in variants])[:, None]
        v, lab = np.unravel_index(int(np.argmax(scores)), (len(variants), len(labels)))
        return queries[v], labels[lab], variants[v][1] < 1.0

    def code(self, text: str | None, k: int = 3) -> list[tuple[str, float]]:
        """Top-k distinct codes for one text, best first, scores 0-100."""
        return self.code_many([text], k=k)[0]

    def code_many(self, texts: Sequence[str | None], k: int = 3) -> list[list[tuple[str, float]]]:
        """Top-k codes for many texts; unique query strings are scored once with ``cdist``."""
        return [top for top, _, _ in self._top_many(texts, k)]

    def _top_many(self, texts: Sequence[str | None], k: int) -> list[_Ranked]:
        """Per text: the top-k codes, the script pool that scored them and its title variants.

        A Latin title the Latin labels hardly know is read again in Cyrillic (``to_cyrillic``):
        Ukrainians without a Cyrillic keyboard write "medsestra". The reading is taken only when it
        matches a label well and clearly better ("logistics" read as "логістікс" is not "логіст").
        """
        variants = [_variants(t) for t in texts]
        results = self._rank(variants, k)
        late = [i for i, (top, pool, _) in enumerate(results) if pool is self._latin and top[0][1] < _TRANSLIT_BELOW]
        if late:
            readings = [[(to_cyrillic(v, h=h), w) for v, w in variants[i] for h in "гх"] for i in late]
            again = self._rank(readings, k, exhaustive=False)
            for i, other in zip(late, again, strict=True):
                if other[0] and other[0][0][1] >= max(CONFIRM_BELOW, results[i][0][0][1] + _TRANSLIT_GAIN):
                    results[i] = other
        return results

    def _rank(self, variants: list[list[tuple[str, float]]], k: int, *, exhaustive: bool = True) -> list[_Ranked]:
        """Top-k codes per text from its weighted title variants, all texts scored in one batch per
        script (``exhaustive=False``: candidates only, whatever the size)."""
        queries: dict[str, int] = {}
        per_text: list[dict[int, float]] = []
        for text_variants in variants:
            rows: dict[int, float] = {}
            for q, weight in text_variants:
                if q:
                    row = queries.setdefault(q, len(queries))
                    rows[row] = max(weight, rows.get(row, 0.0))
            per_text.append(dict(sorted(rows.items())))
        qlist = list(queries)
        # Best score per (query, code) for each script pool.
        best: dict[int, tuple[_Pool, np.ndarray, int]] = {}
        for pool, want_cyr in ((self._latin, False), (self._cyrillic, True)):
            idx = [i for i, q in enumerate(qlist) if is_cyrillic(q) == want_cyr]
            if not idx or not pool.labels:
                continue
            qs = [qlist[i] for i in idx]
            if exhaustive and len(qs) * len(pool.labels) <= self.exhaustive_limit:
                per_code = _exhaustive(qs, pool, self._scoring, self.workers)
            else:
                per_code = _prefiltered(qs, pool, self._scoring, self.workers)
            for row, i in enumerate(idx):
                best[i] = (pool, per_code, row)

        results: list[_Ranked] = []
        for weights in per_text:
            scored = [r for r in weights if r in best]
            if not scored:
                results.append(([], None, []))
                continue
            pool = best[scored[0]][0]
            mine = [r for r in scored if best[r][0] is pool]
            scores = np.stack([weights[r] * best[r][1][best[r][2]] for r in mine]).max(axis=0)
            kk = min(k, len(scores))
            top = np.argpartition(-scores, kk - 1)[:kk]
            top = top[np.lexsort((top, -scores[top]))]
            codes = [(pool.codes[j], round(float(scores[j]), 1)) for j in top]
            results.append((codes, pool, [(qlist[r], weights[r]) for r in mine]))
        return results


@lru_cache(maxsize=1)
def default_coder() -> OccupationCoder:
    """The coder over config/occupations.yaml, built once per process (labels are
    normalised at construction, so rebuilding per call would waste time)."""
    # Local import: this module stays importable without the config package.
    from config.data import load_taxonomy

    return OccupationCoder(load_taxonomy().occupations)
