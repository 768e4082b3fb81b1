"""Candidate pairs of referrals and their comparison levels: the blocking and the evidence that
tasks/matching/dedup.py decides on (its docstring has the rules). Names, dates, tax codes,
contacts and the comune are prepared once per search; numpy is imported by the functions that
need it, so a flow starts without it.
"""

from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

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
    birth_dates_compatible,
    cf_birth_date,
)
from tasks.matching.dedup_names import NameParts, name_level

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

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


@dataclass(slots=True)
class Prepared:
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


def prepare(records: Sequence[PersonRecord]) -> Prepared:
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
    return Prepared(names, birth, cfs, raws, phones, emails, shared, places, common, [same_name[k] for k in spelled])


def name_rarity(p: Prepared, pairs: NDArray[np.int64], levels: NDArray[np.int8]) -> NDArray[np.float64]:
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


def _block_keys(p: Prepared, g: int) -> set[tuple[object, ...]]:
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


def candidate_pairs(p: Prepared, n_ex: int, kinds: str = "dcpen") -> NDArray[np.int64]:
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


def pair_levels(p: Prepared, pairs: NDArray[np.int64], *, exact_names: bool = False) -> NDArray[np.int8]:
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


def _name_levels(p: Prepared, pairs: NDArray[np.int64], need: NDArray[np.bool_]) -> NDArray[np.int8]:
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


def _birth_levels(p: Prepared, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int8]:
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


def _cf_levels(p: Prepared, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int8]:
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
    p = prepare(records)
    return pair_levels(p, candidate_pairs(p, 0, kinds), exact_names=True)


def random_levels(records: Sequence[PersonRecord], n: int, seed: int = 0) -> NDArray[np.int8]:
    """Comparison levels of ``n`` random pairs (``u`` estimation)."""
    import numpy as np

    p = prepare(records)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(records), n)
    b = rng.integers(0, len(records), n)
    keep = a != b
    return pair_levels(p, np.stack([a[keep], b[keep]], axis=1), exact_names=True)
