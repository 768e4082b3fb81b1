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

import re
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Literal

from models import clock
from tasks.files.normalize import normalize_cf, normalize_name
from tasks.matching.dedup_model import (
    BIRTH,
    CF,
    COMMON_PLACE,
    EMAIL,
    FIELDS,
    JAN1_OTHER,
    MISSING,
    NAME,
    PHONE,
    PLACE,
    SHARED_CONTACT,
    YEAR_TYPO,
    FSModel,
    NameParts,
    birth_dates_compatible,
    cf_birth_date,
    explain,
    load_model,
    match_weights,
    name_level,
    probability,
)
from tasks.runtime.progress import Progress

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["DedupDecision", "DedupThresholds", "PersonRecord", "candidate_levels", "find_duplicates"]

Band = Literal["merge", "review", "new"]
MAX_BLOCK = 400  # a block this big says nothing (a placeholder date, a common name pair)
RARITY_CAP = 4.0  # bits at most that a name's rarity adds
MIN_COMMON_PLACE = 20  # fewer referrals of one comune never make it "frequent" (a small file)


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
    municipality: str | None = None  # comune of residence as written; compared normalised


@dataclass(frozen=True, slots=True)
class DedupThresholds:
    """Score bands (0-100, the probability of one person): ``merge`` merges, ``review`` asks.

    The grey band starts at 50: a pair as likely one person as two is what an operator is for
    (``bench/bench_dedup.py``: about 1 % of referrals, half of them true duplicates).
    ``config/routing.yaml`` gives the import's own values."""

    merge: float = 92.0
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


@dataclass(slots=True)
class _Prepared:
    names: list[NameParts]
    birth: list[date | None]
    cf: list[str | None]  # valid, normalised
    cf_raw: list[str | None]  # as written, uppercased without spaces (typos kept)
    phone: list[str | None]
    email: list[str | None]
    shared: set[str]  # phones/e-mails written on referrals of many different people
    place: list[str | None]  # the comune resolved (ISTAT code), None when unknown
    common_places: set[str]  # comuni written on many referrals (a city)
    name_count: list[int]  # referrals of the file with the same name (its words in any order)


def _prepare(records: Sequence[PersonRecord]) -> _Prepared:
    year = clock.today().year
    names, birth, cfs, raws, phones, emails = [], [], [], [], [], []
    for r in records:
        words = normalize_name(f"{r.family_name or ''} {r.given_names or ''}").split()
        if not words and (r.native_family_name or r.native_given_names):
            words = normalize_name(f"{r.native_family_name or ''} {r.native_given_names or ''}").split()
        names.append(NameParts.of(words))
        cf = normalize_cf(r.codice_fiscale)
        raw = "".join((r.codice_fiscale or "").split()).upper() or None
        cfs.append(cf)
        raws.append(raw if raw and len(raw) == 16 else None)
        birth.append(_birth_date(r.birth_date, cf_birth_date(cf, year)))
        phones.append(_phone_key(r.phone))
        emails.append(_email_key(r.email))
    years: dict[str, set[int]] = defaultdict(set)
    for contacts in (phones, emails):
        for value, born in zip(contacts, birth, strict=True):
            if value and born:
                years[value].add(born.year)
    shared = {v for v, ys in years.items() if len(ys) >= SHARED_CONTACT}
    places = _place_keys(records)
    counts: dict[str, int] = defaultdict(int)
    for place in places:
        if place:
            counts[place] += 1
    known = sum(counts.values())
    common = {k for k, c in counts.items() if c >= max(COMMON_PLACE * known, MIN_COMMON_PLACE)}
    spelled = [tuple(sorted(n.keys)) for n in names]
    same_name: dict[tuple[str, ...], int] = defaultdict(int)
    for k in spelled:
        same_name[k] += 1
    return _Prepared(names, birth, cfs, raws, phones, emails, shared, places, common, [same_name[k] for k in spelled])


def _name_rarity(p: _Prepared, pairs: NDArray[np.int64], levels: NDArray[np.int8]) -> NDArray[np.float64]:
    """Bits added to a pair whose names are the same: how much rarer that name is in the file
    than the name of a typical referral (Splink's term-frequency adjustment): a name written on
    two referrals of a hundred thousand says more than Olena Kovalenko, written on two hundred.
    Relative to the file's own names, so it holds for a small file and a large one. A common
    name takes nothing away: the trained weight of equal names already averages over them, and
    its pairs without other evidence must still reach a person."""
    import numpy as np

    count = np.asarray(p.name_count, dtype=np.float64)
    out = np.zeros(len(pairs))
    if not len(count):
        return out
    typical = float(count.mean())  # the count of the name a random pair of equal names shares
    same = np.flatnonzero(levels[:, NAME] == 5)
    out[same] = np.clip(np.log2(typical / count[pairs[same, 0]]), 0.0, RARITY_CAP)
    return out


def _place_keys(records: Sequence[PersonRecord]) -> list[str | None]:
    """The comune of each record as :func:`tasks.files.places.resolve_municipality` reads it
    (case, accents, "Comune di", "(BG)", hyphens, abbreviations, typos): its ISTAT code, the
    places it may be when it names a locality of several comuni (Zingonia), the name and
    province outside the province; None when empty or unrecognised (it weighs nothing).
    Each distinct text is resolved once."""
    from tasks.files.places import resolve_municipality

    seen: dict[str, str | None] = {}
    out: list[str | None] = []
    for r in records:
        text = " ".join((r.municipality or "").split())
        if text not in seen:
            res = resolve_municipality(text) if text else None
            if res is None or res.how == "empty":
                seen[text] = None
            elif res.istat:
                seen[text] = res.istat
            elif res.candidates:
                seen[text] = "|".join(sorted(res.candidates))
            elif res.how == "out_of_province" and res.name:
                seen[text] = f"{res.province or ''}:{res.name.casefold()}"
            else:
                seen[text] = None
        out.append(seen[text])
    return out


def _birth_date(typed: date | None, coded: date | None) -> date | None:
    """The date to compare: a valid tax code's corrects a typed slip (same day and month, or a
    compatible date: a first permit's 1 January); a date far from it says the code is someone
    else's and is kept (the conflict shows)."""
    if typed is None or coded is None:
        return coded or typed
    same_day = (typed.month, typed.day) == (coded.month, coded.day)
    return coded if same_day or birth_dates_compatible(typed, coded) else typed


_NOT_DIGIT = re.compile(r"\D")


def _phone_key(text: str | None) -> str | None:
    """The number as digits with its country code, for equality only (the import stores E.164;
    a raw file may write 333 123 4567, 0039…, +39…): Italian when no prefix says otherwise.
    Parsing with phonenumbers costs 40 µs a number, a third of the search at 100k."""
    if not text:
        return None
    digits = _NOT_DIGIT.sub("", text)
    if len(digits) < 6:
        return None
    if text.lstrip().startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return "+39" + digits


def _email_key(text: str | None) -> str | None:
    """Lowercased address without spaces; None unless it has a mailbox and a domain."""
    if not text:
        return None
    address = "".join(text.split()).lower()
    local, _, domain = address.rpartition("@")
    return address if local and "." in domain else None


def _block_keys(p: _Prepared, g: int) -> set[tuple[object, ...]]:
    keys: set[tuple[object, ...]] = set()
    bd = p.birth[g]
    if bd is not None:
        keys.add(("d", bd.year, *sorted((bd.day, bd.month))))
    raw = p.cf_raw[g]
    if raw:
        keys |= {("c1", raw[:8]), ("c2", raw[8:15])}
    if p.phone[g]:
        keys.add(("p", p.phone[g]))
    if p.email[g]:
        keys.add(("e", p.email[g]))
    name = p.names[g]
    for words in (name.skels, name.alts):  # consonants (the skeleton carries its vowel class)
        found = sorted({s for s in words if len(s) >= 4})
        keys |= {("n", a, b) for i, a in enumerate(found) for b in found[i + 1 :]}
    # the spelling: two words, short ones too when the pair is long enough (Zhu Yong, Sy Awa)
    found = sorted({k for k in name.keys if len(k) >= 2})
    keys |= {("n", a, b) for i, a in enumerate(found) for b in found[i + 1 :] if len(a) + len(b) >= 5}
    for i, bare in enumerate(name.bare):  # Elamrani meets El Amrani: the other words with the bare one
        if bare:
            keys |= {("n", *sorted((bare, k))) for j, k in enumerate(name.keys) if j != i and len(k) >= 4}
    return keys


def _candidate_pairs(p: _Prepared, n_ex: int, kinds: str = "dcpen") -> NDArray[np.int64]:
    """(earlier, later) index pairs sharing a block, the later one new; unique, sorted.

    ``kinds`` picks the blocking rules: birth date, tax code halves, phone, e-mail, names.
    Block keys are hashed to integers and grouped by sorting (a dict of lists of a few
    million keys would cost hundreds of megabytes at 100k referrals)."""
    import numpy as np

    members = array("q")  # 8 bytes an entry, not a Python int each
    hashes = array("q")
    for g in range(len(p.names)):
        keys = [hash(key) for key in _block_keys(p, g) if str(key[0])[0] in kinds]
        hashes.extend(keys)
        members.extend([g] * len(keys))
    n = len(p.names)
    if not members:
        return np.zeros((0, 2), dtype=np.int64)
    h = np.frombuffer(hashes, dtype=np.int64).copy()
    m = np.frombuffer(members, dtype=np.int64).copy()
    del members, hashes
    order = np.lexsort((m, h))
    h, m = h[order], m[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    sizes = np.diff(np.r_[starts, len(h)])
    chunks = []
    two = starts[sizes == 2]
    chunks.append(m[two] * n + m[two + 1])
    for start, size in zip(
        starts[(sizes > 2) & (sizes <= MAX_BLOCK)].tolist(),
        sizes[(sizes > 2) & (sizes <= MAX_BLOCK)].tolist(),
        strict=True,
    ):
        idx = m[start : start + size]
        i, j = np.triu_indices(size, k=1)
        chunks.append(idx[i] * n + idx[j])
    codes = np.concatenate(chunks)
    codes.sort()  # unique by sorting: np.unique's hash path is 20 times slower on int64
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes
    codes = codes[codes % n >= n_ex]
    return np.stack([codes // n, codes % n], axis=1)


def _levels(p: _Prepared, pairs: NDArray[np.int64], *, exact_names: bool = False) -> NDArray[np.int8]:
    """Comparison levels (one column per field of ``dedup_model.FIELDS``) of each pair."""
    import numpy as np

    out = np.empty((len(pairs), len(FIELDS)), dtype=np.int8)
    a, b = pairs[:, 0], pairs[:, 1]
    out[:, BIRTH] = _birth_levels(p, a, b)
    out[:, CF] = _cf_levels(p, a, b)
    out[:, PHONE] = _contact_levels(p.phone, p.shared, a, b)
    out[:, EMAIL] = _contact_levels(p.email, p.shared, a, b)
    out[:, PLACE] = _contact_levels(p.place, p.common_places, a, b)  # a city is a shared "contact"
    # Names are the costly comparison: a pair with incompatible birth dates and no agreeing
    # identifier can be neither merged nor reviewed, so its name level is only estimated.
    need = np.ones(len(pairs), dtype=bool)
    if not exact_names:
        need = (out[:, BIRTH] != 0) | (out[:, CF] >= 2) | (out[:, PHONE] == 3) | (out[:, EMAIL] == 3)
    out[:, NAME] = _name_levels(p, pairs, need)
    return out


def _name_levels(p: _Prepared, pairs: NDArray[np.int64], need: NDArray[np.bool_]) -> NDArray[np.int8]:
    """Name levels, once per distinct pair of names; names sharing no word key and no
    skeleton are 0 without a closer look, and pairs not ``need``-ed are 0 or 1 (a word shared)."""
    import numpy as np

    ids: dict[tuple[str, ...], int] = {}
    name_id = np.array([ids.setdefault(n.words, len(ids)) for n in p.names], dtype=np.int64)
    first = {i: g for g, i in reversed(list(enumerate(name_id.tolist())))}
    n = max(len(ids), 1)
    codes = name_id[pairs[:, 0]] * n + name_id[pairs[:, 1]]
    combos, back = np.unique(codes, return_inverse=True)
    needed = np.zeros(len(combos), dtype=bool)
    needed[back.reshape(-1)[need]] = True
    words = [frozenset().union(*x.forms) for x in p.names]
    levels = np.zeros(len(combos), dtype=np.int8)
    for c, (code, full) in enumerate(zip(combos.tolist(), needed.tolist(), strict=True)):
        a, b = first[code // n], first[code % n]
        if not words[a].isdisjoint(words[b]):
            levels[c] = name_level(p.names[a], p.names[b]) if full else 1
    return levels[back.reshape(-1)]


def _birth_levels(p: _Prepared, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int8]:
    """Birth-date levels; arrays of one byte or two a pair (millions of pairs at 100k)."""
    import numpy as np

    known = np.array([d is not None for d in p.birth])
    ymd = np.array([(d.year, d.month, d.day) if d else (0, 0, 0) for d in p.birth], dtype=np.int16).reshape(-1, 3)
    year, month, day = ymd[:, 0], ymd[:, 1].astype(np.int8), ymd[:, 2].astype(np.int8)
    is_jan1 = (month == 1) & (day == 1)
    ya, yb, ma, mb, da, db = year[a], year[b], month[a], month[b], day[a], day[b]
    same_year = ya == yb
    same_md = (ma == mb) & (da == db)
    ja, jb = is_jan1[a], is_jan1[b]
    out = np.zeros(len(a), dtype=np.int8)
    out[same_year & same_md] = 4
    out[same_year & same_md & ja] = 3
    # day and month swapped, or one digit of the day or month mistyped (never on 1 January)
    digits = np.stack([day // 10, day % 10, month // 10, month % 10], axis=1).astype(np.int8)
    near = np.flatnonzero(same_year & ~same_md)
    swapped = (ma[near] == db[near]) & (da[near] == mb[near])
    one_digit = ((digits[a[near]] != digits[b[near]]).sum(axis=1) == 1) & ~ja[near] & ~jb[near]
    out[near[swapped | one_digit]] = 2
    # one digit of the year mistyped or its last two swapped, on the same day and month
    slip = np.flatnonzero(~same_year & same_md & ~ja)
    if len(slip):
        ys = np.stack([year // 1000, year // 100 % 10, year // 10 % 10, year % 10], axis=1).astype(np.int8)
        ea, eb = ys[a[slip]], ys[b[slip]]
        typo = ((ea != eb).sum(axis=1) == 1) | (
            (ea[:, :2] == eb[:, :2]).all(axis=1) & (ea[:, 2] == eb[:, 3]) & (ea[:, 3] == eb[:, 2])
        )
        out[slip[typo]] = YEAR_TYPO
    out[same_year & (ja != jb)] = JAN1_OTHER  # 1 January, the placeholder, and a day of that year
    out[~(known[a] & known[b])] = MISSING
    return out


def _cf_levels(p: _Prepared, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int8]:
    import numpy as np

    ids: dict[str, int] = {}
    valid = np.array([ids.setdefault(c, len(ids)) if c else -1 for c in p.cf])
    personal = np.array([c is not None and len(c) == 16 for c in p.cf])
    has_raw = np.array([c is not None for c in p.cf_raw])
    raw = np.frombuffer("".join(c or " " * 16 for c in p.cf_raw).encode("ascii", "replace"), dtype=np.uint8)
    raw = raw.reshape(-1, 16)
    va, vb = valid[a], valid[b]
    both_valid = (va >= 0) & (vb >= 0)
    both_raw = has_raw[a] & has_raw[b]
    out = np.full(len(a), MISSING, dtype=np.int8)
    typed = np.flatnonzero(both_raw)  # character distance only where both wrote 16 characters
    distance = (raw[a[typed]] != raw[b[typed]]).sum(axis=1)
    raw_case = ~both_valid[typed]
    out[typed[raw_case & (distance <= 2)]] = 2
    out[typed[raw_case & (distance > 2) & ((va[typed] >= 0) | (vb[typed] >= 0))]] = 0
    out[typed[distance == 0]] = 3
    out[both_valid & personal[a] & personal[b] & (va != vb)] = 0
    out[both_valid & (va == vb)] = 3
    return out


def _contact_levels(
    values: list[str | None], shared: set[str], a: NDArray[np.int64], b: NDArray[np.int64]
) -> NDArray[np.int8]:
    import numpy as np

    ids: dict[str, int] = {}
    vid = np.array([ids.setdefault(v, len(ids)) if v else -1 for v in values])
    common = np.array([v in shared if v else False for v in values])
    va, vb = vid[a], vid[b]
    out = np.where(va == vb, np.where(common[a], 2, 3), 0).astype(np.int8)
    out[(va < 0) | (vb < 0)] = MISSING
    return out


def candidate_levels(records: Sequence[PersonRecord], kinds: str = "dcpen") -> NDArray[np.int8]:
    """Comparison levels of the pairs of ``records`` sharing a block of ``kinds`` (EM input)."""
    p = _prepare(records)
    return _levels(p, _candidate_pairs(p, 0, kinds), exact_names=True)


def random_levels(records: Sequence[PersonRecord], n: int, seed: int = 0) -> NDArray[np.int8]:
    """Comparison levels of ``n`` random pairs (``u`` estimation)."""
    import numpy as np

    p = _prepare(records)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(records), n)
    b = rng.integers(0, len(records), n)
    keep = a != b
    return _levels(p, np.stack([a[keep], b[keep]], axis=1), exact_names=True)


def _conflict(p: _Prepared, a: int, b: int) -> str | None:
    """Why two records cannot be one person: two valid tax codes, incompatible birth dates."""
    ca, cb = p.cf[a], p.cf[b]
    if ca and cb and ca != cb and len(ca) == 16 and len(cb) == 16:
        return "codice_fiscale_conflict"
    if ca and ca == cb and len(ca) == 16 and name_level(p.names[a], p.names[b]) >= 3:
        return None  # the same valid tax code and name: a date typed beside it is a slip
    if not birth_dates_compatible(p.birth[a], p.birth[b]):
        return "birth_date_conflict"
    return None


def _ambiguous(p: _Prepared, a: int, b: int, partners: dict[int, set[int]]) -> str | None:
    """``a`` and ``b`` would merge, but one of them would merge just as well with a third record
    that cannot be the other (a father and his son of the same name and phone, and a referral
    of one of them without a birth date): a person decides."""
    for x, y in ((a, b), (b, a)):
        if any(c != y and _conflict(p, y, c) for c in partners[x]):
            return "ambiguous"
    return None


def _mergeable(row: Sequence[int]) -> bool:
    """Rules on one pair: the same tax code, or agreeing names plus evidence beyond the name."""
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
    # both live is evidence too: the score weighs it (less for a city) against the size of
    # the file, where namesakes grow common. It never stands in for two dates that differ or
    # are both 1 January: siblings, a parent and child, namesakes share it.
    if row[BIRTH] == MISSING and row[PLACE] >= 2:
        return True
    return row[BIRTH] in (2, 4) or row[CF] == 2 or row[PHONE] == 3 or row[EMAIL] == 3


def _name_and_place_only(row: Sequence[int]) -> bool:
    """A merge whose only evidence beyond the name is the comune (no birth date on one side)."""
    return row[BIRTH] == MISSING and row[CF] not in (2, 3) and row[PHONE] != 3 and row[EMAIL] != 3


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
    return "name+municipality" if row[BIRTH] == MISSING and row[PLACE] >= 2 else "name_only"


class _Clusters:
    """Union-find whose unions keep every pair inside a cluster free of conflicts."""

    def __init__(self, p: _Prepared) -> None:
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

    def dated(self, x: int) -> bool:
        """Whether some record of the cluster of ``x`` has a birth date."""
        root = self.find(x)
        return any(self.p.birth[m] is not None for m in self.members.get(root, [root]))

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
    p = _prepare(records)
    progress.advance(1)
    pairs = _candidate_pairs(p, n_ex)
    levels = _levels(p, pairs)
    progress.advance(1)
    rarity = _name_rarity(p, pairs, levels)
    score = probability(match_weights(model, levels, len(records)) + rarity) * 100.0
    score[levels[:, CF] == 3] = 100.0  # the same valid tax code is the same person
    clusters = _Clusters(p)
    links: dict[int, list[int]] = defaultdict(list)  # later record -> rows of its merge links
    blocked: dict[int, tuple[int, str]] = {}  # later record -> (row, conflict) of a refused link
    order = [r for r in np.argsort(-score, kind="stable").tolist() if score[r] >= thresholds.merge]
    order = [r for r in order if _mergeable(levels[r].tolist())]
    partners: dict[int, set[int]] = defaultdict(set)
    for r in order:
        a, b = int(pairs[r, 0]), int(pairs[r, 1])
        partners[a].add(b)
        partners[b].add(a)
    # Links resting on the name and the comune alone come last, once the others have formed
    # the clusters; they join a cluster without any birth date to another, never two dated
    # ones (their dates were compared and did not suffice), and a referral they would join to
    # two clusters kept apart (two namesakes of one comune) goes to a person.
    weak = [r for r in order if _name_and_place_only(levels[r].tolist())]
    strong = [r for r in order if not _name_and_place_only(levels[r].tolist())]
    torn: set[int] = set()
    for step, rows in enumerate((strong, weak)):
        if step:
            torn = _torn(clusters, pairs, weak)
        for r in rows:
            a, b = int(pairs[r, 0]), int(pairs[r, 1])
            if step and clusters.dated(a) and clusters.dated(b):
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
    p: _Prepared,
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
