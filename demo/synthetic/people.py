"""Seeded fictitious job seekers: names by origin, birth dates, Italian levels, jobs, contacts and
tax codes, with the hidden truths the scripted operator "learns" at intake."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from demo.synthetic.common import CEFR_LEVELS, ITALIAN_SKILLS, REFERENCE_DATE, ascii_fold, sub_rng, weighted
from demo.synthetic.jobs import JOB_BY_KEY, JOB_KINDS, ORIGIN_JOB_AFFINITY, JobKind
from demo.synthetic.names import (
    ARABIC,
    IT_BIRTHPLACES,
    IT_FEMALE,
    IT_MALE,
    IT_SURNAMES,
    LATIN_AMERICAN,
    UA_FEMALE,
    UA_MALE,
    UA_SURNAMES,
    WEST_AFRICAN,
)
from demo.synthetic.taxcodes import tax_code, temporary_tax_code

IT_MOBILE_PREFIXES: tuple[str, ...] = (
    "320",
    "324",
    "327",
    "328",
    "329",
    "331",
    "333",
    "334",
    "335",
    "338",
    "339",
    "340",
    "342",
    "345",
    "346",
    "347",
    "348",
    "349",
    "351",
    "366",
    "370",
    "377",
    "380",
    "388",
    "389",
    "392",
    "393",
)
UA_MOBILE_PREFIXES: tuple[str, ...] = (
    "50",
    "63",
    "66",
    "67",
    "68",
    "73",
    "93",
    "95",
    "96",
    "97",
    "98",
    "99",
)


@dataclass
class SyntheticPerson:
    """A fictitious job seeker; the fields the referrer knows plus hidden truths for the scripted operator."""

    key: str
    origin: str
    family_name: str
    given_names: str
    native_family_name: str
    native_given_names: str
    sex: str
    birth_date: date
    citizenship: str
    birth_place: str
    codice_fiscale: str
    cf_temporary: bool
    phone: str
    email: str | None
    municipality: str
    languages: list[str]
    education: str
    experiences: list[str]
    experience_keys: list[str]
    driving_licence: str
    italian_self_level: str
    true_italian: str
    true_italian_skills: dict[str, str]
    consent_privacy: bool
    consent_cpi: bool
    consent_confindustria: bool
    family_name_variants: list[str] = field(default_factory=list)
    given_name_variants: list[str] = field(default_factory=list)

    @property
    def is_ukrainian(self) -> bool:
        return self.origin == "ukrainian"


ORIGIN_SHARES: tuple[tuple[str, float], ...] = (
    ("ukrainian", 0.35),
    ("italian", 0.15),
    ("arabic", 0.15),
    ("west_african", 0.20),
    ("latin_american", 0.15),
)


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _quota(n: int, shares: Sequence[tuple[str, float]]) -> list[str]:
    """Exact largest-remainder quotas: the origin mix holds even for small n."""
    raw = [(name, n * share) for name, share in shares]
    counts = {name: int(v) for name, v in raw}
    rest = n - sum(counts.values())
    for name, _ in sorted(raw, key=lambda x: (-(x[1] - int(x[1])), x[0]))[:rest]:
        counts[name] += 1
    out: list[str] = []
    for name, _ in shares:
        out.extend([name] * counts[name])
    return out


def _pick_country(rng: random.Random, table: Mapping[str, tuple[float, Any, Any, Any, Any]]) -> str:
    return weighted(rng, [(k, v[0]) for k, v in table.items()])


def _birth_date(rng: random.Random, ref: date) -> date:
    age = round(rng.triangular(17, 62, 33))
    age = min(62, max(17, age))
    latest = _years_before(ref, age)
    earliest = _years_before(ref, age + 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randint(0, (latest - earliest).days))


def _italian_levels(rng: random.Random, origin: str, country: str) -> tuple[str, str, dict[str, str]]:
    """Self-declared level, hidden overall level and per-skill levels; self-reports are often off by one."""
    if origin == "italian":
        return (
            rng.choice(("madrelingua", "madrelingua", "C2")),
            "C2",
            {s: "C2" for s in ITALIAN_SKILLS},
        )
    table: dict[str, list[tuple[str, float]]] = {
        "ukrainian": [("pre-A1", 0.45), ("A1", 0.35), ("A2", 0.14), ("B1", 0.06)],
        "arabic": [
            ("pre-A1", 0.05),
            ("A1", 0.2),
            ("A2", 0.35),
            ("B1", 0.28),
            ("B2", 0.12),
        ],
        "west_african": [
            ("pre-A1", 0.1),
            ("A1", 0.3),
            ("A2", 0.35),
            ("B1", 0.2),
            ("B2", 0.05),
        ],
        "latin_american": [("A1", 0.05), ("A2", 0.3), ("B1", 0.4), ("B2", 0.25)],
    }
    self_level = weighted(rng, table[origin])
    rank = CEFR_LEVELS.index(self_level)
    base = min(5, max(0, rank + weighted(rng, [(-1, 0.25), (0, 0.55), (1, 0.2)])))
    skills = {
        "listening": min(5, base + rng.choice((0, 0, 1))),
        "speaking": base,
        "reading": min(5, max(0, base + rng.choice((-1, 0, 0, 1)))),
        "writing": max(0, base - rng.choice((0, 0, 1))),
    }
    if origin == "latin_american":  # Spanish speakers read Italian early
        skills["reading"] = min(5, skills["reading"] + 1)
    per_skill = {s: CEFR_LEVELS[r] for s, r in skills.items()}
    return self_level, CEFR_LEVELS[base], per_skill


def _pick_jobs(rng: random.Random, origin: str, sex: str) -> list[str]:
    affinity = ORIGIN_JOB_AFFINITY.get(origin, {})
    pool = [(j.key, (j.weight_m if sex == "M" else j.weight_f) * affinity.get(j.key, 0.6)) for j in JOB_KINDS]
    k = weighted(rng, [(1, 0.4), (2, 0.4), (3, 0.2)])
    chosen: list[str] = []
    while len(chosen) < k:
        key = weighted(rng, [(key, w) for key, w in pool if key not in chosen])
        chosen.append(key)
    return chosen


def _job_text(job: JobKind, lang: str, sex: str, rng: random.Random) -> str:
    if lang == "uk":
        return rng.choice(job.uk_m if sex == "M" else job.uk_f)
    if lang == "en":
        return rng.choice(job.en)
    return rng.choice(job.it_m if sex == "M" else job.it_f)


def italian_job_text(text: str, sex: str) -> str:
    """Italian rendering of a Ukrainian job title, for files whose encoding has no Cyrillic."""
    for job in JOB_KINDS:
        if text in job.uk_m or text in job.uk_f:
            return (job.it_m if sex == "M" else job.it_f)[0]
    return ascii_fold(text) or "lavori vari"


def _languages(rng: random.Random, origin: str, base: tuple[str, ...], level: str) -> list[str]:
    langs = list(base)
    if origin == "ukrainian":
        langs = ["ucraino", "russo"] if rng.random() < 0.85 else ["ucraino"]
        if rng.random() < 0.4:
            langs.append("inglese")
        if rng.random() < 0.1:
            langs.append("polacco")
    elif origin == "italian":
        langs = ["italiano"] + (["inglese"] if rng.random() < 0.3 else [])
        return langs
    elif origin == "arabic" and rng.random() < 0.25 and "francese" not in langs:
        langs.append("francese" if rng.random() < 0.5 else "inglese")
    elif origin == "latin_american":
        langs = ["spagnolo"] + [b for b in base if b != "spagnolo" and rng.random() < 0.3]
        if rng.random() < 0.2:
            langs.append("inglese")
    if CEFR_LEVELS.index(level) >= 2:
        langs.append("italiano")
    return list(dict.fromkeys(langs))


def _education(rng: random.Random, origin: str, country: str) -> str:
    table: dict[str, list[tuple[str, float]]] = {
        "ukrainian": [
            ("laurea", 0.4),
            ("diploma", 0.42),
            ("qualifica professionale", 0.08),
            ("licenza media", 0.07),
            ("nessun titolo", 0.03),
        ],
        "italian": [
            ("licenza media", 0.55),
            ("diploma", 0.22),
            ("qualifica professionale", 0.08),
            ("nessun titolo", 0.1),
            ("laurea", 0.05),
        ],
        "arabic": [
            ("licenza media", 0.35),
            ("diploma", 0.3),
            ("laurea", 0.12),
            ("nessun titolo", 0.23),
        ],
        "west_african": [
            ("licenza media", 0.3),
            ("diploma", 0.22),
            ("laurea", 0.06),
            ("nessun titolo", 0.42),
        ],
        "latin_american": [
            ("licenza media", 0.25),
            ("diploma", 0.48),
            ("laurea", 0.17),
            ("nessun titolo", 0.1),
        ],
    }
    title = weighted(rng, table[origin])
    if title == "nessun titolo":
        return title
    where = "Italia" if origin == "italian" or (title == "licenza media" and rng.random() < 0.15) else country
    return f"{title} ({where})"


def _licence(rng: random.Random, origin: str, sex: str, jobs: list[str]) -> str:
    if "driver" in jobs:
        return "C" if rng.random() < 0.7 else "B"
    share_b = {
        "ukrainian": 0.35,
        "italian": 0.55,
        "arabic": 0.4,
        "west_african": 0.2,
        "latin_american": 0.35,
    }[origin]
    if sex == "M" and rng.random() < 0.05:
        return "C"
    return "B" if rng.random() < share_b else "nessuna"


def _phone(rng: random.Random, origin: str) -> str:
    """E.164 number; files render it in whatever format the partner's operator typed."""
    if origin == "ukrainian" and rng.random() < 0.15:
        return "+380" + rng.choice(UA_MOBILE_PREFIXES) + f"{rng.randint(0, 9999999):07d}"
    return "+39" + rng.choice(IT_MOBILE_PREFIXES) + f"{rng.randint(0, 9999999):07d}"


def format_phone(e164: str, style: int) -> str:
    """One of the formats partners actually use for the same number."""
    if e164.startswith("+380"):
        op, rest = e164[4:6], e164[6:]
        styles: tuple[str, ...] = (
            f"+380 {op} {rest[:3]} {rest[3:]}",
            f"+380{op}{rest}",
            f"00380 {op} {rest[:3]} {rest[3:5]} {rest[5:]}",
            f"+380 ({op}) {rest[:3]}-{rest[3:5]}-{rest[5:]}",
        )
    else:
        pre, rest = e164[3:6], e164[6:]
        styles = (
            f"{pre} {rest}",
            f"{pre}{rest}",
            f"+39 {pre}-{rest[:3]}-{rest[3:]}",
            f"0039 {pre} {rest}",
            f"+39 {pre} {rest[:3]} {rest[3:]}",
            f"+39{pre}{rest}",
        )
    return styles[style % len(styles)]


def _email(rng: random.Random, given: str, family: str, birth: date) -> str | None:
    if rng.random() >= 0.7:
        return None
    g = ascii_fold(given.split()[0]).lower().replace("'", "")
    f = ascii_fold(family).lower().replace(" ", "").replace("'", "")
    pattern = rng.randrange(5)
    if pattern == 0:
        local = f"{g}.{f}{birth.year % 100:02d}"
    elif pattern == 1:
        local = f"{f}.{g[0]}{rng.randint(1, 99)}"
    elif pattern == 2:
        local = f"{g}{f}{birth.year}"
    elif pattern == 3:
        local = f"{g}_{f[:5]}{rng.randint(10, 999)}"
    else:
        local = f"{g}.{f}"
    return f"{local}@mail.example"


def _municipality(rng: random.Random, municipalities: Sequence[str]) -> str:
    if "Bergamo" in municipalities and rng.random() < 0.25:
        return "Bergamo"
    others = [m for m in municipalities if m != "Bergamo"] or list(municipalities)
    return rng.choice(others)


def _encode_cf(family: str, given: str, sex: str, birth: date, place: str) -> str | None:
    """The person's codice fiscale, or None when the place is unknown (then a provisional code)."""
    try:
        return tax_code(family, given, sex, birth, place)
    except (ValueError, KeyError, TypeError):
        return None


def _make_person(i: int, origin: str, rng: random.Random, municipalities: Sequence[str], ref: date) -> SyntheticPerson:
    sex = "F" if rng.random() < (0.62 if origin in ("ukrainian", "latin_american") else 0.4) else "M"
    birth = _birth_date(rng, ref)
    fam_variants: list[str] = []
    giv_variants: list[str] = []
    if origin == "ukrainian":
        country = "Ucraina"
        g = rng.choice(UA_MALE if sex == "M" else UA_FEMALE)
        s = rng.choice(UA_SURNAMES)
        native_given, given, giv_variants = g[0], g[1], list(g[2:])
        native_family, family, fam_variants = s[0], s[1], list(s[2:])
        birth_place = country
        base_langs: tuple[str, ...] = ("ucraino",)
    elif origin == "italian":
        country = "Italia"
        given = rng.choice(IT_MALE if sex == "M" else IT_FEMALE)
        family = rng.choice(IT_SURNAMES)
        native_given, native_family = given, family
        birth_place = weighted(rng, IT_BIRTHPLACES)
        base_langs = ("italiano",)
    else:
        table = {
            "arabic": ARABIC,
            "west_african": WEST_AFRICAN,
            "latin_american": LATIN_AMERICAN,
        }[origin]
        country = _pick_country(rng, table)
        _, males, females, surnames, base_langs = table[country]
        given = rng.choice(males if sex == "M" else females)
        if origin == "arabic" and sex == "M" and country != "Pakistan" and rng.random() < 0.25:
            given = f"{given} {rng.choice(('Amine', 'Ali', 'Reda', 'Yassine'))}"
        family = rng.choice(surnames)
        if origin == "latin_american":
            second = rng.choice([x for x in surnames if x != family])
            family = f"{family} {second}"
        native_given, native_family = given, family
        age = (ref - birth).days // 365
        born_here = origin in ("arabic", "west_african") and age < 24 and rng.random() < 0.2
        birth_place = rng.choice(("Bergamo", "Seriate", "Treviglio")) if born_here else country
    self_level, true_level, skills = _italian_levels(rng, origin, country)
    jobs = _pick_jobs(rng, origin, sex)
    if origin == "ukrainian":
        lang_probs = [("it", 0.6), ("uk", 0.3), ("en", 0.1)]
    elif origin == "italian":
        lang_probs = [("it", 1.0)]
    elif country in ("Nigeria", "Gambia", "Pakistan"):
        lang_probs = [("it", 0.6), ("en", 0.4)]
    else:
        lang_probs = [("it", 0.88), ("en", 0.12)]
    experiences = [_job_text(JOB_BY_KEY[k], weighted(rng, lang_probs), sex, rng) for k in jobs]
    code = None if origin == "ukrainian" and rng.random() < 0.05 else _encode_cf(family, given, sex, birth, birth_place)
    temporary = code is None
    if code is None:
        code = temporary_tax_code(rng)
    return SyntheticPerson(
        key=f"SYN-{i + 1:04d}",
        origin=origin,
        family_name=family,
        given_names=given,
        native_family_name=native_family,
        native_given_names=native_given,
        sex=sex,
        birth_date=birth,
        citizenship=country,
        birth_place=birth_place,
        codice_fiscale=code,
        cf_temporary=temporary,
        phone=_phone(rng, origin),
        email=_email(rng, given, family, birth),
        municipality=_municipality(rng, municipalities),
        languages=_languages(rng, origin, base_langs, true_level),
        education=_education(rng, origin, country),
        experiences=experiences,
        experience_keys=jobs,
        driving_licence=_licence(rng, origin, sex, jobs),
        italian_self_level=self_level,
        true_italian=true_level,
        true_italian_skills=skills,
        consent_privacy=rng.random() < 0.985,
        consent_cpi=rng.random() < 0.99,
        consent_confindustria=rng.random() < 0.85,
        family_name_variants=fam_variants,
        given_name_variants=giv_variants,
    )


def generate_people(
    n: int,
    seed: int,
    municipalities: list[str],
    *,
    reference_date: date = REFERENCE_DATE,
) -> list[SyntheticPerson]:
    """Seeded vulnerable job seekers in the province, with the origin mix seen at Bergamo's CPIs."""
    if not municipalities:
        raise ValueError("at least one municipality is needed")
    rng = sub_rng(seed, "people")
    origins = _quota(n, ORIGIN_SHARES)
    rng.shuffle(origins)
    return [_make_person(i, origin, rng, municipalities, reference_date) for i, origin in enumerate(origins)]
