"""Match scoring: hard constraints, parts, explanation, vectorised top-k (docs/ARCHITECTURE.md#matching)."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.enums import Cefr, Licence
from tasks.matching.scoring import (
    LICENCE_LABEL,
    PARTS,
    SCORING_VERSION,
    MatchResult,
    MatchWeights,
    ProfileFacts,
    VacancyFacts,
    configured_matching,
    explain,
    hard_constraints,
    haversine_km,
    licence_satisfies,
    occupation_similarity,
    score_pair,
    top_k_all_vacancies,
    top_k_for_profile,
    top_k_for_vacancy,
)

#: Real codes of config/skills.yaml: the explanation names them by their Italian labels.
_SKILL_CODES = [
    "saldatura.tig",
    "saldatura.mig-mag",
    "abilitazioni.carrello-elevatore",
    "ristorazione.haccp",
    "meccanica.disegno-tecnico",
    "logistica.picking",
    "patenti.b",
    "lingua.en",
]
BERGAMO = (45.6983, 9.6773)
DALMINE = (45.6469, 9.6054)  # ~8 km from Bergamo
CLUSONE = (45.8873, 9.9466)  # ~30 km
MILANO = (45.4642, 9.1900)  # ~46 km


def prof(code: str = "C1", occ: tuple[str, ...] = ("7212",), **kw: object) -> ProfileFacts:
    base: dict[str, object] = {
        "case_code": code,
        "occupations": occ,
        "skills": ("saldatura tig",),
        "italian": Cefr.A2,
        "licence": Licence.B,
        "lat": BERGAMO[0],
        "lon": BERGAMO[1],
        "mobility_km": 30.0,
        "availability": "full_time",
        "shifts": True,
    }
    base.update(kw)
    return ProfileFacts(**base)  # type: ignore[arg-type]


def vac(code: str = "V1", occ: str = "7212", **kw: object) -> VacancyFacts:
    base: dict[str, object] = {
        "vacancy_code": code,
        "occupation_code": occ,
        "skills": ("saldatura tig",),
        "italian_required": Cefr.A2,
        "licence_required": Licence.B,
        "lat": DALMINE[0],
        "lon": DALMINE[1],
        "shifts_required": False,
    }
    base.update(kw)
    return VacancyFacts(**base)  # type: ignore[arg-type]


def test_weights_and_version() -> None:
    assert sum(MatchWeights().as_dict().values()) == pytest.approx(1.0)
    assert SCORING_VERSION == "match-v2"


def test_haversine() -> None:
    assert haversine_km(*BERGAMO, *BERGAMO) == 0
    assert haversine_km(*BERGAMO, *MILANO) == pytest.approx(46.0, abs=1.0)


@pytest.mark.parametrize(
    ("have", "need", "ok"),
    [
        (Licence.NONE, Licence.NONE, True),
        (Licence.NONE, Licence.B, False),
        (Licence.B, Licence.B, True),
        (Licence.C, Licence.B, True),
        (Licence.CE, Licence.B, True),
        (Licence.D, Licence.B, True),
        (Licence.B, Licence.C, False),
        (Licence.CE, Licence.C, True),
        (Licence.C, Licence.CE, False),
        (Licence.D, Licence.C, False),
        (Licence.FORKLIFT, Licence.B, False),
        (Licence.B, Licence.FORKLIFT, False),
        (Licence.FORKLIFT, Licence.FORKLIFT, True),
    ],
)
def test_licence_implications(have: Licence, need: Licence, ok: bool) -> None:
    assert licence_satisfies(have, need) is ok


@pytest.mark.parametrize(
    ("codes", "target", "part"),
    [
        (("7212",), "7212", 1.0),
        (("7214",), "7212", 0.7),
        (("7231",), "7212", 0.4),
        (("7111",), "7212", 0.0),
        (("8344", "7213"), "7212", 0.7),
        (("72",), "7212", 0.4),
        ((), "7212", 0.0),
    ],
)
def test_occupation_similarity(codes: tuple[str, ...], target: str, part: float) -> None:
    assert occupation_similarity(codes, target) == part


def test_same_code_beats_same_group_beats_other() -> None:
    v = vac()
    same = score_pair(prof(occ=("7212",)), v).score
    minor = score_pair(prof(occ=("7214",)), v).score
    sub = score_pair(prof(occ=("7231",)), v).score
    other = score_pair(prof(occ=("7111",)), v).score
    assert same > minor > sub > other > 0


@pytest.mark.parametrize(
    ("p_kw", "v_kw", "reasons"),
    [
        ({}, {}, []),
        ({"italian": Cefr.A1}, {"italian_required": Cefr.A2}, []),  # one level below is allowed
        ({"italian": Cefr.PRE_A1}, {"italian_required": Cefr.A2}, ["italian_below_required"]),
        ({"licence": Licence.NONE}, {}, ["licence_missing"]),
        ({"licence": Licence.CE}, {"licence_required": Licence.C}, []),
        ({"mobility_km": 5.0}, {}, ["beyond_mobility_radius"]),
        ({"mobility_km": 100.0}, {"lat": MILANO[0], "lon": MILANO[1]}, []),
        (
            {"mobility_km": 100.0, "lat": CLUSONE[0], "lon": CLUSONE[1]},
            {"lat": MILANO[0], "lon": MILANO[1]},
            ["beyond_max_km"],
        ),
        ({"lat": None, "lon": None}, {}, []),  # unknown place never excludes
        ({"occupations": ("5120",)}, {}, ["occupation_other_major_group"]),
        ({"occupations": ()}, {}, []),
    ],
)
def test_hard_constraints(p_kw: dict, v_kw: dict, reasons: list[str]) -> None:
    p, v = prof(**p_kw), vac(**v_kw)
    assert hard_constraints(p, v) == reasons
    result = score_pair(p, v)
    assert result.excluded == reasons
    assert (result.score == 0) == bool(reasons)


def test_parts() -> None:
    tig = ("saldatura.tig", "meccanica.disegno-tecnico")
    r = score_pair(prof(italian=Cefr.A1, skill_codes=tig), vac(shifts_required=True, skill_codes=tig[:1]))
    assert r.parts["occupation"] == 1.0
    assert r.parts["skills"] == 1.0  # the one coded requirement is held
    assert r.parts["language"] == 0.5
    assert r.parts["licence"] == 1.0
    assert 0.8 < r.parts["distance"] < 0.9  # ~8 km of 50
    assert r.parts["availability"] == 1.0
    assert all(0.0 <= x <= 1.0 for x in r.parts.values())
    assert score_pair(prof(shifts=False), vac(shifts_required=True)).parts["availability"] == 0
    assert score_pair(prof(lat=None), vac()).parts["distance"] == 0.5
    assert score_pair(prof(), vac(skill_codes=tig)).parts["skills"] == 0.0  # holds none of them
    assert score_pair(prof(skill_codes=tig[1:]), vac(skill_codes=tig)).parts["skills"] == 0.5
    assert score_pair(prof(), vac(skills=())).parts["skills"] == 1.0  # nothing asked
    # written but naming nothing of the list: the operator judges, the score neither rewards nor punishes
    assert score_pair(prof(skill_codes=tig), vac(skills=("esperienza nel ruolo",))).parts["skills"] == 0.5


@pytest.mark.parametrize(
    ("p_kw", "v_kw", "must", "must_not"),
    [
        (
            {},
            {},
            ["stessa mansione (ISCO 7212)", "italiano A2 ≥ A2 richiesto", "patente B ok", "8 km"],
            ["mancante", "non nota"],
        ),
        (
            {"occupations": ("7214",), "italian": Cefr.A1},
            {},
            ["mansione affine (stesso gruppo ISCO 721)", "italiano A1, un livello sotto A2"],
            ["stessa mansione"],
        ),
        (
            {"occupations": ("7231",)},
            {"licence_required": Licence.NONE},
            ["stesso settore (ISCO 72)", "patente non richiesta"],
            ["patente B"],
        ),
        ({"lat": None}, {"shifts_required": True}, ["distanza non nota", "disponibile ai turni"], ["km"]),
        ({"shifts": False}, {"shifts_required": True}, ["non disponibile ai turni"], []),
    ],
)
def test_explanation_mentions_what_parts_say(p_kw: dict, v_kw: dict, must: list[str], must_not: list[str]) -> None:
    p, v = prof(**p_kw), vac(**v_kw)
    text = explain(score_pair(p, v).parts, p, v)
    for phrase in must:
        assert phrase in text, text
    for phrase in must_not:
        assert phrase not in text, text


def test_explanation_follows_stored_parts_not_recomputation() -> None:
    p, v = prof(), vac()
    parts = dict(score_pair(p, v).parts, occupation=0.4, licence=0.0)
    text = explain(parts, p, v)
    assert "stesso settore (ISCO 72)" in text and "patente B mancante" in text


def _random_world(seed: int, n_p: int, n_v: int) -> tuple[list[ProfileFacts], list[VacancyFacts]]:
    rng = random.Random(seed)
    codes = [
        "7212",
        "7214",
        "7231",
        "7112",
        "4321",
        "4322",
        "8344",
        "8332",
        "5120",
        "5131",
        "9412",
        "9329",
        "2221",
        "72",
    ]
    skills = [
        "saldatura",
        "tig",
        "mig",
        "muletto",
        "haccp",
        "cucina",
        "pulizia",
        "guida",
        "inventario",
        "cnc",
        "disegno tecnico",
        "assistenza",
    ]

    def coded(n: int) -> tuple[str, ...]:
        return tuple(rng.sample(_SKILL_CODES, rng.randint(0, n)))

    def where() -> tuple[float | None, float | None]:
        if rng.random() < 0.1:
            return None, None
        return BERGAMO[0] + rng.uniform(-0.5, 0.5), BERGAMO[1] + rng.uniform(-0.6, 0.6)

    profiles = []
    for i in range(n_p):
        lat, lon = where()
        profiles.append(
            ProfileFacts(
                f"C{i}",
                tuple(rng.sample(codes, rng.randint(0, 3))),
                tuple(rng.sample(skills, rng.randint(0, 4))),
                rng.choice(list(Cefr)),
                rng.choice(list(Licence)),
                lat,
                lon,
                rng.choice([5.0, 15.0, 30.0, 80.0]),
                "full_time",
                rng.random() < 0.5,
                skill_codes=coded(5),
            )
        )
    vacancies = []
    for j in range(n_v):
        lat, lon = where()
        vacancies.append(
            VacancyFacts(
                f"V{j}",
                rng.choice(codes[:-1]),
                tuple(rng.sample(skills, rng.randint(0, 3))),
                rng.choice(list(Cefr)[:5]),
                rng.choice(list(Licence)),
                lat,
                lon,
                rng.random() < 0.3,
                skill_codes=coded(3) if rng.random() < 0.6 else (),
            )
        )
    return profiles, vacancies


def test_top_k_never_violates_hard_constraints_and_matches_reference() -> None:
    profiles, vacancies = _random_world(seed=20240601, n_p=600, n_v=40)
    ranked = top_k_all_vacancies(vacancies, profiles, k=15)
    returned = 0
    for v in vacancies:
        rows = ranked[v.vacancy_code]
        scores = [r.score for _, r in rows]
        assert scores == sorted(scores, reverse=True)
        for p, r in rows:
            assert hard_constraints(p, v) == [] and r.excluded == []
            assert r.score == score_pair(p, v).score
        # Exhaustive reference: nothing better was left out.
        eligible = sorted((score_pair(p, v).score for p in profiles if not hard_constraints(p, v)), reverse=True)
        assert scores == eligible[:15]
        returned += len(rows)
    assert returned > 100  # the property is not vacuous


def test_top_k_for_profile_matches_reference() -> None:
    profiles, vacancies = _random_world(seed=7, n_p=60, n_v=300)
    for p in profiles:
        rows = top_k_for_profile(p, vacancies, k=5)
        for v, r in rows:
            assert hard_constraints(p, v) == []
            assert r.score == score_pair(p, v).score
        eligible = sorted((score_pair(p, v).score for v in vacancies if not hard_constraints(p, v)), reverse=True)
        assert [r.score for _, r in rows] == eligible[:5]


def test_top_k_for_vacancy_orders_by_occupation() -> None:
    v = vac()
    profiles = [
        prof("OTHER", ("7111",)),
        prof("SAME", ("7212",)),
        prof("GROUP", ("7214",)),
        prof("FAR", ("5120",)),
        prof("NONE", ()),
    ]
    rows = top_k_for_vacancy(v, profiles, k=10)
    assert [p.case_code for p, _ in rows][:3] == ["SAME", "GROUP", "OTHER"]
    assert "FAR" not in [p.case_code for p, _ in rows]
    assert top_k_for_vacancy(v, [], k=3) == []
    assert top_k_for_profile(prof(occ=("5120",)), [v], k=3) == []


# --- explanations are the stored parts, read back ------------------------------------------------

_EXPLANATION = re.compile(
    r"^(?:stessa mansione \(ISCO (?P<same>\d{4})\)"
    r"|mansione affine \(stesso gruppo ISCO (?P<minor>\d{3})\)"
    r"|stesso settore \(ISCO (?P<sub>\d{2})\)"
    r"|mansione diversa \(richiesta ISCO (?P<other>\d+)\))"
    r", (?:(?P<no_skills>nessuna competenza specifica richiesta)"
    r"|(?P<uncoded>requisiti fuori elenco, da valutare \(.+?\))"
    r"|(?P<all_skills>competenze richieste: tutte presenti \(.+?\))"
    r"|(?P<no_skill_held>competenze richieste: nessuna presente \(mancano .+?\))"
    r"|competenze in comune (?P<held>\d+) su (?P<required>\d+): .+? \(mancano .+?\))"
    r"(?=, (?:nessun requisito di italiano|italiano ))"
    r", (?:(?P<no_italian>nessun requisito di italiano)"
    r"|italiano (?P<have>\S+)(?: ≥ (?P<ok>\S+) richiesto|, un livello sotto (?P<near>\S+) richiesto"
    r"| insufficiente \((?P<low>\S+) richiesto\)))"
    r", (?:(?P<no_lic>patente non richiesta)|(?P<lic_ok>.+?) ok|(?P<lic_ko>.+?) mancante)"
    r", (?:(?P<no_km>distanza non nota)|(?P<km>\d+) km)"
    r"(?:, (?P<shifts>disponibile ai turni|non disponibile ai turni))?$"
)


def check_explanation(text: str, r: MatchResult, p: ProfileFacts, v: VacancyFacts, max_km: float = 50.0) -> None:
    """Every element of the operator text says what the stored part says, and nothing else."""
    m = _EXPLANATION.match(text)
    assert m, text
    parts = r.parts
    assert set(parts) == set(PARTS)
    occ = parts["occupation"]
    code = v.occupation_code
    expected_occ = {1.0: ("same", code), 0.7: ("minor", code[:3]), 0.4: ("sub", code[:2]), 0.0: ("other", code)}[occ]
    assert m.group(expected_occ[0]) == expected_occ[1], text
    required = set(v.skill_codes)
    held = required & set(p.skill_codes)
    if required:  # coded requirements: named, counted, and the part is the share held
        assert parts["skills"] == len(held) / len(required), text
        if held == required:
            assert m.group("all_skills"), text
        elif not held:
            assert m.group("no_skill_held"), text
        else:
            assert (int(m.group("held")), int(m.group("required"))) == (len(held), len(required)), text
    elif any(s.strip() for s in v.skills):  # written, naming nothing of the list: neither reward nor penalty
        assert m.group("uncoded") and parts["skills"] == 0.5, text
    else:
        assert m.group("no_skills") and parts["skills"] == 1.0, text
    if v.italian_required is Cefr.PRE_A1:
        assert m.group("no_italian") and parts["language"] == 1.0, text
    else:
        assert m.group("have") == p.italian.value, text
        which = {1.0: "ok", 0.5: "near", 0.0: "low"}[parts["language"]]
        assert m.group(which) == v.italian_required.value, text
    if v.licence_required == Licence.NONE:
        assert m.group("no_lic") and parts["licence"] == 1.0, text
    else:
        label = LICENCE_LABEL[v.licence_required]
        assert (m.group("lic_ok") if parts["licence"] == 1.0 else m.group("lic_ko")) == label, text
    if m.group("no_km"):
        assert parts["distance"] == 0.5 and (p.lat is None or v.lat is None), text
    else:
        km = int(m.group("km"))
        assert p.lat is not None and v.lat is not None
        # the part is 1 - d / max_km, the text shows d rounded to the km
        assert abs(max(0.0, 1 - km / max_km) - parts["distance"]) <= 0.5 / max_km + 1e-9, text
    if v.shifts_required:
        assert m.group("shifts") == (
            "disponibile ai turni" if parts["availability"] == 1.0 else "non disponibile ai turni"
        )
    else:
        assert m.group("shifts") is None and parts["availability"] == 1.0, text
    # and the score is the weighted parts (not excluded, or it would not be shown)
    w = MatchWeights().as_dict()
    assert r.score == round(100 * sum(w[k] * parts[k] for k in PARTS) / sum(w.values()), 2)


def test_every_top_k_explanation_matches_its_parts() -> None:
    profiles, vacancies = _random_world(seed=11, n_p=400, n_v=60)
    checked = 0
    for v in vacancies:
        for p, r in top_k_all_vacancies([v], profiles, k=10)[v.vacancy_code]:
            check_explanation(explain(r.parts, p, v), r, p, v)
            checked += 1
    for p in profiles[:40]:
        for v, r in top_k_for_profile(p, vacancies, k=10):
            check_explanation(explain(r.parts, p, v), r, p, v)
            checked += 1
    assert checked > 300


def test_forklift_is_named_in_italian() -> None:
    p, v = prof(licence=Licence.FORKLIFT), vac(licence_required=Licence.FORKLIFT)
    assert "patentino muletto ok" in explain(score_pair(p, v).parts, p, v)


def test_configured_matching_reads_routing_yaml() -> None:
    from config.data import load_routing

    weights, max_km, k = configured_matching()
    rules = load_routing().matching
    assert weights.as_dict() == rules.weights.model_dump()
    assert (max_km, k) == (rules.max_distance_km, rules.top_k)


# --- hard constraints over random inputs (hypothesis) ---------------------------------------------

_CODES = ["7212", "7214", "7231", "7112", "4321", "8344", "5120", "9412", "72", "9329", "2221"]
_codes = st.lists(st.sampled_from(["saldatura.tig", "ristorazione.haccp", "patenti.b", "lingua.en"]), max_size=3)
_SKILLS = ["saldatura", "tig", "muletto", "haccp", "cucina", "pulizia", "cnc", "disegno tecnico"]
_place = st.one_of(
    st.none(),
    st.tuples(st.floats(45.2, 46.2, allow_nan=False), st.floats(9.0, 10.4, allow_nan=False)),
)


@st.composite
def _profile(draw: st.DrawFn, i: int) -> ProfileFacts:
    where = draw(_place)
    return ProfileFacts(
        f"C{i}",
        tuple(draw(st.lists(st.sampled_from(_CODES), max_size=3, unique=True))),
        tuple(draw(st.lists(st.sampled_from(_SKILLS), max_size=3, unique=True))),
        draw(st.sampled_from(list(Cefr))),
        draw(st.sampled_from(list(Licence))),
        None if where is None else where[0],
        None if where is None else where[1],
        draw(st.sampled_from([5.0, 20.0, 60.0])),
        "full_time",
        draw(st.booleans()),
        tuple(draw(_codes)),
    )


@st.composite
def _vacancy(draw: st.DrawFn, j: int) -> VacancyFacts:
    where = draw(_place)
    return VacancyFacts(
        f"V{j}",
        draw(st.sampled_from(_CODES[:-1])),
        tuple(draw(st.lists(st.sampled_from(_SKILLS), max_size=3, unique=True))),
        draw(st.sampled_from(list(Cefr))),
        draw(st.sampled_from(list(Licence))),
        None if where is None else where[0],
        None if where is None else where[1],
        draw(st.booleans()),
        tuple(draw(_codes)),
    )


@st.composite
def _world(draw: st.DrawFn) -> tuple[list[ProfileFacts], list[VacancyFacts], int, float]:
    n_p = draw(st.integers(0, 25))
    n_v = draw(st.integers(1, 6))
    profiles = [draw(_profile(i)) for i in range(n_p)]
    vacancies = [draw(_vacancy(j)) for j in range(n_v)]
    return profiles, vacancies, draw(st.integers(1, 8)), draw(st.sampled_from([20.0, 40.0, 50.0]))


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_world())
def test_hypothesis_top_k_respects_hard_constraints(
    world: tuple[list[ProfileFacts], list[VacancyFacts], int, float],
) -> None:
    profiles, vacancies, k, max_km = world
    ranked = top_k_all_vacancies(vacancies, profiles, k=k, max_km=max_km)
    for v in vacancies:
        rows = ranked[v.vacancy_code]
        assert len(rows) <= k
        for p, r in rows:
            assert hard_constraints(p, v, max_km) == [] and r.excluded == []
            assert r == score_pair(p, v, max_km=max_km)
            check_explanation(explain(r.parts, p, v, max_km), r, p, v, max_km)
        eligible = sorted(
            (score_pair(p, v, max_km=max_km).score for p in profiles if not hard_constraints(p, v, max_km)),
            reverse=True,
        )
        assert [r.score for _, r in rows] == eligible[:k]
    for p in profiles[:5]:
        for v, r in top_k_for_profile(p, vacancies, k=k, max_km=max_km):
            assert hard_constraints(p, v, max_km) == [] and r.excluded == []
