"""Match scoring between a person's profile and a vacancy (docs/ARCHITECTURE.md#matching).

Hard constraints filter first; the score is a weighted sum of parts, each 0-1, stored with
``SCORING_VERSION`` so an operator sees *why*. Skills are compared as codes of config/skills.yaml
(the share of a vacancy's coded requirements the person holds, named in the explanation by their
Italian labels); requirements that name nothing of the list ("esperienza nel ruolo") are left to
the operator, neither rewarded nor punished. ``score_pair`` is the reference implementation; the
top-k functions compute the very same numbers with numpy arrays over blocks of profiles and
vacancies that share an ISCO major group (:mod:`tasks.matching.vectorised`, imported when they
run: a flow run starts without numpy), and only build Python objects for the winners.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from models.enums import Cefr, Licence

__all__ = [
    "DEFAULT_MAX_KM",
    "LICENCE_LABEL",
    "SCORING_VERSION",
    "MatchResult",
    "MatchWeights",
    "ProfileFacts",
    "VacancyFacts",
    "coded_skills_part",
    "configured_matching",
    "explain",
    "hard_constraints",
    "haversine_km",
    "licence_satisfies",
    "occupation_similarity",
    "score_pair",
    "top_k_all_vacancies",
    "top_k_for_profile",
    "top_k_for_vacancy",
]

SCORING_VERSION = "match-v2"  # v2: skills compared as codes of config/skills.yaml
DEFAULT_MAX_KM = 50.0
UNKNOWN_DISTANCE_PART = 0.5  # neither rewarded nor punished when a location is missing
UNCODED_SKILLS_PART = 0.5  # the same when the requirements name nothing of config/skills.yaml

# Exclusion reasons (stable codes, stored with the match).
ITALIAN_TOO_LOW = "italian_below_required"
LICENCE_MISSING = "licence_missing"
BEYOND_MOBILITY = "beyond_mobility_radius"
BEYOND_MAX_KM = "beyond_max_km"
OTHER_MAJOR_GROUP = "occupation_other_major_group"


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """What matching knows about a person (no names, no contacts: docs/ARCHITECTURE.md#privacy)."""

    case_code: str
    occupations: tuple[str, ...] = ()  # ISCO-08 codes, best first
    skills: tuple[str, ...] = ()
    italian: Cefr = Cefr.PRE_A1
    licence: Licence = Licence.NONE
    lat: float | None = None
    lon: float | None = None
    mobility_km: float = DEFAULT_MAX_KM
    availability: str = "full_time"
    shifts: bool = False
    #: codes of config/skills.yaml held, with what they imply (tasks/matching/facts.py expands them)
    skill_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VacancyFacts:
    vacancy_code: str
    occupation_code: str
    skills: tuple[str, ...] = ()  # the requirements as written
    italian_required: Cefr = Cefr.PRE_A1
    licence_required: Licence = Licence.NONE
    lat: float | None = None
    lon: float | None = None
    shifts_required: bool = False
    #: the requirements coded to config/skills.yaml (tasks/matching/skills.py)
    skill_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchWeights:
    occupation: float = 0.40
    skills: float = 0.15
    language: float = 0.20
    licence: float = 0.05
    distance: float = 0.10
    availability: float = 0.10

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in PARTS}  # the fields, in order


PARTS = ("occupation", "skills", "language", "licence", "distance", "availability")


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Score 0-100 (0 when excluded), its parts (0-1 each) and the exclusion reasons."""

    score: float
    parts: dict[str, float]
    excluded: list[str] = field(default_factory=list)
    version: str = SCORING_VERSION


# --- single-pair reference --------------------------------------------------------------------

# Which required licence each held licence satisfies (C, CE and D presuppose B).
_SATISFIES: dict[Licence, frozenset[Licence]] = {
    Licence.NONE: frozenset(),
    Licence.B: frozenset({Licence.B}),
    Licence.C: frozenset({Licence.B, Licence.C}),
    Licence.CE: frozenset({Licence.B, Licence.C, Licence.CE}),
    Licence.D: frozenset({Licence.B, Licence.D}),
    Licence.FORKLIFT: frozenset({Licence.FORKLIFT}),
}
_LIC_BIT = {lic: 1 << i for i, lic in enumerate(Licence)}
#: ``Cefr.rank`` looked up once: the property rebuilds the member list on every call, and a
#: ranking scores a pair per winner (issue 21).
CEFR_RANK: dict[Cefr, int] = {c: i for i, c in enumerate(Cefr)}


def licence_satisfies(have: Licence, need: Licence) -> bool:
    """True when ``have`` allows the work that requires ``need``."""
    return need == Licence.NONE or need in _SATISFIES[have]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (good to <0.5% at provincial scale)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _distance(p: ProfileFacts, v: VacancyFacts) -> float | None:
    if p.lat is None or p.lon is None or v.lat is None or v.lon is None:
        return None
    return haversine_km(p.lat, p.lon, v.lat, v.lon)


def _common_prefix_len(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def occupation_similarity(profile_codes: Sequence[str], vacancy_code: str) -> float:
    """1.0 same unit group, 0.7 same minor group, 0.4 same sub-major group, else 0."""
    best = 0.0
    for code in profile_codes:
        shared = _common_prefix_len(code, vacancy_code)
        if shared >= 4 and len(code) == len(vacancy_code):
            return 1.0
        best = max(best, 0.7 if shared >= 3 else 0.4 if shared >= 2 else 0.0)
    return best


def coded_skills_part(held: Sequence[str], required: Sequence[str]) -> float:
    """Share of the required skill codes the person holds (1.0 when none is required)."""
    need = set(required)
    return len(need & set(held)) / len(need) if need else 1.0


def _asks_uncoded(v: VacancyFacts) -> bool:
    """Requirements written, none of them in config/skills.yaml: for the operator to judge."""
    return not v.skill_codes and any(s.strip() for s in v.skills)


def _uncoded_part(v: VacancyFacts) -> float:
    """The skills part of a vacancy with no coded requirement: the same for every person."""
    return UNCODED_SKILLS_PART if _asks_uncoded(v) else 1.0


def _skills_part(p: ProfileFacts, v: VacancyFacts) -> float:
    return coded_skills_part(p.skill_codes, v.skill_codes) if v.skill_codes else _uncoded_part(v)


def _language_part(have: Cefr, need: Cefr) -> float:
    gap = CEFR_RANK[need] - CEFR_RANK[have]
    return 1.0 if gap <= 0 else 0.5 if gap == 1 else 0.0


def hard_constraints(p: ProfileFacts, v: VacancyFacts, max_km: float = DEFAULT_MAX_KM) -> list[str]:
    """Reasons that exclude the pair outright (empty list = may be scored).

    A missing location never excludes (distance unknown); a profile without coded occupations
    is not excluded by occupation either, so new people are not invisible to operators.
    """
    reasons: list[str] = []
    if CEFR_RANK[v.italian_required] - CEFR_RANK[p.italian] > 1:
        reasons.append(ITALIAN_TOO_LOW)
    if not licence_satisfies(p.licence, v.licence_required):
        reasons.append(LICENCE_MISSING)
    d = _distance(p, v)
    if d is not None:
        if d > p.mobility_km:
            reasons.append(BEYOND_MOBILITY)
        if d > max_km:
            reasons.append(BEYOND_MAX_KM)
    if p.occupations and not any(c[:1] == v.occupation_code[:1] for c in p.occupations):
        reasons.append(OTHER_MAJOR_GROUP)
    return reasons


@lru_cache(maxsize=8)
def _weight_values(weights: MatchWeights) -> tuple[tuple[float, ...], float]:
    """The weights in ``PARTS`` order and their total: a ranking scores a pair per winner."""
    w = weights.as_dict()
    return tuple(w[k] for k in PARTS), sum(w.values())


def _weighted(parts: dict[str, float], weights: MatchWeights) -> float:
    w, total = _weight_values(weights)
    return round(100.0 * sum(wk * parts[k] for k, wk in zip(PARTS, w, strict=True)) / total, 2)


def score_pair(
    p: ProfileFacts,
    v: VacancyFacts,
    weights: MatchWeights = MatchWeights(),
    max_km: float = DEFAULT_MAX_KM,
) -> MatchResult:
    """Reference score of one pair; 0 with reasons when a hard constraint fails."""
    d = _distance(p, v)
    parts = {
        "occupation": occupation_similarity(p.occupations, v.occupation_code),
        "skills": _skills_part(p, v),
        "language": _language_part(p.italian, v.italian_required),
        "licence": 1.0 if licence_satisfies(p.licence, v.licence_required) else 0.0,
        "distance": UNKNOWN_DISTANCE_PART if d is None else max(0.0, 1.0 - d / max_km),
        "availability": 0.0 if (v.shifts_required and not p.shifts) else 1.0,
    }
    excluded = hard_constraints(p, v, max_km)
    score = 0.0 if excluded else _weighted(parts, weights)
    return MatchResult(score, parts, excluded)


# How operators name each licence (the enum values are codes, "forklift" is not Italian).
LICENCE_LABEL: dict[Licence, str] = {
    Licence.NONE: "nessuna patente",
    Licence.B: "patente B",
    Licence.C: "patente C",
    Licence.CE: "patente CE",
    Licence.D: "patente D",
    Licence.FORKLIFT: "patentino muletto",
}


def configured_matching() -> tuple[MatchWeights, float, int]:
    """Weights, maximum distance (km) and k from config/routing.yaml, so operators tune
    matching without a release; refuses a config whose version is not this code's."""
    from config.data import load_routing  # local: keeps this module importable without config

    rules = load_routing().matching
    if rules.version != SCORING_VERSION:
        raise ValueError(
            f"config/routing.yaml, matching.version: {rules.version!r} non corrisponde alla versione "
            f"del calcolo {SCORING_VERSION!r}; aggiornare il file o il codice insieme"
        )
    return MatchWeights(**rules.weights.model_dump()), float(rules.max_distance_km), rules.top_k


def explain(parts: dict[str, float], p: ProfileFacts, v: VacancyFacts, max_km: float = DEFAULT_MAX_KM) -> str:
    """Italian one-liner for operators, built only from the stored parts and the facts."""
    out: list[str] = []
    occ = parts["occupation"]
    code = v.occupation_code
    if occ >= 1.0:
        out.append(f"stessa mansione (ISCO {code})")
    elif occ >= 0.7:
        out.append(f"mansione affine (stesso gruppo ISCO {code[:3]})")
    elif occ >= 0.4:
        out.append(f"stesso settore (ISCO {code[:2]})")
    else:
        out.append(f"mansione diversa (richiesta ISCO {code})")

    out.append(_explain_skills(parts["skills"], p, v))

    lang = parts["language"]
    have, need = p.italian.value, v.italian_required.value
    if v.italian_required is Cefr.PRE_A1:
        out.append("nessun requisito di italiano")
    elif lang >= 1.0:
        out.append(f"italiano {have} ≥ {need} richiesto")
    elif lang >= 0.5:
        out.append(f"italiano {have}, un livello sotto {need} richiesto")
    else:
        out.append(f"italiano {have} insufficiente ({need} richiesto)")

    if v.licence_required == Licence.NONE:
        out.append("patente non richiesta")
    elif parts["licence"] >= 1.0:
        out.append(f"{LICENCE_LABEL[v.licence_required]} ok")
    else:
        out.append(f"{LICENCE_LABEL[v.licence_required]} mancante")

    d = _distance(p, v)
    if d is None:
        out.append("distanza non nota")
    else:
        out.append(f"{round(d)} km")

    if v.shifts_required:
        out.append("disponibile ai turni" if parts["availability"] >= 1.0 else "non disponibile ai turni")
    return ", ".join(out)


#: Skills named in an explanation, at most: the line stays readable in a shortlist.
_NAMED_SKILLS = 4


def _listing(labels: Sequence[str]) -> str:
    """Labels joined by semicolons: the explanation's own parts are separated by commas."""
    shown = "; ".join(labels[:_NAMED_SKILLS])
    return shown + (f" e altre {len(labels) - _NAMED_SKILLS}" if len(labels) > _NAMED_SKILLS else "")


def _explain_skills(part: float, p: ProfileFacts, v: VacancyFacts) -> str:
    """The skills part in words: which coded requirements the person holds and lacks, by label."""
    if not v.skill_codes:
        if _asks_uncoded(v):
            return f"requisiti fuori elenco, da valutare ({_listing([s.strip() for s in v.skills if s.strip()])})"
        return "nessuna competenza specifica richiesta"
    from config.skills import load_skills  # local, like configured_matching: labels live in config

    label = load_skills().label
    required = list(dict.fromkeys(v.skill_codes))
    held = set(p.skill_codes)
    have = [label(c) for c in required if c in held]
    lack = [label(c) for c in required if c not in held]
    if not lack:
        return f"competenze richieste: tutte presenti ({_listing(have)})"
    if not have:
        return f"competenze richieste: nessuna presente (mancano {_listing(lack)})"
    return f"competenze in comune {len(have)} su {len(required)}: {_listing(have)} (mancano {_listing(lack)})"


# --- vectorised top-k (numpy: tasks/matching/vectorised.py) ----------------------------------------


def top_k_for_vacancy(
    vacancy: VacancyFacts,
    profiles: Sequence[ProfileFacts],
    k: int = 10,
    weights: MatchWeights = MatchWeights(),
    max_km: float = DEFAULT_MAX_KM,
) -> list[tuple[ProfileFacts, MatchResult]]:
    """Best k profiles for one vacancy, best first, as (profile, result); never excluded ones.

    ``explain(result.parts, profile, vacancy)`` gives the operator text for each row.
    """
    return top_k_all_vacancies([vacancy], profiles, k, weights, max_km)[vacancy.vacancy_code]


def top_k_all_vacancies(
    vacancies: Sequence[VacancyFacts],
    profiles: Sequence[ProfileFacts],
    k: int = 10,
    weights: MatchWeights = MatchWeights(),
    max_km: float = DEFAULT_MAX_KM,
) -> dict[str, list[tuple[ProfileFacts, MatchResult]]]:
    """Best k (profile, result) for each vacancy, keyed by vacancy code.

    Ranked in numpy (``tasks.matching.vectorised.top_k_indices``: profiles in tiers by how near
    their occupation is, lower tiers skipped once they cannot reach a vacancy's k-th score;
    the same ranking as scoring every profile of the ISCO major group), then each winner is
    scored by ``score_pair``, so what is stored and explained is the reference result.
    """
    from tasks.matching.vectorised import top_k_indices

    ranked = top_k_indices(vacancies, profiles, k, weights, max_km)
    out: dict[str, list[tuple[ProfileFacts, MatchResult]]] = {}
    for v, idx in zip(vacancies, ranked, strict=True):
        winners = [profiles[i] for i in idx.tolist()]
        out[v.vacancy_code] = [(p, score_pair(p, v, weights, max_km)) for p in winners]
    return out


def top_k_for_profile(
    profile: ProfileFacts,
    vacancies: Sequence[VacancyFacts],
    k: int = 10,
    weights: MatchWeights = MatchWeights(),
    max_km: float = DEFAULT_MAX_KM,
) -> list[tuple[VacancyFacts, MatchResult]]:
    """Best k (vacancy, result) for one person; other major groups are never scored."""
    import numpy as np

    from tasks.matching.vectorised import profile_arrays, score_arrays, top_indices, vacancy_arrays

    majors = {c[:1] for c in profile.occupations if c}
    cand = [j for j, v in enumerate(vacancies) if not majors or v.occupation_code[:1] in majors]
    if not cand:
        return []
    sub = [vacancies[j] for j in cand]
    pa = profile_arrays([profile])
    va = vacancy_arrays(sub)
    skills = np.array([_skills_part(profile, v) for v in sub], dtype=np.float64)
    scores = score_arrays(pa, va, skills, weights, max_km)
    winners = [sub[t] for t in top_indices(scores, k)]
    return [(v, score_pair(profile, v, weights, max_km)) for v in winners]
