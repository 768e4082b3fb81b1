"""The numpy side of :mod:`tasks.matching.scoring`: profiles and vacancies as arrays, scored
with the very same numbers as ``score_pair`` (tests/unit/test_scoring.py and
tests/unit/test_vectorised.py check that they agree).

``top_k_indices`` ranks every vacancy without scoring every profile of its ISCO major group: the
profiles are split into tiers by the occupation part they would get (same unit group, minor,
sub-major, only the major group or no coded occupation), found through an index of who holds
which code at each level; tiers are scored best first, and once a vacancy's k-th score beats
the best score any profile of the next tier could reach, the rest is skipped (issue 21). The
ranking is exactly the exhaustive one, ties included (by profile order).

numpy is imported with this module, which the top-k functions of ``scoring`` import when they
run: a flow run that only needs the facts and ``score_pair`` starts without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.enums import Licence
from tasks.matching.scoring import (
    _LIC_BIT,
    _SATISFIES,
    CEFR_RANK,
    UNKNOWN_DISTANCE_PART,
    MatchWeights,
    ProfileFacts,
    VacancyFacts,
    _uncoded_part,
)

_NO_CODE_P = -1  # sentinels never equal to each other or to a real code
_NO_CODE_V = -2
_MAX_OCC = 3


def _code_levels(code: str, missing: int) -> tuple[int, int, int, int]:
    """(major, sub-major, minor, unit) as ints; absent levels get ``missing``."""
    digits = "".join(ch for ch in code if ch.isdigit())
    return tuple(  # type: ignore[return-value]
        int(digits[:n]) if len(digits) >= n else missing for n in (1, 2, 3, 4)
    )


@dataclass(frozen=True, slots=True)
class ProfileArrays:
    """Profiles column by column: what the vectorised score reads, built once per run."""

    codes: np.ndarray  # (n, _MAX_OCC, 4) int64 levels, _NO_CODE_P padded
    has_occ: np.ndarray  # (n,) bool
    italian: np.ndarray  # (n,) int rank
    licence_bits: np.ndarray  # (n,) int bitmask of satisfiable requirements
    lat: np.ndarray  # (n,) radians, nan when unknown
    lon: np.ndarray
    mobility: np.ndarray
    shifts: np.ndarray
    cos_lat: np.ndarray  # precomputed for haversine
    held: np.ndarray  # (codes, n) bool: who holds each skill code (rows by ``skill_index``, contiguous)
    skill_index: dict[str, int]  # skill code → row of ``held``


def profile_arrays(profiles: Sequence[ProfileFacts]) -> ProfileArrays:
    """The columns of ``profiles``: occupation levels, ranks, licence bitmask, radians."""
    n = len(profiles)
    codes = np.full((n, _MAX_OCC, 4), _NO_CODE_P, dtype=np.int64)
    levels: dict[str, tuple[int, int, int, int]] = {}  # a few hundred codes, held by many
    for i, p in enumerate(profiles):
        for j, c in enumerate(p.occupations[:_MAX_OCC]):
            if c not in levels:
                levels[c] = _code_levels(c, _NO_CODE_P)
            codes[i, j] = levels[c]
    bits = np.array([sum(_LIC_BIT[x] for x in _SATISFIES[p.licence]) for p in profiles], dtype=np.int64)
    lat = np.array([np.nan if p.lat is None or p.lon is None else p.lat for p in profiles])
    lon = np.array([np.nan if p.lat is None or p.lon is None else p.lon for p in profiles])
    return ProfileArrays(
        codes=codes,
        has_occ=np.array([bool(p.occupations) for p in profiles], dtype=bool),
        italian=np.array([CEFR_RANK[p.italian] for p in profiles], dtype=np.int64),
        licence_bits=bits,
        lat=np.radians(lat),
        lon=np.radians(lon),
        mobility=np.array([p.mobility_km for p in profiles], dtype=np.float64),
        shifts=np.array([p.shifts for p in profiles], dtype=bool),
        cos_lat=np.cos(np.radians(lat)),
        **_held(profiles),
    )


def _held(profiles: Sequence[ProfileFacts]) -> dict[str, Any]:
    """The profiles' skill codes as one boolean matrix, filled in a single scatter."""
    index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, p in enumerate(profiles):
        for code in p.skill_codes:
            rows.append(i)
            cols.append(index.setdefault(code, len(index)))
    held = np.zeros((max(1, len(index)), len(profiles)), dtype=bool)
    held[np.asarray(cols, dtype=np.int64), np.asarray(rows, dtype=np.int64)] = True
    return {"held": held, "skill_index": index}


@dataclass(frozen=True, slots=True)
class VacancyArrays:
    """Vacancies column by column, like :class:`ProfileArrays`."""

    levels: np.ndarray  # (n, 4) int64, _NO_CODE_V where absent
    unit_ok: np.ndarray  # (n,) bool: code is a full 4-digit unit group
    italian: np.ndarray
    licence_bit: np.ndarray  # (n,) 0 when no licence is required
    lat: np.ndarray  # radians, nan when unknown
    lon: np.ndarray
    shifts: np.ndarray
    skill_codes: list[tuple[str, ...]]  # required codes, each once


def vacancy_arrays(vacancies: Sequence[VacancyFacts]) -> VacancyArrays:
    """The columns of ``vacancies``, like :func:`profile_arrays`."""

    def _coord(v: VacancyFacts, which: str) -> float:
        return np.nan if v.lat is None or v.lon is None else float(getattr(v, which))

    return VacancyArrays(
        levels=np.array([_code_levels(v.occupation_code, _NO_CODE_V) for v in vacancies], dtype=np.int64).reshape(
            len(vacancies), 4
        ),
        unit_ok=np.array([len(v.occupation_code) == 4 for v in vacancies], dtype=bool),
        italian=np.array([CEFR_RANK[v.italian_required] for v in vacancies], dtype=np.int64),
        licence_bit=np.array(
            [0 if v.licence_required == Licence.NONE else _LIC_BIT[v.licence_required] for v in vacancies],
            dtype=np.int64,
        ),
        lat=np.radians(np.array([_coord(v, "lat") for v in vacancies], dtype=np.float64)),
        lon=np.radians(np.array([_coord(v, "lon") for v in vacancies], dtype=np.float64)),
        shifts=np.array([v.shifts_required for v in vacancies], dtype=bool),
        skill_codes=[tuple(dict.fromkeys(v.skill_codes)) for v in vacancies],
    )


def haversine_rad(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray, cos_lat1: np.ndarray | None = None
) -> np.ndarray:
    """Great-circle km between points in radians, broadcast (``haversine_km`` on arrays)."""
    cos1 = np.cos(lat1) if cos_lat1 is None else cos_lat1
    a = np.sin((lat2 - lat1) / 2) ** 2 + cos1 * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def take_profiles(pa: ProfileArrays, idx: np.ndarray, *, columns_only: bool = False) -> ProfileArrays:
    """The rows ``idx`` of ``pa``: one block of profiles. ``columns_only``: without occupation
    codes and skill matrix (empty), for a caller passing ``score_arrays`` both parts."""
    return ProfileArrays(
        pa.codes[idx] if not columns_only else np.zeros((len(idx), 0, 4), dtype=np.int64),
        pa.has_occ[idx],
        pa.italian[idx],
        pa.licence_bits[idx],
        pa.lat[idx],
        pa.lon[idx],
        pa.mobility[idx],
        pa.shifts[idx],
        pa.cos_lat[idx],
        np.zeros((0, len(idx)), dtype=bool) if columns_only else np.ascontiguousarray(pa.held[:, idx]),
        pa.skill_index,
    )


def take_vacancies(va: VacancyArrays, idx: np.ndarray, *, column: bool = False) -> VacancyArrays:
    """The rows ``idx`` of ``va``; ``column``: the per-vacancy values as (len(idx), 1) columns, so
    that ``score_arrays`` broadcasts them against profiles into a (vacancies, profiles) block."""

    def rows(a: np.ndarray) -> np.ndarray:
        return a[idx][:, None] if column else a[idx]

    return VacancyArrays(
        va.levels[idx],
        va.unit_ok[idx],
        rows(va.italian),
        rows(va.licence_bit),
        rows(va.lat),
        rows(va.lon),
        rows(va.shifts),
        [va.skill_codes[i] for i in idx.tolist()],
    )


def occupation_arrays(pa: ProfileArrays, va: VacancyArrays) -> tuple[np.ndarray, np.ndarray]:
    """(occupation part, same major group or no coded occupation), broadcast like scores."""
    eq = pa.codes == va.levels[:, None, :]  # (m, occ, 4)
    occ = np.where(
        eq[..., 3] & va.unit_ok[:, None], 1.0, np.where(eq[..., 2], 0.7, np.where(eq[..., 1], 0.4, 0.0))
    ).max(axis=1)
    return occ, eq[..., 0].any(axis=1) | ~pa.has_occ


def score_arrays(
    pa: ProfileArrays,
    va: VacancyArrays,
    skills_part: np.ndarray,
    weights: MatchWeights,
    max_km: float,
    occupation: tuple[np.ndarray, np.ndarray] | None = None,
    dist: np.ndarray | None = None,
) -> np.ndarray:
    """Scores (0-100) of profiles ``pa`` against vacancies ``va``, broadcast elementwise (one
    side has length 1); -inf where a hard constraint fails. Mirrors ``score_pair`` exactly
    (a test checks they agree). ``occupation`` and ``dist`` may be passed precomputed: many
    vacancies share a code or a comune."""
    occ, major_ok = occupation_arrays(pa, va) if occupation is None else occupation

    gap = va.italian - pa.italian
    lang = np.where(gap <= 0, 1.0, np.where(gap == 1, 0.5, 0.0))
    lic = (va.licence_bit == 0) | ((pa.licence_bits & va.licence_bit) != 0)

    if dist is None:
        dist = haversine_rad(pa.lat, pa.lon, va.lat, va.lon, pa.cos_lat)
    known = ~np.isnan(dist)
    dpart = np.where(known, np.maximum(0.0, 1.0 - np.nan_to_num(dist) / max_km), UNKNOWN_DISTANCE_PART)
    avail = np.where(pa.shifts | ~va.shifts, 1.0, 0.0)

    score = weighted_score(weights, occ, skills_part, lang, lic, dpart, avail)
    with np.errstate(invalid="ignore"):
        too_far = known & ((dist > pa.mobility) | (dist > max_km))
    ok = major_ok & (gap <= 1) & lic & ~too_far
    return np.where(ok, score, -np.inf)


def weighted_score(
    weights: MatchWeights,
    occ: np.ndarray,
    skills: np.ndarray,
    lang: np.ndarray,
    lic: np.ndarray,
    dpart: np.ndarray,
    avail: np.ndarray,
) -> np.ndarray:
    """The 0-100 score of the parts, rounded like ``score_pair``: the one formula both the
    scores and the pruning bounds go through, so a bound is never below a score it stands for
    (every step is a monotone IEEE operation)."""
    w = weights.as_dict()
    total = sum(w.values())
    score = (
        100.0
        * (
            w["occupation"] * occ
            + w["skills"] * skills
            + w["language"] * lang
            + w["licence"] * lic
            + w["distance"] * dpart
            + w["availability"] * avail
        )
        / total
    )
    return np.round(score, 2)


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best finite scores, best first, ties by input order (also at the k-th
    place: a partition alone would keep an arbitrary one of the tied)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) == 0 or k <= 0:
        return finite[:0]
    return _best(scores[finite], finite, k)


def coded_skills(pa: ProfileArrays, required: Sequence[str]) -> np.ndarray:
    """``coded_skills_part`` for every profile of ``pa`` at once: the share of ``required``
    (distinct codes, at least one) each holds; a code nobody holds counts as lacking."""
    rows = [pa.skill_index[c] for c in required if c in pa.skill_index]
    held = pa.held[rows].sum(axis=0, dtype=np.float64) if rows else np.zeros(pa.held.shape[1])
    return held / len(required)


# --- every vacancy's top k, pruned (issue 21) ------------------------------------------------------

_EMPTY = np.zeros(0, dtype=np.int64)
#: The occupation parts of ``occupation_arrays``, best first: one tier of profiles each.
_TIER_PARTS = (1.0, 0.7, 0.4, 0.0)


@dataclass(frozen=True, slots=True)
class OccupationIndex:
    """Who holds which code, level by level: ``holders[level][value]`` are the sorted indices of
    the profiles with an occupation whose ISCO level (0 major ... 3 unit group) is ``value``."""

    holders: tuple[dict[int, np.ndarray], ...]
    no_occ: np.ndarray  # profiles without a coded occupation: never excluded by occupation


def occupation_index(pa: ProfileArrays) -> OccupationIndex:
    """The holders of every level value, from the same integer levels ``occupation_arrays`` compares."""
    n = len(pa.has_occ)
    base = max(n, 1)
    rows = np.repeat(np.arange(n, dtype=np.int64), _MAX_OCC)
    holders: list[dict[int, np.ndarray]] = []
    for level in range(4):
        values = pa.codes[:, :, level].ravel()
        keep = values != _NO_CODE_P
        pairs = np.sort(values[keep] * base + rows[keep])  # by value, then profile
        pairs = pairs[np.diff(pairs, prepend=-1) != 0]  # each (value, profile) once
        value, who = np.divmod(pairs, base)
        distinct, first = np.unique(value, return_index=True)
        groups = np.split(who, first[1:]) if len(distinct) else []
        holders.append(dict(zip(distinct.tolist(), groups, strict=True)))
    return OccupationIndex(tuple(holders), np.flatnonzero(~pa.has_occ))


def occupation_tiers(ix: OccupationIndex, levels: np.ndarray, unit_ok: bool, allowed: np.ndarray) -> list[np.ndarray]:
    """The profiles of ``allowed`` (a boolean mask: the vacancy's major-group block) that pass
    the occupation constraint, split by the part ``occupation_arrays`` gives them, as in
    ``_TIER_PARTS``. A code shared at a level is shared at every level above it, so holders of
    the unit group are among those of the minor group, and so on."""
    unit = ix.holders[3].get(int(levels[3]), _EMPTY) if unit_ok else _EMPTY
    minor = ix.holders[2].get(int(levels[2]), _EMPTY)
    sub = ix.holders[1].get(int(levels[1]), _EMPTY)
    rest = np.zeros(len(allowed), dtype=bool)
    rest[ix.holders[0].get(int(levels[0]), _EMPTY)] = True
    rest[ix.no_occ] = True
    rest &= allowed
    rest[sub] = False
    tiers = [unit, np.setdiff1d(minor, unit, assume_unique=True), np.setdiff1d(sub, minor, assume_unique=True)]
    return [t[allowed[t]] for t in tiers] + [np.flatnonzero(rest)]


def tier_bounds(weights: MatchWeights, skills_max: float, located: bool) -> np.ndarray:
    """The best score a profile of each tier could reach for a vacancy (every other part at its
    best), through the scores' own formula; +inf (no pruning) if a weight is negative."""
    w = weights.as_dict().values()
    if min(w) < 0 or sum(w) <= 0:
        return np.full(len(_TIER_PARTS), np.inf)
    ones = np.ones(len(_TIER_PARTS))
    dist_max = max(1.0, UNKNOWN_DISTANCE_PART) if located else UNKNOWN_DISTANCE_PART
    return weighted_score(
        weights, np.array(_TIER_PARTS), ones * skills_max, ones, ones, ones * dist_max, ones
    )  # fmt: skip


#: Profile x vacancy cells scored at once for the head tiers: a few MB per temporary array.
_CHUNK_CELLS = 1 << 18


def _skills_block(
    pa: ProfileArrays, idx: np.ndarray, required: Sequence[tuple[str, ...]], uncoded: np.ndarray
) -> np.ndarray:
    """``coded_skills`` of the profiles ``idx`` for several vacancies at once, (vacancies, idx):
    the held rows of each vacancy's codes gathered and counted (a code nobody holds points at a
    row of zeros), then divided by the number required, as ``coded_skills`` does; ``uncoded``
    where nothing coded is required. No BLAS: its threads would spin on a shared machine."""
    out = np.repeat(uncoded[:, None], len(idx), axis=1)
    if not any(required):
        return out
    rows = sorted({pa.skill_index[c] for need in required for c in need if c in pa.skill_index})
    nobody = len(rows)
    held = np.zeros((nobody + 1, len(idx)), dtype=np.uint8)
    held[:nobody] = pa.held[np.ix_(np.asarray(rows, dtype=np.int64), idx)]
    where = {r: n for n, r in enumerate(rows)}
    pick = np.full((len(required), max(len(need) for need in required)), nobody, dtype=np.int64)
    for m, need in enumerate(required):
        pick[m, : len(need)] = [where.get(pa.skill_index.get(c, -1), nobody) for c in need]
    counts = held[pick].sum(axis=1, dtype=np.float64)
    coded = np.array([len(need) > 0 for need in required])
    lengths = np.array([max(1, len(need)) for need in required], dtype=np.float64)
    out[coded] = counts[coded] / lengths[coded, None]
    return out


def _best(scores: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """The k best of ``idx`` by score, ties by profile order (``top_indices`` on the full block)."""
    if len(scores) > k:
        cut = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = np.flatnonzero(scores >= cut)  # every profile tied with the k-th, not an arbitrary one
        scores, idx = scores[keep], idx[keep]
    return idx[np.lexsort((idx, -scores))][:k]


def _kth(parts: list[np.ndarray], found: int, k: int) -> float:
    """The k-th best score among ``parts`` (``found`` >= k of them)."""
    return float(np.partition(np.concatenate(parts), found - k)[found - k])


def top_k_indices(
    vacancies: Sequence[VacancyFacts],
    profiles: Sequence[ProfileFacts],
    k: int,
    weights: MatchWeights,
    max_km: float,
) -> list[np.ndarray]:
    """For each vacancy, the indices of its best k profiles, best first, ties by profile order:
    exactly what scoring every profile of its major-group block would give.

    Vacancies are taken code by code. The head tiers (same unit or minor group: where a
    vacancy's top k nearly always is) are scored for all the code's vacancies in one
    broadcast, in chunks of ``_CHUNK_CELLS``; the lower tiers (same sub-major group, then the
    rest of the block: most of it) one vacancy at a time, and only while their best possible
    score could still reach, or tie, the vacancy's k-th. Memory: the profile arrays, plus one
    code's tiers and one chunk at a time.
    """
    out = [_EMPTY] * len(vacancies)
    if k <= 0 or not profiles or not vacancies:
        return out
    pa = profile_arrays(profiles)
    va = vacancy_arrays(vacancies)
    ix = occupation_index(pa)
    majors, no_occ_only = _major_masks(profiles)
    uncoded = np.array([_uncoded_part(v) for v in vacancies])
    bounds_of: dict[tuple[float, bool], np.ndarray] = {}
    by_code: dict[str, list[int]] = {}
    for j, v in enumerate(vacancies):
        by_code.setdefault(v.occupation_code, []).append(j)

    for code, vidx in by_code.items():
        j0 = vidx[0]
        tiers = occupation_tiers(ix, va.levels[j0], bool(va.unit_ok[j0]), majors.get(code[:1], no_occ_only))
        head = np.concatenate(tiers[:2])
        head_occ = np.repeat(np.array(_TIER_PARTS[:2]), [len(tiers[0]), len(tiers[1])])
        head_cols = take_profiles(pa, head, columns_only=True)
        lower: dict[int, ProfileArrays] = {}
        step = max(1, _CHUNK_CELLS // max(1, len(head)))
        for c0 in range(0, len(vidx), step):
            chunk = np.array(vidx[c0 : c0 + step])
            many = take_vacancies(va, chunk, column=True)
            skills = _skills_block(pa, head, many.skill_codes, uncoded[chunk])
            block = score_arrays(head_cols, many, skills, weights, max_km, (head_occ, np.ones(len(head), dtype=bool)))
            for row, j in enumerate(chunk.tolist()):
                ok = np.isfinite(block[row])
                got_scores, got_idx = [block[row][ok]], [head[ok]]
                found = int(ok.sum())
                key = (1.0 if va.skill_codes[j] else float(uncoded[j]), not np.isnan(va.lat[j]))
                if key not in bounds_of:
                    bounds_of[key] = tier_bounds(weights, *key)
                for t in (2, 3):
                    if found >= k and _kth(got_scores, found, k) > bounds_of[key][t]:
                        break  # nobody further down can reach the k-th score, not even tie it
                    idx = tiers[t]
                    if len(idx) == 0:
                        continue
                    if t not in lower:
                        lower[t] = take_profiles(pa, idx, columns_only=True)
                    one = take_vacancies(va, np.array([j]))
                    skills_t = _skills_block(pa, idx, [va.skill_codes[j]], uncoded[[j]])[0]
                    occupation = (np.full(len(idx), _TIER_PARTS[t]), np.ones(len(idx), dtype=bool))
                    scores = score_arrays(lower[t], one, skills_t, weights, max_km, occupation)
                    ok_t = np.isfinite(scores)
                    got_scores.append(scores[ok_t])
                    got_idx.append(idx[ok_t])
                    found += int(ok_t.sum())
                if found:
                    out[j] = _best(np.concatenate(got_scores), np.concatenate(got_idx), k)
    return out


def _major_masks(profiles: Sequence[ProfileFacts]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """ISCO major group (first character) → the profiles of its block: those holding a code of
    the group, and those with no coded occupation, whom every block includes (alone, the block
    of a group nobody holds)."""
    n = len(profiles)
    members: dict[str, list[int]] = {}
    no_occ: list[int] = []
    for i, p in enumerate(profiles):
        if not p.occupations:
            no_occ.append(i)
        for major in {c[:1] for c in p.occupations if c}:
            members.setdefault(major, []).append(i)
    alone = np.zeros(n, dtype=bool)
    alone[no_occ] = True
    masks: dict[str, np.ndarray] = {}
    for major, who in members.items():
        mask = alone.copy()
        mask[who] = True
        masks[major] = mask
    return masks, alone
