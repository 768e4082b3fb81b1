"""The pruned ranking of tasks/matching/vectorised.py (issue 21): occupation tiers, their bounds,
and top-k equal to scoring every profile of the block, ties included (docs/ARCHITECTURE.md#matching)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tasks.matching.vectorised as vz
from models.enums import Cefr, Licence
from tasks.matching.scoring import (
    PARTS,
    MatchWeights,
    ProfileFacts,
    VacancyFacts,
    _uncoded_part,
    score_pair,
    top_k_all_vacancies,
)

#: Comuni of the province (and Milan, beyond most radii), as operators' profiles locate people.
PLACES = {
    "Bergamo": (45.6983, 9.6773),
    "Dalmine": (45.6469, 9.6054),
    "Seriate": (45.6847, 9.7235),
    "Treviglio": (45.5214, 9.5927),
    "Verdellino": (45.6025, 9.6075),
    "Romano di Lombardia": (45.5178, 9.7540),
    "Clusone": (45.8873, 9.9466),
    "Lovere": (45.8136, 10.0697),
    "San Pellegrino Terme": (45.8358, 9.6658),
    "Milano": (45.4642, 9.1900),
}
#: ISCO-08 codes of the jobs Bergamo's members post, a few coded only to the minor or sub-major
#: group (an operator unsure of the unit group), so every level of the similarity shows up.
ISCO = [
    "7212",  # saldatori
    "7214",  # carpentieri metallici
    "7213",  # lattonieri
    "7223",  # attrezzisti di macchine utensili
    "7231",  # meccanici di autoveicoli
    "8211",  # montatori di macchinari
    "8344",  # carrellisti
    "9329",  # manovali dell'industria
    "9333",  # addetti al carico e scarico
    "5120",  # cuochi
    "9412",  # aiuto cuochi
    "5322",  # assistenti familiari
    "7112",  # muratori
    "721",
    "72",
]
SKILLS = [
    "saldatura.tig",
    "saldatura.mig-mag",
    "meccanica.disegno-tecnico",
    "abilitazioni.carrello-elevatore",
    "sicurezza.generale",
    "sicurezza.rischio-alto",
    "ristorazione.haccp",
    "cura.assistente-familiare",
    "patenti.b",
    "lingua.uk",
]
#: The routing.yaml weights, then operators' other plausible tunings: occupation not counted at
#: all (every tier can tie the best), distance first, skills first.
WEIGHTS = [
    MatchWeights(),
    MatchWeights(occupation=0.0, skills=0.3, language=0.3, licence=0.1, distance=0.2, availability=0.1),
    MatchWeights(occupation=0.1, skills=0.1, language=0.1, licence=0.0, distance=0.6, availability=0.1),
    MatchWeights(occupation=0.2, skills=0.5, language=0.1, licence=0.05, distance=0.1, availability=0.05),
]

_place = st.one_of(st.none(), st.sampled_from(sorted(PLACES)))


@st.composite
def _profile(draw: st.DrawFn, i: int) -> ProfileFacts:
    where = draw(_place)
    lat, lon = PLACES[where] if where else (None, None)
    return ProfileFacts(
        f"BG-2026-{i + 1:06d}",
        tuple(draw(st.lists(st.sampled_from(ISCO), max_size=3, unique=True))),
        (),
        draw(st.sampled_from(list(Cefr))),
        draw(st.sampled_from(list(Licence))),
        lat,
        lon,
        draw(st.sampled_from([10.0, 25.0, 50.0])),
        "full_time",
        draw(st.booleans()),
        tuple(draw(st.lists(st.sampled_from(SKILLS), max_size=4, unique=True))),
    )


@st.composite
def _vacancy(draw: st.DrawFn, j: int) -> VacancyFacts:
    where = draw(_place)
    lat, lon = PLACES[where] if where else (None, None)
    coded = tuple(draw(st.lists(st.sampled_from([*SKILLS, "saldatura.robot"]), max_size=3, unique=True)))
    uncoded = not coded and draw(st.booleans())  # a requirement nobody could code
    written: tuple[str, ...] = ("esperienza nel ruolo",) if uncoded else ()
    return VacancyFacts(
        f"VAC-2026-{j + 1:05d}",
        draw(st.sampled_from(ISCO[:-2])),
        written,
        draw(st.sampled_from(list(Cefr)[:5])),
        draw(st.sampled_from(list(Licence))),
        lat,
        lon,
        draw(st.booleans()),
        coded,
    )


@st.composite
def _pool(draw: st.DrawFn) -> tuple[list[ProfileFacts], list[VacancyFacts], int, MatchWeights, float]:
    profiles = [draw(_profile(i)) for i in range(draw(st.integers(0, 60)))]
    vacancies = [draw(_vacancy(j)) for j in range(draw(st.integers(1, 5)))]
    return (
        profiles,
        vacancies,
        draw(st.integers(1, 12)),
        draw(st.sampled_from(WEIGHTS)),
        draw(st.sampled_from([20.0, 50.0])),
    )


def _in_block(p: ProfileFacts, v: VacancyFacts) -> bool:
    """Scored for ``v`` at all: a code of its ISCO major group, or no coded occupation."""
    return not p.occupations or v.occupation_code[:1] in {c[:1] for c in p.occupations}


def unpruned_top_k(
    vacancies: list[VacancyFacts], profiles: list[ProfileFacts], k: int, weights: MatchWeights, max_km: float
) -> list[list[int]]:
    """Every profile of the vacancy's block scored (the ranking before issue 21), best k kept."""
    pa, va = vz.profile_arrays(profiles), vz.vacancy_arrays(vacancies)
    out: list[list[int]] = []
    for j, v in enumerate(vacancies):
        block = np.array([i for i, p in enumerate(profiles) if _in_block(p, v)], dtype=np.int64)
        if len(block) == 0:
            out.append([])
            continue
        sub, one = vz.take_profiles(pa, block), vz.take_vacancies(va, np.array([j]))
        skills = vz.coded_skills(sub, va.skill_codes[j]) if va.skill_codes[j] else np.full(len(block), _uncoded_part(v))
        scores = vz.score_arrays(sub, one, skills, weights, max_km)
        out.append(block[vz.top_indices(scores, k)].tolist())
    return out


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_pool())
def test_pruned_top_k_is_the_unpruned_top_k(pool: tuple[list, list, int, MatchWeights, float]) -> None:
    profiles, vacancies, k, weights, max_km = pool
    pruned = [idx.tolist() for idx in vz.top_k_indices(vacancies, profiles, k, weights, max_km)]
    assert pruned == unpruned_top_k(vacancies, profiles, k, weights, max_km)
    # and the reference: score_pair on every pair, excluded pairs dropped, ties by profile order
    for v, idx in zip(vacancies, pruned, strict=True):
        ranked = sorted(
            ((r.score, i) for i, p in enumerate(profiles) if not (r := score_pair(p, v, weights, max_km)).excluded),
            key=lambda x: (-x[0], x[1]),
        )
        assert idx == [i for _, i in ranked[:k]]


def _welder(i: int, occupations: tuple[str, ...], where: str = "Dalmine", **kw: object) -> ProfileFacts:
    lat, lon = PLACES[where]
    base: dict[str, object] = {
        "case_code": f"BG-2026-{i:06d}",
        "occupations": occupations,
        "italian": Cefr.B1,
        "licence": Licence.B,
        "lat": lat,
        "lon": lon,
        "mobility_km": 30.0,
        "shifts": True,
        "skill_codes": ("saldatura.tig", "sicurezza.generale"),
    }
    base.update(kw)
    return ProfileFacts(**base)  # type: ignore[arg-type]


WELDING_JOB = VacancyFacts(
    "VAC-2026-00001",
    "7212",
    ("saldatura TIG",),
    Cefr.A2,
    Licence.B,
    *PLACES["Dalmine"],
    shifts_required=True,
    skill_codes=("saldatura.tig",),
)


def test_lower_tiers_are_skipped_once_the_top_k_is_settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten welders at the workplace: nobody of another unit group can reach them, so only they
    are scored, not the labourers and cooks of the block."""
    welders = [_welder(i, ("7212",)) for i in range(10)]
    others = [_welder(100 + i, (code,)) for i, code in enumerate(["7214", "7231", "7112", "9329", "8344"] * 40)]
    newcomers = [_welder(500 + i, ()) for i in range(100)]  # no coded occupation: in every block
    scored: list[int] = []
    real = vz.score_arrays

    def counting(pa: vz.ProfileArrays, *args: object, **kw: object) -> np.ndarray:
        scored.append(len(pa.lat))
        return real(pa, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(vz, "score_arrays", counting)
    profiles = others[:100] + welders + others[100:] + newcomers
    ranked = top_k_all_vacancies([WELDING_JOB], profiles, k=10)[WELDING_JOB.vacancy_code]
    assert [p.case_code for p, _ in ranked] == [p.case_code for p in welders]
    assert sum(scored) <= 10 + 40  # the welders and the sheet-metal workers (same minor group 721)


def test_a_lower_tier_tying_the_kth_score_still_comes_first_by_profile_order() -> None:
    """With occupation weighing nothing, a newcomer scores exactly like a welder: listed before
    the welders, she takes the last place, as scoring everyone would decide."""
    weights = MatchWeights(occupation=0.0, skills=0.3, language=0.3, licence=0.1, distance=0.2, availability=0.1)
    newcomer = _welder(1, ())
    welders = [_welder(2 + i, ("7212",)) for i in range(3)]
    rows = top_k_all_vacancies([WELDING_JOB], [newcomer, *welders], k=3, weights=weights)[WELDING_JOB.vacancy_code]
    assert [p.case_code for p, _ in rows] == [newcomer.case_code, welders[0].case_code, welders[1].case_code]
    assert len({r.score for _, r in rows}) == 1


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(st.lists(st.sampled_from(ISCO), max_size=3, unique=True), min_size=1, max_size=40), st.sampled_from(ISCO)
)
def test_tiers_split_the_block_by_occupation_part(held: list[list[str]], code: str) -> None:
    profiles = [_welder(i, tuple(codes)) for i, codes in enumerate(held)]
    pa = vz.profile_arrays(profiles)
    va = vz.vacancy_arrays([VacancyFacts("VAC-2026-00001", code)])
    allowed = np.array([_in_block(p, VacancyFacts("VAC-2026-00001", code)) for p in profiles])
    tiers = vz.occupation_tiers(vz.occupation_index(pa), va.levels[0], bool(va.unit_ok[0]), allowed)
    occ, major_ok = vz.occupation_arrays(pa, va)
    for part, tier in zip(vz._TIER_PARTS, tiers, strict=True):
        assert tier.tolist() == np.flatnonzero(allowed & major_ok & (occ == part)).tolist()


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("located", [True, False])
def test_tier_bounds_are_the_best_score_reachable(weights: MatchWeights, located: bool) -> None:
    """The best-placed welder (same unit group, everything met, at the workplace) scores the
    first bound exactly: bounds are not loose guesses."""
    lat, lon = PLACES["Seriate"] if located else (None, None)
    v = VacancyFacts("VAC-2026-00002", "7212", (), Cefr.A2, Licence.B, lat, lon, True, ("saldatura.tig",))
    best = score_pair(_welder(1, ("7212",), "Seriate"), v, weights).score
    bounds = vz.tier_bounds(weights, 1.0, located)
    assert bounds[0] == best
    assert list(bounds) == sorted(bounds, reverse=True)


def test_weights_are_read_in_parts_order() -> None:
    assert tuple(f.name for f in fields(MatchWeights)) == PARTS
