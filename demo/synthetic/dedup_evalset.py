"""Seeded, labelled evaluation sets for deduplication (issue 6).

``make_dedup_evalset`` builds a population of referred people as partners really write them
(Ukrainian in Cyrillic and in three Latin spellings, Maghreb and West-African names with their
French/English spellings, Latin-American double surnames, Sikh Punjabi names, Italian names of
the Bergamo area), then refers a share of them a second time with the changes real second
referrals carry: another transliteration, a typo, swapped given/family order, a missing birth
date, another phone format, a hyphenated or dropped second surname. It also adds *hard
negatives*: twins and siblings (same family name and birth date or phone), namesakes with
distinct tax codes, many people born on 1 January (the date registries give when the day is
unknown).

Every record knows its person (``entity``), so precision and recall can be computed exactly.
The generator does not use the deduplication code; the only shared piece is the Ukrainian
national transliteration (``tasks.files.normalize.transliterate_cyrillic``, through
:mod:`demo.synthetic.transliteration`), used to write the "official" Latin spelling the way a CPI
operator copies it from a Ukrainian document. Name pools are in :mod:`demo.synthetic.dedup_names`,
tax codes come from :func:`demo.synthetic.taxcodes.tax_code`. The same generator sizes up to the
100k-referral benchmark (``bench/bench_dedup.py``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from demo.synthetic.common import strip_accents
from demo.synthetic.dedup_names import (
    AR_FAMILY,
    AR_GIVEN_F,
    AR_GIVEN_M,
    IT_FAMILY,
    IT_GIVEN_F,
    IT_GIVEN_M,
    LA_FAMILY,
    LA_GIVEN_F,
    LA_GIVEN_M,
    NAMESAKE_PLACES,
    ORIGINS,
    RO_AL_FAMILY,
    RO_AL_GIVEN,
    SIKH_GIVEN,
    UA_FAMILY,
    UA_GIVEN,
    WA_FAMILY,
    WA_GIVEN_F,
    WA_GIVEN_M,
)
from demo.synthetic.taxcodes import tax_code
from demo.synthetic.transliteration import informal, kmu, ru_passport
from tasks.matching.dedup import PersonRecord

__all__ = ["DedupEvalSet", "DuplicatePair", "make_dedup_evalset"]


def _plain(name: str) -> tuple[str, ...]:
    """Name words without accents or case, sorted: how "the same name" is judged here."""
    return tuple(sorted(strip_accents(name).casefold().replace("-", " ").split()))


# --- contacts ----------------------------------------------------------------------------------

_IT_MOBILE = (*range(320, 330), *range(330, 340), *range(340, 350), *range(360, 369), *range(380, 390))
_UA_MOBILE = (50, 63, 66, 67, 68, 73, 93, 95, 96, 97, 98, 99)


def _phone(rng: random.Random, country: str) -> str:
    """E.164 number of a mobile phone in ``country`` (IT or UA)."""
    if country == "UA" and rng.random() < 0.5:  # many keep their Ukrainian number
        return f"+380{rng.choice(_UA_MOBILE)}{rng.randrange(10**7):07d}"
    return f"+39{rng.choice(_IT_MOBILE)}{rng.randrange(10**7):07d}"


def _format_phone(e164: str, rng: random.Random) -> str:
    """The same number as a referrer types it."""
    forms: tuple[str, ...]
    if e164.startswith("+39"):
        n = e164[3:]
        forms = (
            f"+39 {n[:3]} {n[3:]}",
            n,
            f"{n[:3]}-{n[3:]}",
            f"{n[:3]} {n[3:6]} {n[6:]}",
            f"0039{n}",
            f"+39 {n[:3]}.{n[3:6]}.{n[6:]}",
            f"({n[:3]}) {n[3:]}",
        )
    else:
        n = e164[4:]
        forms = (
            f"+380 {n[:2]} {n[2:5]} {n[5:7]} {n[7:]}",
            f"00380{n}",
            f"+380({n[:2]}){n[2:]}",
            f"+380-{n[:2]}-{n[2:5]}-{n[5:]}",
            e164,
        )
    return rng.choice(forms)


# --- people ----------------------------------------------------------------------------------------


@dataclass
class _Person:
    """One real person; ``spellings`` lets a second referral pick another way of writing."""

    entity: int
    origin: str
    sex: str
    family: str  # official spelling
    given: str
    family_alts: tuple[str, ...]
    given_alts: tuple[str, ...]
    family_cyr: str | None
    given_cyr: str | None
    given_ru: str | None
    birth: date
    cf: str | None
    phone: str | None
    email: str | None
    double_surname: bool = False
    given_extra: str = ""  # second given name appended to a variant spelling of the first


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """Two referrals of one person; ``merge_expected`` = carries merge-grade evidence."""

    first: str
    second: str
    kinds: tuple[str, ...]
    merge_expected: bool


@dataclass
class DedupEvalSet:
    """Records split into already-known ones and a new batch, with the truth."""

    existing: list[PersonRecord]
    new: list[PersonRecord]
    entity: dict[str, int]
    pairs: list[DuplicatePair]
    hard_negatives: list[tuple[str, str, str]] = field(default_factory=list)  # (key, key, kind)

    @property
    def people(self) -> int:
        return len(set(self.entity.values()))


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.next_entity = 0
        origins = list(ORIGINS)
        self._origins = origins
        self._weights = [ORIGINS[o][2] for o in origins]
        self._used_cf: set[str] = set()
        self._seen: set[tuple[tuple[str, ...], date]] = set()

    def _birth(self, origin: str) -> date:
        rng = self.rng
        year = rng.randint(1962, 2006)
        if origin not in ("it",) and rng.random() < 0.22:
            return date(year, 1, 1)  # day unknown: registries write 1 January
        return date(year, 1, 1) + timedelta(days=rng.randrange(365))

    def _name(self, origin: str, sex: str | None = None) -> dict[str, object]:
        rng = self.rng
        if origin == "ua":
            pool = [g for g in UA_GIVEN if sex is None or g[2] == sex]
            g_cyr, g_ru, sex_ = rng.choice(pool)
            f_cyr = rng.choice(UA_FAMILY)
            if sex_ == "F" and f_cyr.endswith("ький"):
                f_cyr = f_cyr[:-4] + "ька"
            return {
                "sex": sex_,
                "family": kmu(f_cyr),
                "given": kmu(g_cyr),
                "family_alts": (),
                "given_alts": (),
                "family_cyr": f_cyr,
                "given_cyr": g_cyr,
                "given_ru": g_ru,
            }
        if origin in ("ar", "wa", "it"):
            sex_ = sex or rng.choice("MF")
            given_pool = {
                "ar": (AR_GIVEN_M, AR_GIVEN_F),
                "wa": (WA_GIVEN_M, WA_GIVEN_F),
                "it": (IT_GIVEN_M, IT_GIVEN_F),
            }[origin][0 if sex_ == "M" else 1]
            fam_pool = {"ar": AR_FAMILY, "wa": WA_FAMILY, "it": IT_FAMILY}[origin]
            g, f = rng.choice(given_pool), rng.choice(fam_pool)
            extra = ""
            if origin == "wa" and rng.random() < 0.2:  # compound given names: "Mamadou Lamine"
                second = rng.choice(given_pool)[0]
                extra = f" {second}" if second != g[0] else ""
            return {
                "sex": sex_,
                "family": f[0],
                "given": g[0] + extra,
                "family_alts": f[1:],
                "given_alts": g[1:],
                "given_extra": extra,
            }
        if origin == "la":
            sex_ = sex or rng.choice("MF")
            given = rng.choice(LA_GIVEN_M if sex_ == "M" else LA_GIVEN_F)
            a, b = rng.sample(LA_FAMILY, 2)
            return {"sex": sex_, "family": f"{a} {b}", "given": given, "double_surname": True}
        if origin == "sikh":
            sikh = [g for g in SIKH_GIVEN if sex is None or g[1] == sex]
            given, sex_ = rng.choice(sikh)
            return {"sex": sex_, "family": "Singh" if sex_ == "M" else "Kaur", "given": given}
        pool2 = [g for g in RO_AL_GIVEN if sex is None or g[1] == sex]
        given, sex_ = rng.choice(pool2)
        f = rng.choice(RO_AL_FAMILY)
        return {"sex": sex_, "family": f[0], "given": given, "family_alts": f[1:]}

    def person(self, origin: str | None = None, **override: object) -> _Person:
        """A new person whose name and birth date differ from everyone drawn so far.

        Two different people with the same name, the same birth date and no tax code cannot be
        told apart by anyone, so accidental collisions are drawn again; deliberate namesakes
        (``negative``) get distinct codici fiscali.
        """
        rng = self.rng
        origin = origin or rng.choices(self._origins, self._weights)[0]
        sex = override.pop("sex", None)
        for _ in range(50):
            name = self._name(origin, sex)  # type: ignore[arg-type]
            name.update(override)
            birth = override.get("birth") or self._birth(origin)
            assert isinstance(birth, date)
            seen = (_plain(f"{name['family']} {name['given']}"), birth)
            if seen not in self._seen:
                break
        self._seen.add(seen)
        sex_ = str(name["sex"])
        place, country, _ = ORIGINS[origin]
        has_cf = rng.random() < (0.85 if origin == "it" else 0.30)
        cf = None
        if has_cf:
            cf = tax_code(str(name["family"]), str(name["given"]), sex_, birth, place)  # type: ignore[arg-type]
            if cf in self._used_cf:  # omocodia is handled by the Agenzia, not by us: skip
                cf = None
            else:
                self._used_cf.add(cf)
        phone = _phone(rng, country) if rng.random() < 0.7 else None
        email = None
        if rng.random() < 0.35:
            local = strip_accents(f"{name['given']}.{name['family']}").casefold().replace(" ", "").replace("'", "")
            email = f"{local}{rng.randrange(100)}@{rng.choice(('gmail.com', 'libero.it', 'yahoo.com', 'ukr.net'))}"
        p = _Person(
            entity=self.next_entity,
            origin=origin,
            sex=sex_,
            family=str(name["family"]),
            given=str(name["given"]),
            family_alts=tuple(name.get("family_alts", ())),  # type: ignore[arg-type]
            given_alts=tuple(name.get("given_alts", ())),  # type: ignore[arg-type]
            family_cyr=name.get("family_cyr"),  # type: ignore[arg-type]
            given_cyr=name.get("given_cyr"),  # type: ignore[arg-type]
            given_ru=name.get("given_ru"),  # type: ignore[arg-type]
            birth=birth,  # type: ignore[arg-type]
            cf=cf,
            phone=phone,
            email=email,
            double_surname=bool(name.get("double_surname", False)),
            given_extra=str(name.get("given_extra", "")),
        )
        self.next_entity += 1
        return p

    # -- records ------------------------------------------------------------------------------

    def first_record(self, p: _Person, key: str, *, show_cf: bool = False) -> PersonRecord:
        """The first referral: the official spelling, identifiers as the partner had them."""
        rng = self.rng
        family, given = p.family, p.given
        if p.origin == "ua" and rng.random() < 0.25 and p.family_cyr and p.given_cyr:
            family, given = p.family_cyr, p.given_cyr  # a Ukrainian association types Cyrillic
        return PersonRecord(
            key=key,
            family_name=family,
            given_names=given,
            birth_date=p.birth,
            codice_fiscale=p.cf if show_cf or rng.random() < 0.8 else None,
            phone=_format_phone(p.phone, rng) if p.phone else None,
            email=p.email,
        )

    def _respell(self, p: _Person) -> tuple[str, str]:
        """Another legitimate spelling of the whole name (transliteration / accents)."""
        rng = self.rng
        if p.origin == "ua" and p.family_cyr and p.given_cyr:
            mode = rng.choice(("cyrillic", "informal", "informal", "russian"))
            if mode == "cyrillic":
                return p.family_cyr, p.given_cyr
            if mode == "russian" and p.given_ru:
                return ru_passport(p.family_cyr), ru_passport(p.given_ru)
            return informal(p.family_cyr, rng), informal(p.given_cyr, rng)
        family = rng.choice(p.family_alts) if p.family_alts and rng.random() < 0.7 else p.family
        given = p.given
        if p.given_alts and (family == p.family or rng.random() < 0.5):
            given = rng.choice(p.given_alts) + p.given_extra
        if (family, given) == (p.family, p.given):
            family, given = strip_accents(family), strip_accents(given)
            if (family, given) == (p.family, p.given):
                family, given = family.upper(), given.upper()
        return family, given

    def _typo(self, text: str) -> str:
        rng = self.rng
        words = text.split(" ")
        long_ = [i for i, w in enumerate(words) if len(w) >= 6]
        if not long_:
            return text
        i = rng.choice(long_)
        w = words[i]
        pos = rng.randrange(1, len(w) - 1)  # first letter kept: people rarely mistype it
        op = rng.choice(("sub", "del", "ins", "swap"))
        letters = "aeioulnrstmkd"
        if op == "sub":
            w = w[:pos] + rng.choice(letters) + w[pos + 1 :]
        elif op == "del":
            w = w[:pos] + w[pos + 1 :]
        elif op == "ins":
            w = w[:pos] + rng.choice(letters) + w[pos:]
        else:
            w = w[: pos - 1] + w[pos] + w[pos - 1] + w[pos + 1 :] if pos > 1 else w[0] + w[2] + w[1] + w[3:]
        words[i] = w
        return " ".join(words)

    def second_record(self, p: _Person, key: str) -> tuple[PersonRecord, tuple[str, ...]]:
        """A later referral by another partner: 1-3 kinds of change, identifiers they had."""
        rng = self.rng
        family, given = p.family, p.given
        pool = ["transliteration", "typo", "swapped", "missing_birth_date", "case_spacing"]
        if p.double_surname:
            pool += ["double_surname_hyphen", "double_surname_hyphen", "dropped_second_surname"]
        if p.origin == "ua":
            pool += ["transliteration", "transliteration"]
        kinds = rng.sample(pool, rng.choice((1, 1, 2, 2, 3)))
        if "transliteration" in kinds:
            family, given = self._respell(p)
        if "typo" in kinds:
            if rng.random() < 0.5:
                family = self._typo(family)
            else:
                given = self._typo(given)
        if "double_surname_hyphen" in kinds:
            family = family.replace(" ", "-")
        if "dropped_second_surname" in kinds:
            family = family.split(" ")[0].split("-")[0]
        if "case_spacing" in kinds:
            family, given = f"  {family.upper()} ", given.upper().replace(" ", "  ")
        if "swapped" in kinds:
            family, given = given, family
        birth = None if "missing_birth_date" in kinds else p.birth
        # Identifiers a second partner had, written their way.
        cf = p.cf if p.cf and rng.random() < 0.5 else None
        phone = None
        if p.phone and rng.random() < 0.55:
            phone = _format_phone(p.phone, rng)
            kinds.append("phone_format")
        email = None
        if p.email and rng.random() < 0.4:
            email = p.email.upper() if rng.random() < 0.5 else f" {p.email} "
        record = PersonRecord(
            key=key,
            family_name=family,
            given_names=given,
            birth_date=birth,
            codice_fiscale=cf,
            phone=phone,
            email=email,
        )
        return record, tuple(kinds)

    def negative(self, p: _Person, kind: str) -> _Person:
        """A different person who looks like ``p`` (see module docstring)."""
        rng = self.rng
        if kind == "twin":  # same family name, birth date and often phone; another given name
            for _ in range(20):
                q = self.person(p.origin, birth=p.birth)
                if q.given != p.given:
                    break
            q.family, q.family_cyr, q.family_alts = p.family, p.family_cyr, p.family_alts
            q.phone = p.phone if rng.random() < 0.6 else q.phone
            return q
        if kind == "sibling_shared_phone":
            for _ in range(20):
                q = self.person(p.origin)
                if q.given != p.given:
                    break
            q.family, q.family_cyr, q.family_alts = p.family, p.family_cyr, p.family_alts
            q.phone = p.phone or q.phone
            return q
        if kind == "same_birth_date":
            return self.person(rng.choice(self._origins), birth=p.birth)
        # namesake: same name and birth date, distinct tax codes (only codes tell them apart)
        q = self.person(p.origin, birth=p.birth, sex=p.sex)
        q.family, q.given, q.family_cyr, q.given_cyr = p.family, p.given, p.family_cyr, p.given_cyr
        place = ORIGINS[p.origin][0]
        p.cf = p.cf or tax_code(p.family, p.given, p.sex, p.birth, place)
        # Same name, sex and birth date: only the birthplace part of the code differs.
        for other_place in NAMESAKE_PLACES:
            q.cf = tax_code(p.family, p.given, p.sex, p.birth, other_place)
            if q.cf not in self._used_cf:
                break
        self._used_cf.update((p.cf, q.cf or ""))
        return q


def make_dedup_evalset(
    seed: int = 20260601, *, people: int = 2_000, duplicates: int = 480, negatives: int = 300
) -> DedupEvalSet:
    """Seeded labelled set: ``people`` distinct people (plus ``negatives`` look-alikes), of
    whom ``duplicates`` are referred twice. Half of the first referrals are already known
    (``existing``); everything else arrives as one shuffled batch (``new``)."""
    gen = _Generator(seed)
    rng = gen.rng
    persons = [gen.person() for _ in range(people)]
    negative_kinds = ("twin", "sibling_shared_phone", "same_birth_date", "namesake_distinct_cf")
    neg_persons: list[tuple[_Person, _Person, str]] = []
    for i in range(negatives):
        p = rng.choice(persons)
        kind = negative_kinds[i % len(negative_kinds)]
        neg_persons.append((p, gen.negative(p, kind), kind))

    # Namesakes must show their codes: nothing else can tell them apart, for anyone.
    show_cf = {x.entity for p, q, kind in neg_persons if kind == "namesake_distinct_cf" for x in (p, q)}
    entity: dict[str, int] = {}
    firsts: list[PersonRecord] = []
    first_key: dict[int, str] = {}
    for p in persons + [q for _, q, _ in neg_persons]:
        key = f"R{len(entity):07d}"
        firsts.append(gen.first_record(p, key, show_cf=p.entity in show_cf))
        entity[key] = p.entity
        first_key[p.entity] = key

    pairs: list[DuplicatePair] = []
    seconds: list[PersonRecord] = []
    for p in rng.sample([p for p in persons if p.entity not in show_cf], duplicates):
        key = f"R{len(entity):07d}"
        rec, kinds = gen.second_record(p, key)
        entity[key] = p.entity
        seconds.append(rec)
        first = firsts[int(first_key[p.entity][1:])]
        pairs.append(DuplicatePair(first.key, key, kinds, _merge_grade(first, rec, kinds)))

    known = set(rng.sample(range(len(firsts)), len(firsts) // 2))
    existing = [r for i, r in enumerate(firsts) if i in known]
    new = [r for i, r in enumerate(firsts) if i not in known] + seconds
    rng.shuffle(new)
    hard = [(first_key[p.entity], first_key[q.entity], kind) for p, q, kind in neg_persons]
    return DedupEvalSet(existing, new, entity, pairs, hard)


def _merge_grade(a: PersonRecord, b: PersonRecord, kinds: tuple[str, ...]) -> bool:
    """Does the pair carry evidence on which a merge is *right* without a person looking?

    Yes when both show the same codice fiscale, or share a phone number or e-mail address, or
    both give the birth date and their names differ only in spelling (transliteration, typo,
    order, accents, case, hyphen). No when a birth date is missing on one side and nothing
    else corroborates (a name alone is not enough), or a name part is missing on one side (a
    second surname): those go to an operator (review band) by design.
    """
    from tasks.files.normalize import normalize_cf, normalize_email, normalize_phone

    if a.codice_fiscale and normalize_cf(a.codice_fiscale) == normalize_cf(b.codice_fiscale):
        return True
    for x, y, norm in ((a.phone, b.phone, normalize_phone), (a.email, b.email, normalize_email)):
        if x and y and norm(x) is not None and norm(x) == norm(y):
            return True
    return a.birth_date is not None and b.birth_date is not None and "dropped_second_surname" not in kinds
