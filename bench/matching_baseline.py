"""The matching of issue 6 as it stood before issue 21's pruning, frozen: bench/bench_matching.py
runs it side by side with today's code, so the ratio compares the same work on the same busy
machine. A copy (not an import) of tasks/matching/vectorised.py and ``top_k_all_vacancies`` of
that time: changes to the live code do not move the baseline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.enums import Licence
from tasks.matching.scoring import (
    _LIC_BIT,
    _SATISFIES,
    UNKNOWN_DISTANCE_PART,
    MatchResult,
    MatchWeights,
    ProfileFacts,
    VacancyFacts,
    _uncoded_part,
    score_pair,
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
    for i, p in enumerate(profiles):
        for j, c in enumerate(p.occupations[:_MAX_OCC]):
            codes[i, j] = _code_levels(c, _NO_CODE_P)
    bits = np.array([sum(_LIC_BIT[x] for x in _SATISFIES[p.licence]) for p in profiles], dtype=np.int64)
    lat = np.array([np.nan if p.lat is None or p.lon is None else p.lat for p in profiles])
    lon = np.array([np.nan if p.lat is None or p.lon is None else p.lon for p in profiles])
    return ProfileArrays(
        codes=codes,
        has_occ=np.array([bool(p.occupations) for p in profiles], dtype=bool),
        italian=np.array([p.italian.rank for p in profiles], dtype=np.int64),
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
        italian=np.array([v.italian_required.rank for v in vacancies], dtype=np.int64),
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


def take_profiles(pa: ProfileArrays, idx: np.ndarray) -> ProfileArrays:
    """The rows ``idx`` of ``pa``: one block of profiles."""
    return ProfileArrays(
        pa.codes[idx],
        pa.has_occ[idx],
        pa.italian[idx],
        pa.licence_bits[idx],
        pa.lat[idx],
        pa.lon[idx],
        pa.mobility[idx],
        pa.shifts[idx],
        pa.cos_lat[idx],
        np.ascontiguousarray(pa.held[:, idx]),
        pa.skill_index,
    )


def take_vacancies(va: VacancyArrays, idx: np.ndarray) -> VacancyArrays:
    """The rows ``idx`` of ``va``."""
    return VacancyArrays(
        va.levels[idx],
        va.unit_ok[idx],
        va.italian[idx],
        va.licence_bit[idx],
        va.lat[idx],
        va.lon[idx],
        va.shifts[idx],
        [va.skill_codes[i] for i in idx],
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

    w = weights.as_dict()
    total = sum(w.values())
    score = (
        100.0
        * (
            w["occupation"] * occ
            + w["skills"] * skills_part
            + w["language"] * lang
            + w["licence"] * lic
            + w["distance"] * dpart
            + w["availability"] * avail
        )
        / total
    )
    score = np.round(score, 2)
    with np.errstate(invalid="ignore"):
        too_far = known & ((dist > pa.mobility) | (dist > max_km))
    ok = major_ok & (gap <= 1) & lic & ~too_far
    return np.where(ok, score, -np.inf)


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best finite scores, best first, ties by input order."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) == 0 or k <= 0:
        return finite[:0]
    kk = min(k, len(finite))
    part = finite[np.argpartition(-scores[finite], kk - 1)[:kk]] if kk < len(finite) else finite
    return part[np.lexsort((part, -scores[part]))]


def coded_skills(pa: ProfileArrays, required: Sequence[str]) -> np.ndarray:
    """``coded_skills_part`` for every profile of ``pa`` at once: the share of ``required``
    (distinct codes, at least one) each holds; a code nobody holds counts as lacking."""
    rows = [pa.skill_index[c] for c in required if c in pa.skill_index]
    held = pa.held[rows].sum(axis=0, dtype=np.float64) if rows else np.zeros(pa.held.shape[1])
    return held / len(required)


def _profile_major_index(profiles: Sequence[ProfileFacts]) -> dict[str, list[int]]:
    """Major group → profile indices; profiles with no occupation go under every group."""
    by_major: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(profiles):
        for major in {c[:1] for c in p.occupations if c}:
            by_major[major].append(i)
    return by_major


def baseline_top_k_all_vacancies(
    vacancies: Sequence[VacancyFacts],
    profiles: Sequence[ProfileFacts],
    k: int = 10,
    weights: MatchWeights | None = None,
    max_km: float = 50.0,
) -> dict[str, list[tuple[ProfileFacts, MatchResult]]]:
    """Every vacancy scored against its whole ISCO major-group block, then its top k."""
    weights = weights or MatchWeights()
    pa = profile_arrays(profiles)
    va = vacancy_arrays(vacancies)
    by_major = _profile_major_index(profiles)
    no_occ = [i for i, p in enumerate(profiles) if not p.occupations]
    vac_by_major: dict[str, list[int]] = defaultdict(list)
    for j, v in enumerate(vacancies):
        vac_by_major[v.occupation_code[:1]].append(j)

    out: dict[str, list[tuple[ProfileFacts, MatchResult]]] = {v.vacancy_code: [] for v in vacancies}
    for major, vidx in vac_by_major.items():
        idx = np.asarray(sorted(set(by_major.get(major, [])) | set(no_occ)), dtype=np.int64)
        if len(idx) == 0:
            continue
        block = take_profiles(pa, idx)
        occ_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        dist_cache: dict[tuple[float, float], np.ndarray] = {}
        for j in vidx:
            one = take_vacancies(va, np.array([j]))
            code = vacancies[j].occupation_code
            if code not in occ_cache:
                occ_cache[code] = occupation_arrays(block, one)
            where = (float(one.lat[0]), float(one.lon[0]))
            if where not in dist_cache:
                if len(dist_cache) > 512:
                    dist_cache.clear()
                dist_cache[where] = haversine_rad(block.lat, block.lon, one.lat, one.lon, block.cos_lat)
            v = vacancies[j]
            skills = (
                coded_skills(block, va.skill_codes[j]) if va.skill_codes[j] else np.full(len(idx), _uncoded_part(v))
            )
            scores = score_arrays(block, one, skills, weights, max_km, occ_cache[code], dist_cache[where])
            winners = [profiles[int(idx[t])] for t in top_indices(scores, k)]
            out[v.vacancy_code] = [(p, score_pair(p, v, weights, max_km)) for p in winners]
    return out
