"""Frozen copy of the rule-based duplicate search before issue 21 (bench baseline only).

Order of evidence:

1. the same codice fiscale is the same person (merge, score 100);
2. the same phone or e-mail *and* a name that scores at least the review threshold *and* no
   conflicting birth date is the same person (a shared family phone is not);
3. otherwise names are compared with rapidfuzz inside blocks: records with the same birth date,
   or – when one side has no birth date – records sharing a phonetic key pair of their names.
   Name-only evidence never merges on its own: it goes to a person for review.

A fuzzy score alone never merges either: "Kovalenko Oleksandr" and "Kovalenko Oleksandra",
twins born the same day, score 97. A merge also needs the two names to *agree*: every name
on one side pairs with a name on the other (any order) that has the same matching key or
one slip of the keyboard (length >= 6, same first two letters - Harpreet and Gurpreet are
two names -, not a change of the final vowel, which is how Italian, Slavic and Spanish names
mark sex); spacing ("Abdel Kader" /
"Abdelkader") and the Arabic article ("El Mansouri" / "Mansouri") may differ. Agreeing names
score ``100 - 4 x slips - 2 x spacing/article differences``, so the merge threshold says how
many slips to forgive; names that do not agree score at most just under the merge threshold.

Two different valid 16-character codici fiscali never merge automatically: they go to review
(a referrer may have computed one with a wrong birthplace), reason ``codice_fiscale_conflict``.

Every new record is compared with the existing ones and with the *earlier* records of the same
batch, so a person referred twice in one run points to their first referral.

Inside a Prefect run a big batch also shows a progress bar (``tasks.runtime.progress``, counts only);
elsewhere the functions have no side effect. numpy and rapidfuzz are imported by the functions that
compare names, once per call of the function that runs the loop: a flow run starts without them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import permutations
from typing import TYPE_CHECKING, Literal

from tasks.files.normalize import (
    name_key_token,
    normalize_cf,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from tasks.runtime.progress import Progress

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "DedupDecision",
    "DedupThresholds",
    "PersonRecord",
    "agreement_score",
    "find_duplicates",
    "name_score",
    "phonetic_key",
]

Band = Literal["merge", "review", "new"]
_VOWELS = frozenset("aeiou")


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """What dedup needs to know about a person; ``key`` is the caller's id (case or row)."""

    key: str
    family_name: str
    given_names: str
    birth_date: date | None = None
    codice_fiscale: str | None = None
    phone: str | None = None  # E.164 preferably; normalised again defensively
    email: str | None = None
    native_family_name: str | None = None  # e.g. Cyrillic, as written in the passport
    native_given_names: str | None = None


@dataclass(frozen=True, slots=True)
class DedupThresholds:
    """Name-score bands (0-100): at/above ``merge`` merge, at/above ``review`` ask a person."""

    merge: float = 92.0
    review: float = 80.0


@dataclass(frozen=True, slots=True)
class DedupDecision:
    """Outcome for one new record.

    ``score`` is 100 for an identical codice fiscale, otherwise the name similarity (0-100)
    that supported the decision; ``reason`` says which evidence decided.
    """

    new_key: str
    match_key: str | None
    band: Band
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class _Prepared:
    key: str
    name: str  # name_key tokens of "family given", space-joined
    birth_date: date | None
    cf: str | None
    phone: str | None
    email: str | None
    tokens: tuple[str, ...]  # name keys of ``words``
    words: tuple[str, ...]  # normalised words of "family given", before folding


def phonetic_key(token: str) -> str:
    """Block key of one name-key token: first letter plus the next two consonants.

    Vowel typos and most transliteration leftovers keep the same key; the key only decides who
    is *compared*, never who matches.
    """
    if not token:
        return ""
    consonants = [c for c in token[1:] if c not in _VOWELS]
    return token[0] + "".join(consonants[:2])


def name_score(a: str, b: str) -> float:
    """Similarity (0-100) of two name keys, independent of word order.

    Mean of token-sort (penalises extra names) and token-set (forgives a missing patronymic or
    second given name), so "Kovalenko Oleksandr" vs "Oleksandr Petrovych Kovalenko" lands in
    the review band rather than merging or being ignored.
    """
    sort_ratio, set_ratio = _token_ratios()
    return (sort_ratio(a, b) + set_ratio(a, b)) / 2.0


@cache
def _token_ratios() -> tuple[Callable[..., float], Callable[..., float]]:
    """rapidfuzz's token-sort and token-set ratios, imported at the first comparison (a cached
    call, not an import statement, in ``name_score``: a loop may call it millions of times)."""
    from rapidfuzz import fuzz

    return fuzz.token_sort_ratio, fuzz.token_set_ratio


def _prepare(rec: PersonRecord) -> _Prepared:
    words = normalize_name(f"{rec.family_name or ''} {rec.given_names or ''}").split()
    if not words and (rec.native_family_name or rec.native_given_names):
        words = normalize_name(f"{rec.native_family_name or ''} {rec.native_given_names or ''}").split()
    tokens = [name_key_token(w) for w in words]
    cf = normalize_cf(rec.codice_fiscale)
    phone = normalize_phone(rec.phone) if rec.phone else None
    email = normalize_email(rec.email) if rec.email else None
    return _Prepared(
        key=rec.key,
        name=" ".join(tokens),
        birth_date=rec.birth_date,
        cf=cf,
        phone=phone,
        email=email,
        tokens=tuple(tokens),
        words=tuple(words),
    )


def _name_blocks(tokens: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Unordered pairs of phonetic keys (swapped family/given order gives the same pairs),
    plus each whole name with the initial of another, so that a slip in a consonant of one
    name ("Fedetrica") still meets the record through the other name."""
    words = sorted({t for t in tokens if len(t) >= 2})
    keys = sorted({phonetic_key(t) for t in words})
    if not keys:
        return set()
    if len(keys) == 1:
        return {("n", keys[0])}
    blocks: set[tuple[str, ...]] = {("n", a, b) for i, a in enumerate(keys) for b in keys[i + 1 :]}
    blocks |= {("w", a, b[0]) for a in words for b in words if a != b and len(a) >= 4}
    return blocks


def _cf_conflict(a: str | None, b: str | None) -> bool:
    """Two different personal (16-char) codes; a temporary numeric code never conflicts."""
    return a is not None and b is not None and len(a) == 16 and len(b) == 16 and a != b


def _tokens_covered(a: tuple[str, ...], b: tuple[str, ...], cutoff: float = 80.0) -> bool:
    """Every name of the shorter side has a close counterpart on the other side.

    Guards identifier merges against relatives sharing a phone: "Shevchenko Mykola" vs
    "Shevchenko Yuliia" scores 83 on the whole string because the surname is long.
    """
    from rapidfuzz.fuzz import ratio

    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return bool(short) and all(max((ratio(t, u) for u in long_), default=0.0) >= cutoff for t in short)


def _identifier_name_score(a: _Prepared, b: _Prepared) -> float:
    """Name support for a shared phone/e-mail: agreement, else fuzzy if every name is covered."""
    agreed = agreement_score(a.words, b.words)
    if agreed is not None:
        return agreed
    return name_score(a.name, b.name) if _tokens_covered(a.tokens, b.tokens) else 0.0


def _bd_conflict(a: date | None, b: date | None) -> bool:
    """Two known, different birth dates: a shared family phone, not the same person."""
    return a is not None and b is not None and a != b


_PARTICLES = frozenset({"el", "al"})  # Arabic article, written or dropped at will
_SLIP_COST = 4.0
_FORM_COST = 2.0  # spacing or article difference
_CANDIDATES_PER_BLOCK = 3  # best fuzzy candidates per record and block that are refined
_CANDIDATE_FLOOR = 60.0  # fuzzy floor for refinement (joined names score low on tokens)


def _one_slip(a: str, b: str, raw_a: str, raw_b: str, distance: Callable[..., int]) -> bool:
    """One typing slip between two different name keys (see module docstring); ``raw_*`` are
    the words before folding, whose first letters must agree too (Harpreet / Gurpreet fold to
    "garprit" / "gurprit"). ``distance`` is rapidfuzz's ``OSA.distance``, imported by the caller."""
    if max(len(a), len(b)) < 6 or a[0] != b[0] or raw_a[0] != raw_b[0]:
        return False
    if a[-1] != b[-1] and (a[-1] in _VOWELS or b[-1] in _VOWELS):
        return False
    return distance(a, b, score_cutoff=1) <= 1


def _forms(words: tuple[str, ...]) -> list[tuple[tuple[str, ...], float]]:
    """The name as written, plus up to two spacing/article changes, with their cost."""
    out: dict[tuple[str, ...], float] = {words: 0.0}
    frontier = [words]
    for _ in range(2):
        nxt: list[tuple[str, ...]] = []
        for t in frontier:
            cost = out[t] + _FORM_COST
            changed = [(*t[:i], t[i] + t[i + 1], *t[i + 2 :]) for i in range(len(t) - 1)]
            changed += [t[:i] + t[i + 1 :] for i, w in enumerate(t) if w in _PARTICLES and len(t) > 1]
            for c in changed:
                if c not in out:
                    out[c] = cost
                    nxt.append(c)
        frontier = nxt
    return list(out.items())


def _pair_cost(
    a: tuple[str, ...], b: tuple[str, ...], joined: frozenset[str], distance: Callable[..., int]
) -> float | None:
    """Cheapest one-to-one pairing of equal-length word lists (None if some word has none).

    A word made by joining two (``joined``) must meet its counterpart exactly: spacing and a
    slip together would let "Singh Harpreet" / "Singh Gurpreet" meet as "singharpreet".
    """
    ka = [name_key_token(w) for w in a]
    kb = [name_key_token(w) for w in b]
    if len(a) > 6:  # never seen in real names; keep the search bounded
        return 0.0 if sorted(ka) == sorted(kb) else None
    best: float | None = None
    for perm in permutations(range(len(b))):
        cost = 0.0
        for i, j in enumerate(perm):
            if ka[i] == kb[j]:
                continue
            if a[i] in joined or b[j] in joined or not _one_slip(ka[i], kb[j], a[i], b[j], distance):
                break
            cost += _SLIP_COST
        else:
            best = cost if best is None else min(best, cost)
    return best


def agreement_score(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Score (<= 100) of two names that agree (module docstring), None when they do not.

    ``a`` and ``b`` are the normalised words of each full name (``normalize_name(...).split()``).
    """
    if not a or not b:
        return None
    if sorted(map(name_key_token, a)) == sorted(map(name_key_token, b)):
        return 100.0
    from rapidfuzz.distance import OSA  # once per pair of names, not per pair of words

    best: float | None = None
    originals = set(a) | set(b)
    for fa, ca in _forms(tuple(a)):
        for fb, cb in _forms(tuple(b)):
            if len(fa) != len(fb):
                continue
            cost = _pair_cost(fa, fb, frozenset(w for w in fa + fb if w not in originals), OSA.distance)
            if cost is not None and (best is None or ca + cb + cost < best):
                best = ca + cb + cost
    return None if best is None else 100.0 - best


def _name_matrix() -> Callable[[list[str], list[str]], NDArray[np.float32]]:
    """``name_score`` of every query against every choice, on every core (one call per block);
    numpy and rapidfuzz are imported here, once per search, not in the loop over blocks."""
    import numpy as np
    from rapidfuzz import fuzz, process

    def scores(queries: list[str], choices: list[str]) -> NDArray[np.float32]:
        sort = process.cdist(queries, choices, scorer=fuzz.token_sort_ratio, dtype=np.float32, workers=-1)
        tset = process.cdist(queries, choices, scorer=fuzz.token_set_ratio, dtype=np.float32, workers=-1)
        return (sort + tset) / 2.0

    return scores


def find_duplicates(
    new: Sequence[PersonRecord],
    existing: Sequence[PersonRecord],
    thresholds: DedupThresholds = DedupThresholds(),
) -> list[DedupDecision]:
    """One decision per record of ``new``, in input order (see module docstring for rules)."""
    import numpy as np

    # Work units for the progress bar: every record prepared, then each new record once for the
    # blocked fuzzy comparison (spread over the blocks) and once for the final decision.
    progress = Progress("dedup", len(existing) + 3 * len(new), "Controllo duplicati, passi")
    ex = [_prepare(r) for r in progress.track(existing)]
    nw = [_prepare(r) for r in progress.track(new)]
    n_ex = len(ex)
    allp = ex + nw  # global index: existing first, then new in order → "earlier" = smaller

    # -- 1/2: exact identifiers -----------------------------------------------------------
    cf_first: dict[str, int] = {}
    by_contact: dict[tuple[str, str], list[int]] = defaultdict(list)
    for g, p in enumerate(ex):
        if p.cf:
            cf_first.setdefault(p.cf, g)
        if p.phone:
            by_contact[("phone", p.phone)].append(g)
        if p.email:
            by_contact[("email", p.email)].append(g)

    decided: dict[int, DedupDecision] = {}
    for i, p in enumerate(nw):
        g = n_ex + i
        if p.cf and p.cf in cf_first:
            decided[i] = DedupDecision(p.key, allp[cf_first[p.cf]].key, "merge", 100.0, "codice_fiscale")
        else:
            for kind, value in (("phone", p.phone), ("email", p.email)):
                if not value or i in decided:
                    continue
                cands = [
                    c
                    for c in by_contact.get((kind, value), ())
                    if not _cf_conflict(p.cf, allp[c].cf) and not _bd_conflict(p.birth_date, allp[c].birth_date)
                ]
                if not cands:
                    continue
                scores = [_identifier_name_score(p, allp[c]) for c in cands]
                best = int(np.argmax(scores))
                if scores[best] >= thresholds.review:
                    decided[i] = DedupDecision(
                        p.key, allp[cands[best]].key, "merge", round(float(scores[best]), 1), kind
                    )
        if p.cf:
            cf_first.setdefault(p.cf, g)
        if p.phone:
            by_contact[("phone", p.phone)].append(g)
        if p.email:
            by_contact[("email", p.email)].append(g)

    # -- 3: blocked fuzzy names -------------------------------------------------------------
    blocks: dict[tuple, list[int]] = defaultdict(list)
    name_keys_with_missing_bd: set[tuple] = set()
    per_record_name_blocks: list[set[tuple]] = []
    for g, p in enumerate(allp):
        nb = _name_blocks(p.tokens)
        per_record_name_blocks.append(nb)
        if p.birth_date is None:
            name_keys_with_missing_bd.update(nb)
        else:
            blocks[("d", p.birth_date)].append(g)
    for g, nb in enumerate(per_record_name_blocks):
        for key in nb & name_keys_with_missing_bd:
            blocks[key].append(g)

    name_matrix = _name_matrix()
    candidates: dict[int, dict[int, float]] = defaultdict(dict)  # new index -> {global: fuzzy}
    best_fuzzy = np.zeros(len(nw))
    has_bd = np.array([p.birth_date is not None for p in allp], dtype=bool)
    for b, (key, members) in enumerate(blocks.items()):
        progress.advance(len(nw) * (b + 1) // len(blocks) - len(nw) * b // len(blocks))
        idx = np.asarray(members, dtype=np.int64)
        q = idx[idx >= n_ex]
        q = q[[(g - n_ex) not in decided for g in q]] if len(q) else q
        if len(q) == 0 or len(idx) < 2:
            continue
        matrix = name_matrix([allp[g].name for g in q], [allp[g].name for g in idx])
        allowed = idx[None, :] < q[:, None]  # only earlier records (existing, earlier new)
        if key[0] != "d":  # name-only block: at least one side lacks a birth date
            allowed &= ~(has_bd[q][:, None] & has_bd[idx][None, :])
        matrix = np.where(allowed, matrix, -1.0)
        kk = min(_CANDIDATES_PER_BLOCK, len(idx))
        cols = (
            np.argpartition(-matrix, kk - 1, axis=1)[:, :kk]
            if kk < len(idx)
            else np.tile(np.arange(len(idx)), (len(q), 1))
        )
        rows, slots = np.nonzero(np.take_along_axis(matrix, cols, axis=1) >= _CANDIDATE_FLOOR)
        for row, slot in zip(rows.tolist(), slots.tolist(), strict=True):
            i, c = int(q[row]) - n_ex, int(cols[row, slot])
            candidates[i][int(idx[c])] = float(matrix[row, c])
        np.maximum.at(best_fuzzy, q - n_ex, matrix.max(axis=1))

    out: list[DedupDecision] = []
    for i, p in enumerate(progress.track(nw)):
        if i in decided:
            out.append(decided[i])
            continue
        ranked = sorted(
            ((*_rate(p, allp[m], s, thresholds), -m, m) for m, s in candidates.get(i, {}).items()),
            reverse=True,
        )
        if not ranked or ranked[0][0] == 0:
            out.append(DedupDecision(p.key, None, "new", round(max(float(best_fuzzy[i]), 0.0), 1), "no_match"))
            continue
        _, score, _, m = ranked[0]
        other = allp[m]
        both_bd = p.birth_date is not None and p.birth_date == other.birth_date
        band: Band = "merge" if (both_bd and score >= thresholds.merge) else "review"
        reason = "name+birth_date" if both_bd else "name_only"
        if _cf_conflict(p.cf, other.cf):
            band, reason = "review", "codice_fiscale_conflict"
        out.append(DedupDecision(p.key, other.key, band, round(score, 1), reason))
    progress.finish()
    return out


def _rate(p: _Prepared, other: _Prepared, fuzzy: float, thresholds: DedupThresholds) -> tuple[int, float]:
    """(band rank 2 merge / 1 review / 0 new, decision score) of one candidate pair."""
    agreed = agreement_score(p.words, other.words)
    score = agreed if agreed is not None else min(fuzzy, thresholds.merge - 0.1)
    if score < thresholds.review:
        return 0, score
    both_bd = p.birth_date is not None and p.birth_date == other.birth_date
    return (2 if both_bd and score >= thresholds.merge and not _cf_conflict(p.cf, other.cf) else 1), score
