"""Duplicate detection for referred people (docs/ARCHITECTURE.md#matching, issue 21).

1. **Blocking** finds the pairs worth comparing: the same birth date (day and month in either
   order), the same phone, e-mail or half of a tax code, or two name words with the same
   consonant skeleton or key – short ones too when the pair is long enough (Zhu Yong), and a
   name without its glued Arabic article (Elamrani / El Amrani) – so a missing birth date,
   swapped names or another spelling still meet.
2. **Evidence** is weighed by a Fellegi–Sunter model (:mod:`tasks.matching.dedup_model`):
   each field lands on a level, each level weighs ``log2(m/u)``, trained by EM; the score is the
   probability (0-100) that the two referrals are one person. The comune counts less when it is
   a city (written on 5 % of the referrals or more): many people share it. The same name counts
   more when it is rarer in the file than a typical referral's (term frequency, as Splink).
3. **Rules** are hard constraints on top: a merge needs names that agree (or the same tax
   code) and evidence beyond the name (birth date – not 1 January, the registries' placeholder
   –, a tax code, a personal phone or e-mail, or – when one side has no birth date – the same
   comune of residence, read by :func:`tasks.files.places.resolve_municipality`); names that
   only resemble each other merge only with the same birth date *and* a personal identifier or
   the same comune, or with a personal identifier and a date missing, swapped or on the
   1 January placeholder; the same name in the other sex
   (Oleksandr / Oleksandra, Mario / Maria) never. A valid tax code's date corrects a typed
   slip; a year one keystroke away (1973 / 1937) or 1 January against a day of that year needs
   a personal identifier too. Two valid tax codes or incompatible birth dates (another year,
   but for one keystroke off 1 January) never merge – checked on the whole cluster,
   so a shared phone cannot chain a father, his son of the same name and a referral
   without a date into one person; a referral that would merge equally with two people who
   cannot be one goes to review (``ambiguous``). The same valid tax code merges; with names
   that agree it also outweighs a date typed beside it (01/12 for 10/12).
4. **Bands**: score at or above ``merge`` (and the rules hold) merges; at or above ``review``
   goes to a person; below is a new person. Each decision says why in Italian: the level and
   the weight of each field.

Every new record is compared with the existing ones and with the *earlier* records of the same
batch; a merged record points to the earliest record of its cluster (its first referral).
numpy and rapidfuzz are imported by the function that runs the search: a flow starts without them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from tasks.matching.dedup_model import (
    BIRTH,
    CF,
    EMAIL,
    MISSING,
    NAME,
    PHONE,
    PLACE,
    FSModel,
    birth_dates_compatible,
    explain,
    load_model,
    match_weights,
    probability,
)
from tasks.matching.dedup_names import name_level
from tasks.matching.dedup_pairs import (
    PersonRecord,
    Prepared,
    candidate_pairs,
    name_rarity,
    pair_levels,
    prepare,
)
from tasks.runtime.progress import Progress

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["DedupDecision", "DedupThresholds", "PersonRecord", "find_duplicates"]

#: Bits of name rarity (:func:`tasks.matching.dedup_pairs.name_rarity`) above which a name is
#: rarer in the file than a typical referral's.
RARE_NAME_BITS = 0.05

Band = Literal["merge", "review", "new"]


@dataclass(frozen=True, slots=True)
class DedupThresholds:
    """Score bands (0-100, the probability of one person): ``merge`` merges, ``review`` asks.

    The grey band starts at 50: a pair as likely one person as two is what an operator is for
    (``bench/bench_dedup.py``: about 1 % of referrals, half of them true duplicates). A merge
    needs 80 *and* the rules (evidence beyond the name, no conflict in the cluster): with the
    rules in force, lowering it from 92 to 80 kept merge precision at 0.997 or more on the
    labelled sets of ``bench/`` and raised recall at 100k by about 0.005. ``config/routing.yaml`` gives the
    import's own values."""

    merge: float = 80.0
    review: float = 50.0


@dataclass(frozen=True, slots=True)
class DedupDecision:
    """Outcome for one new record.

    ``score`` is the probability (0-100) that ``new_key`` and ``match_key`` are one person;
    ``reason`` is the strongest agreeing evidence as a code (``codice_fiscale``, ``phone``,
    ``email``, ``name+birth_date``, ``name+municipality`` (no birth date on one side),
    ``name_only``, ``codice_fiscale_conflict``,
    ``birth_date_conflict``, ``ambiguous``, ``no_match``); ``why`` explains it in Italian.
    """

    new_key: str
    match_key: str | None
    band: Band
    score: float
    reason: str
    why: str = ""


def _conflict(p: Prepared, a: int, b: int) -> str | None:
    """Why two records cannot be one person: two valid tax codes, incompatible birth dates."""
    ca, cb = p.cf[a], p.cf[b]
    if ca and cb and ca != cb and len(ca) == 16 and len(cb) == 16:
        return "codice_fiscale_conflict"
    if ca and ca == cb and len(ca) == 16 and name_level(p.names[a], p.names[b]) >= 3:
        return None  # the same valid tax code and name: a date typed beside it is a slip
    if not birth_dates_compatible(p.birth[a], p.birth[b]):
        return "birth_date_conflict"
    return None


def _ambiguous(p: Prepared, a: int, b: int, partners: dict[int, set[int]]) -> str | None:
    """``a`` and ``b`` would merge, but one of them would merge just as well with a third record
    that cannot be the other (a father and his son of the same name and phone, and a referral
    of one of them without a birth date): a person decides."""
    for x, y in ((a, b), (b, a)):
        if any(c != y and _conflict(p, y, c) for c in partners[x]):
            return "ambiguous"
    return None


def _mergeable(row: Sequence[int], rarity: float = 0.0) -> bool:
    """Rules on one pair: the same tax code, or agreeing names plus evidence beyond the name.
    ``rarity``: the bits the name's rarity in the file adds (:func:`name_rarity`)."""
    if row[CF] == 3:
        return True
    if row[CF] == 0 or row[BIRTH] == 0 or row[NAME] < 2:
        return False
    if row[NAME] == 2:  # a typo on top of another spelling: the date and a contact or the comune agree,
        personal = row[PHONE] == 3 or row[EMAIL] == 3 or row[CF] == 2
        if row[BIRTH] == 4:
            return personal or row[PLACE] >= 2
        # or, the date missing, swapped or the 1 January placeholder, a personal identifier
        return personal and row[BIRTH] in (MISSING, 2, 3)
    # 1 January is the date registries give when the day is unknown: namesakes share it. It,
    # a 1 January against a day of that year, or a year one keystroke away (1984 / 1948) need
    # a personal identifier that agrees. Without a birth date on one side, the comune where
    # both live is evidence too, when it is not a city (many namesakes live in one): the score
    # weighs it against the size of the file, where namesakes grow common. It never stands in
    # for two dates that differ or are both 1 January: siblings, a parent and child, namesakes
    # share it – unless the name is rarer in the file than a typical referral's: the same name,
    # the same 1 January (a first permit's placeholder) and the same small comune are one person;
    # a common name there may be two namesakes (a reception centre hosts many): a person decides.
    if row[BIRTH] == MISSING and row[PLACE] == 3:
        return True
    if row[BIRTH] == 3 and row[PLACE] == 3 and row[NAME] == 5 and row[CF] == MISSING and rarity >= RARE_NAME_BITS:
        return True
    return row[BIRTH] in (2, 4) or row[CF] == 2 or row[PHONE] == 3 or row[EMAIL] == 3


def _name_and_place_only(row: Sequence[int]) -> bool:
    """A merge whose only evidence beyond the name is the comune: no birth date on one side, or
    the 1 January placeholder on both."""
    return row[BIRTH] in (MISSING, 3) and row[CF] not in (2, 3) and row[PHONE] != 3 and row[EMAIL] != 3


def _torn(clusters: _Clusters, pairs: NDArray[np.int64], weak: list[int]) -> set[int]:
    """Records that the name and the comune alone would join to two or more other clusters."""
    reach: dict[int, set[int]] = defaultdict(set)
    for r in weak:
        a, b = int(pairs[r, 0]), int(pairs[r, 1])
        reach[a].add(clusters.find(b))
        reach[b].add(clusters.find(a))
    return {x for x, roots in reach.items() if len(roots - {clusters.find(x)}) > 1}


def _reviewable(row: Sequence[int]) -> bool:
    """Worth a person's time: similar names, no contradiction and more than a placeholder date,
    or everything equal but the tax code (an office may have computed it with the wrong
    birthplace)."""
    if row[CF] == 3:
        return True
    if row[CF] == 0:
        return row[NAME] == 5 and row[BIRTH] == 4
    if row[BIRTH] == 3 and row[CF] != 2 and row[PHONE] != 3 and row[EMAIL] != 3:
        # 1 January, the registries' placeholder, and a name: worth a look only when the names
        # agree and no phone or e-mail says two people
        return row[NAME] >= 3 and row[PHONE] != 0 and row[EMAIL] != 0
    return row[BIRTH] != 0 and row[NAME] >= 2


def _reason(row: Sequence[int]) -> str:
    if row[CF] == 3:
        return "codice_fiscale"
    if row[PHONE] == 3:
        return "phone"
    if row[EMAIL] == 3:
        return "email"
    if row[BIRTH] in (2, 4):
        return "name+birth_date"
    return "name+municipality" if row[BIRTH] in (MISSING, 3) and row[PLACE] >= 2 else "name_only"


class _Clusters:
    """Union-find whose unions keep every pair inside a cluster free of conflicts."""

    def __init__(self, p: Prepared) -> None:
        self.p = p
        self.parent: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def day_known(self, x: int) -> bool:
        """Whether some record of the cluster of ``x`` has a birth date other than the 1 January
        placeholder."""
        root = self.find(x)
        return any(
            (b := self.p.birth[m]) is not None and (b.month, b.day) != (1, 1) for m in self.members.get(root, [root])
        )

    def union(self, a: int, b: int) -> str | None:
        """Join the clusters of ``a`` and ``b``, or say which conflict forbids it."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        ma, mb = self.members.get(ra, [ra]), self.members.get(rb, [rb])
        for x in ma:
            for y in mb:
                if (why := _conflict(self.p, x, y)) is not None:
                    return why
        root, other = (ra, rb) if ra < rb else (rb, ra)
        self.parent[other] = root
        self.members[root] = sorted(ma + mb)
        self.members.pop(other, None)
        return None


def find_duplicates(
    new: Sequence[PersonRecord],
    existing: Sequence[PersonRecord],
    thresholds: DedupThresholds = DedupThresholds(),
    *,
    model: FSModel | None = None,
) -> list[DedupDecision]:
    """One decision per record of ``new``, in input order (rules in the module docstring)."""
    import numpy as np

    model = model or load_model()
    progress = Progress("dedup", 3, "Controllo duplicati, passi")
    records = [*existing, *new]
    n_ex = len(existing)
    p = prepare(records)
    progress.advance(1)
    pairs = candidate_pairs(p, n_ex)
    levels = pair_levels(p, pairs)
    progress.advance(1)
    rarity = name_rarity(p, pairs, levels)
    score = probability(match_weights(model, levels, len(records)) + rarity) * 100.0
    score[levels[:, CF] == 3] = 100.0  # the same valid tax code is the same person
    clusters = _Clusters(p)
    links: dict[int, list[int]] = defaultdict(list)  # later record -> rows of its merge links
    blocked: dict[int, tuple[int, str]] = {}  # later record -> (row, conflict) of a refused link
    above = [r for r in np.argsort(-score, kind="stable").tolist() if score[r] >= thresholds.merge]
    row_of = {r: levels[r].tolist() for r in above}
    order = [r for r in above if _mergeable(row_of[r], float(rarity[r]))]
    partners: dict[int, set[int]] = defaultdict(set)
    for r in order:
        a, b = int(pairs[r, 0]), int(pairs[r, 1])
        partners[a].add(b)
        partners[b].add(a)
    # Links resting on the name and the comune alone come last, once the others have formed
    # the clusters; they join a cluster without any birth date (or only the 1 January
    # placeholder) to another, never two with a known day (their dates were compared and did
    # not suffice), and a referral they would join to two clusters kept apart (two namesakes of
    # one comune) goes to a person.
    weak = [r for r in order if _name_and_place_only(row_of[r])]
    strong = [r for r in order if not _name_and_place_only(row_of[r])]
    torn: set[int] = set()
    for step, rows in enumerate((strong, weak)):
        if step:
            torn = _torn(clusters, pairs, weak)
        for r in rows:
            a, b = int(pairs[r, 0]), int(pairs[r, 1])
            if step and clusters.day_known(a) and clusters.day_known(b):
                continue
            why = _ambiguous(p, a, b, partners) or ("ambiguous" if {a, b} & torn else None) or clusters.union(a, b)
            if why is None:
                links[b].append(r)
            else:
                blocked.setdefault(b, (r, why))
    best_review: dict[int, int] = {}
    for r in np.flatnonzero(score >= thresholds.review).tolist():
        b = int(pairs[r, 1])
        if not _reviewable(levels[r].tolist()):
            continue
        if b not in best_review or score[r] > score[best_review[b]]:
            best_review[b] = r
    best_any = np.zeros(len(records))
    if len(pairs):
        np.maximum.at(best_any, pairs[:, 1], score)
    out = [
        _decide(g, records, p, pairs, levels, score, rarity, model, clusters, links, blocked, best_review, best_any)
        for g in range(n_ex, len(records))
    ]
    # A pair the rules keep apart scores just under the merge threshold, whatever its evidence.
    cap = thresholds.merge - 0.1
    out = [d if d.band == "merge" or d.score <= cap else replace(d, score=round(cap, 1)) for d in out]
    progress.finish()
    return out


def _decide(
    g: int,
    records: Sequence[PersonRecord],
    p: Prepared,
    pairs: NDArray[np.int64],
    levels: NDArray[np.int8],
    score: NDArray[np.float64],
    rarity: NDArray[np.float64],
    model: FSModel,
    clusters: _Clusters,
    links: dict[int, list[int]],
    blocked: dict[int, tuple[int, str]],
    best_review: dict[int, int],
    best_any: NDArray[np.float64],
) -> DedupDecision:
    key = records[g].key
    root = clusters.find(g)
    members = clusters.members.get(root, [root])
    if members[0] < g:
        own = links.get(g) or [r for x in members if x > g for r in links.get(x, ()) if int(pairs[r, 0]) == g]
        r = max(own, key=lambda k: score[k]) if own else None
        row = levels[r].tolist() if r is not None else None
        via = (
            ""
            if r is None or members[0] in (int(pairs[r, 0]), int(pairs[r, 1]))
            else " (tramite un'altra segnalazione)"
        )
        why = (
            "stessa persona: " + (explain(model, row) + _rarity_note(rarity[r]) if row and r is not None else "") + via
        )
        s = round(float(score[r]), 1) if r is not None else 100.0
        return DedupDecision(key, records[members[0]].key, "merge", s, _reason(row) if row else "name_only", why)
    if g in best_review or g in blocked:
        r = best_review.get(g, blocked[g][0] if g in blocked else -1)
        row = levels[r].tolist()
        a = int(pairs[r, 0])
        conflict = _conflict(p, a, g)
        if conflict == "codice_fiscale_conflict" and row[NAME] < 5:
            return DedupDecision(key, None, "new", round(float(score[r]), 1), "no_match", _new_why(model, row))
        reason = conflict or (blocked[g][1] if g in blocked and blocked[g][0] == r else None) or _reason(row)
        why = "da verificare: " + explain(model, row) + _rarity_note(rarity[r]) + _conflict_note(reason, row)
        return DedupDecision(key, records[a].key, "review", round(float(score[r]), 1), reason, why)
    return DedupDecision(key, None, "new", round(float(best_any[g]), 1), "no_match", "nessuna segnalazione simile")


def _rarity_note(bits: float) -> str:
    return f"; nome raro tra le segnalazioni ({bits:+.1f})" if bits >= 0.05 else ""


def _new_why(model: FSModel, row: Sequence[int]) -> str:
    return "persone diverse: " + explain(model, row)


def _conflict_note(reason: str, row: Sequence[int]) -> str:
    if reason == "codice_fiscale_conflict":
        return " — codici fiscali diversi: non si unisce senza una verifica"
    if reason == "ambiguous":
        return " — somiglia allo stesso modo a un'altra persona (data di nascita o codice fiscale diversi)"
    if reason == "birth_date_conflict":
        return " — date di nascita incompatibili con un'altra segnalazione della stessa persona"
    if row[NAME] < 3:
        return " — i nomi non coincidono abbastanza per unire da soli"
    if row[BIRTH] == MISSING and row[CF] == MISSING and row[PHONE] != 3 and row[EMAIL] != 3:
        if row[PLACE] >= 2:
            return " — coincidono solo il nome e il comune, manca la data di nascita: serve una verifica"
        return " — solo il nome coincide: serve una verifica"
    return ""
