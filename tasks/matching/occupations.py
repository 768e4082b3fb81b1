"""Coding free-text job titles to ISCO-08 codes by fuzzy match against a taxonomy (docs/ARCHITECTURE.md#matching).

Labels are normalised once when the coder is built; texts are normalised, split into the titles
they contain, deduplicated and scored in one ``rapidfuzz.process.cdist`` call, then reduced to
the best score per code with numpy. Cyrillic text is compared with Cyrillic (Ukrainian/Russian)
labels only and Latin text with Latin (Italian/English) labels, so scripts never mix.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

__all__ = [
    "OccupationCoder",
    "TaxonomyEntry",
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


# --- title normalisation ------------------------------------------------------------------------

_CYR_RE = re.compile(r"[\u0400-\u04ff]")
_PARENS_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_GENDER_SUFFIX_RE = re.compile(r"\b(\w{3,})/(a|e|i|o|essa|esse|trice|trici|ice|ia|ie|ka|ca)\b")
_GENDER_FULL_RE = re.compile(r"\b(\w{3,})/(\w{3,})\b")
_SEX_MARK_RE = re.compile(r"\b(?:m|f|h|w|uomo|donna)\s*/\s*(?:m|f|h|w|uomo|donna)\b")
_NOISE_RE = re.compile(
    r"\b(?:con|senza|anche|minima|prima|breve|comprovata|pluriennale|esperienza)\s+"
    r"(?:prima\s+)?esperienz\w*(?:\s+(?:nel|nella|in|come)\s+\w+)?"
    r"|\besperienza\b|\bcon\s+patentino\b|\bpatentino\b|\bcon\s+patente\s+\w\b"
    r"|\bcercasi\b|\bsi\s+cerca\b|\bcerchiamo\b|\burgente\b|\bfull\s*time\b|\bpart\s*time\b"
    r"|\bjunior\b|\bsenior\b|\bwith\s+experience\b|\bexperienced\b"
    r"|\bз\s+досвідом(?:\s+роботи)?\b|\bбез\s+досвіду(?:\s+роботи)?\b"
)
_PUNCT_RE = re.compile(r"[^\w\s]+|_")
_SPLIT_RE = re.compile(r"\s*[,;/|+]\s*|\s+(?:e|ed|oppure|o|and|or|та|і|й|и|або)\s+")


def _strip_latin_accents(text: str) -> str:
    """Drop accents from Latin letters only: NFD would turn Cyrillic "й" into "и" + breve."""
    out: list[str] = []
    for ch in text:
        if _CYR_RE.match(ch):
            out.append(ch)
            continue
        out.extend(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return "".join(out)


def _clean(text: str) -> str:
    """Casefold, drop parentheses, gender variants and boilerplate; keep word order."""
    text = unicodedata.normalize("NFC", text).casefold().replace("’", "'")
    text = _PARENS_RE.sub(" ", text)
    text = _SEX_MARK_RE.sub(" ", text)
    text = _GENDER_SUFFIX_RE.sub(r"\1", text)

    def _full(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        shared = len(_common_prefix(a, b))
        return a if shared >= 3 and shared >= min(len(a), len(b)) - 4 else m.group(0)

    text = _GENDER_FULL_RE.sub(_full, text)
    text = _NOISE_RE.sub(" ", text)
    return text


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def _finish(text: str) -> str:
    text = _strip_latin_accents(text).replace("'", " ")
    text = _PUNCT_RE.sub(" ", text)
    return " ".join(text.split())


def normalize_title(text: str | None) -> str:
    """Comparable form of a job title or label (see ``_clean``); empty for empty input."""
    if not text:
        return ""
    return _finish(_clean(text))


def split_titles(text: str | None) -> list[str]:
    """Normalised titles a free text may list ("saldatore, carpentiere e gruista").

    Splitting happens after gender variants are folded, so "addetto/a" is not split.
    """
    if not text:
        return []
    parts = (_finish(p) for p in _SPLIT_RE.split(_clean(text)))
    return [p for p in parts if len(p) >= 3]


def _is_cyrillic(text: str) -> bool:
    return bool(_CYR_RE.search(text))


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
    [
        "con",
        "per",
        "del",
        "della",
        "delle",
        "dei",
        "degli",
        "alla",
        "alle",
        "allo",
        "agli",
        "nel",
        "nella",
        "and",
        "the",
        "for",
        "with",
        "від",
        "для",
        "при",
        "про",
        "або",
    ]
)
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


def _exhaustive(queries: list[str], pool: _Pool, scorer: Callable[..., float], workers: int) -> np.ndarray:
    matrix = process.cdist(queries, pool.labels, scorer=scorer, dtype=np.float32, workers=workers)
    return np.maximum.reduceat(matrix, pool.starts, axis=1)


def _prefiltered(queries: list[str], pool: _Pool, scorer: Callable[..., float], workers: int) -> np.ndarray:
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
    scores = process.cpdist(
        [queries[i] for i in cq], [pool.labels[i] for i in cl], scorer=scorer, dtype=np.float32, workers=workers
    )
    out = np.zeros((nq, len(pool.codes)), dtype=np.float32)
    np.maximum.at(out, (cq, pool.label_code[cl]), scores)
    return out


class OccupationCoder:
    """Fuzzy coder of free-text titles to taxonomy codes.

    ``scorer`` defaults to ``fuzz.WRatio``: on the hand-written test titles it ranked best,
    because it rewards a title contained in a longer text ("saldatore a filo" → "saldatore")
    less than an exact match, where ``token_set_ratio`` gives 100 to every label that shares
    a generic word such as "addetto".
    """

    def __init__(
        self,
        taxonomy: Iterable[Any],
        *,
        scorer: Callable[..., float] = fuzz.WRatio,
        workers: int = -1,
        exhaustive_limit: int = 200_000,
    ) -> None:
        """``exhaustive_limit``: above this many query x label pairs, score candidates only
        (see ``_prefiltered``); below it every label is scored."""
        self.entries = entries_from_taxonomy(taxonomy)
        self.scorer = scorer
        self.workers = workers
        self.exhaustive_limit = exhaustive_limit
        latin: list[tuple[str, str]] = []
        cyrillic: list[tuple[str, str]] = []
        for entry in self.entries:
            for label in entry.all_labels():
                norm = normalize_title(label)
                if norm:
                    (cyrillic if _is_cyrillic(norm) else latin).append((entry.code, norm))
        self._latin = _build_pool(latin)
        self._cyrillic = _build_pool(cyrillic)

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.entries]

    def code(self, text: str | None, k: int = 3) -> list[tuple[str, float]]:
        """Top-k distinct codes for one text, best first, scores 0-100."""
        return self.code_many([text], k=k)[0]

    def code_many(self, texts: Sequence[str | None], k: int = 3) -> list[list[tuple[str, float]]]:
        """Top-k codes for many texts; unique query strings are scored once with ``cdist``."""
        queries: dict[str, int] = {}
        per_text: list[list[int]] = []
        for text in texts:
            variants = [normalize_title(text), *split_titles(text)]
            rows = []
            for q in variants:
                if q:
                    rows.append(queries.setdefault(q, len(queries)))
            per_text.append(sorted(set(rows)))
        qlist = list(queries)
        # Best score per (query, code) for each script pool.
        best: dict[int, tuple[_Pool, np.ndarray, int]] = {}
        for pool, want_cyr in ((self._latin, False), (self._cyrillic, True)):
            idx = [i for i, q in enumerate(qlist) if _is_cyrillic(q) == want_cyr]
            if not idx or not pool.labels:
                continue
            qs = [qlist[i] for i in idx]
            if len(qs) * len(pool.labels) <= self.exhaustive_limit:
                per_code = _exhaustive(qs, pool, self.scorer, self.workers)
            else:
                per_code = _prefiltered(qs, pool, self.scorer, self.workers)
            for row, i in enumerate(idx):
                best[i] = (pool, per_code, row)

        results: list[list[tuple[str, float]]] = []
        for rows in per_text:
            rows = [r for r in rows if r in best]
            if not rows:
                results.append([])
                continue
            pool = best[rows[0]][0]
            stacked = np.stack([best[r][1][best[r][2]] for r in rows if best[r][0] is pool])
            scores = stacked.max(axis=0)
            kk = min(k, len(scores))
            top = np.argpartition(-scores, kk - 1)[:kk]
            top = top[np.lexsort((top, -scores[top]))]
            results.append([(pool.codes[j], round(float(scores[j]), 1)) for j in top])
        return results


@lru_cache(maxsize=1)
def default_coder() -> OccupationCoder:
    """The coder over config/occupations.yaml, built once per process (labels are
    normalised at construction, so rebuilding per call would waste time)."""
    # Local import: this module stays importable without the config package.
    from config.data import load_taxonomy

    return OccupationCoder(load_taxonomy().occupations)
