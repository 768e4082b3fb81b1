"""Labelled referral sets for deduplication, written from outside the dedup code (issue 21).

``make_dedup_set(size, seed)`` writes referrals the way Bergamo's partners type them: people of
Ukrainian, Russian, Italian, Latin-American and West-African/Maghreb origin, each referred one to
four times. Every repeat referral is re-typed from a document or a conversation, so it may carry:

* another Latin spelling of the Cyrillic name: Ukrainian passport (KMU 2010), older English
  style, Russian-style (the Russian form of the name), French, German or Italian clerks' spelling;
  or the Cyrillic itself;
* the patronymic added or dropped, given and family name swapped, a typo in a name;
* day and month swapped, or no birth date; a typo in the tax code, or no tax code;
* a hyphenated second surname truncated or dropped; another phone, no phone, another e-mail.

Hard negatives, labelled: twins (same surname, birth date, phone; different given name),
parent and child with the same name, namesakes born on 1 January (the date registries give
when the day is unknown), families sharing one phone or one e-mail, and a social worker's phone
written on many referrals. The tax codes are computed here (own implementation of the
Agenzia delle Entrate rules, omocodia for namesakes), so valid codes look real.

Nothing here imports the dedup code or the normaliser: the set is ground truth, not a mirror.
Each record has a ``cluster`` (the person); ``pairs()`` gives the true duplicate pairs.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

from bench.dedup_names import (
    AF_FAMILY,
    AF_FEMALE,
    AF_MALE,
    BERGAMO_TOWNS,
    ENGLISH,
    FRENCH,
    GERMAN,
    IT_FAMILY,
    IT_FEMALE,
    IT_MALE,
    ITALIAN,
    KMU,
    LA_FAMILY,
    LA_FEMALE,
    LA_MALE,
    RU_FAMILY,
    RUSSIAN,
    RUSSIAN_FORM,
    TWIN_NAMES,
    UA_OPERATORS,
    UK_ADJ_ROOTS,
    UK_FEMALE,
    UK_MALE,
    UK_ROOTS,
    UK_SUFFIX,
    VOWELS_CYR,
)

# --- transliteration (tables in bench/dedup_names.py) -------------------------------------------

CONVENTIONS = ("kmu", "english", "russian", "french", "german", "italian")


def _italian_hush(word: str, i: int, ch: str) -> str:
    """ш / ч as an Italian clerk writes them: sc/c before e, i; sci/ci before other vowels."""
    nxt = word[i + 1] if i + 1 < len(word) else ""
    if nxt in "еєиіїйь":
        return "sc" if ch == "ш" else "c"
    if nxt in VOWELS_CYR:
        return "sci" if ch == "ш" else "ci"
    return "sh" if ch == "ш" else "ch"


def transliterate(text: str, convention: str) -> str:
    """Latin spelling of a Cyrillic name in one convention, capitalised as typed."""
    table = {
        "kmu": KMU,
        "english": ENGLISH,
        "russian": RUSSIAN,
        "french": FRENCH,
        "german": GERMAN,
        "italian": ITALIAN,
    }[convention]
    words = []
    for word in text.split(" "):
        parts = []
        for part in word.split("-"):
            low = part.lower()
            out = []
            for i, ch in enumerate(low):
                if convention == "italian" and ch in "шч":
                    out.append(_italian_hush(low, i, ch))
                    continue
                if convention == "german" and ch == "с" and 0 < i < len(low) - 1 and low[i - 1] in VOWELS_CYR:
                    out.append("ss")
                    continue
                rule = table.get(ch, ch)
                if isinstance(rule, tuple):
                    rule = rule[0] if i == 0 else rule[1]
                out.append(rule)
            latin = "".join(out)
            if convention == "kmu" and latin.endswith("yi") and len(latin) > 4:
                latin = latin[:-2] + "yi"
            if convention == "english" and latin.endswith("iy"):
                pass
            parts.append(latin[:1].upper() + latin[1:])
        words.append("-".join(parts))
    return " ".join(words)


# --- tax codes (Agenzia delle Entrate rules, written for this set) -------------------------------

_CF_MONTH = "ABCDEHLMPRST"
_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
_OMOCODIA = "LMNPQRSTUV"
_PLACES = {"UA": "Z138", "RU": "Z154", "IT": "A794", "LA": "Z611", "AF": "Z343"}


def _cf_letters(text: str, given: bool) -> str:
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", text.upper()) if c.isalpha() and c.isascii())
    cons = [c for c in plain if c not in "AEIOU"]
    vows = [c for c in plain if c in "AEIOU"]
    if given and len(cons) >= 4:
        cons = [cons[0], cons[2], cons[3]]
    return ("".join(cons + vows) + "XXX")[:3]


def check_char(body: str) -> str:
    """The control character of the first 15 characters."""
    total = 0
    for i, c in enumerate(body):
        v = int(c) if c.isdigit() else ord(c) - 65
        total += _ODD[v] if i % 2 == 0 else v
    return chr(65 + total % 26)


def tax_code(family_latin: str, given_latin: str, female: bool, born: date, origin: str, omocodia: int = 0) -> str:
    """A valid codice fiscale; ``omocodia`` > 0 replaces digits from the right (namesakes)."""
    day = born.day + (40 if female else 0)
    body = (
        _cf_letters(family_latin, False)
        + _cf_letters(given_latin, True)
        + f"{born.year % 100:02d}"
        + _CF_MONTH[born.month - 1]
        + f"{day:02d}"
        + _PLACES[origin]
    )
    chars = list(body)
    for pos in [14, 13, 12, 10, 9, 7, 6][:omocodia]:
        chars[pos] = _OMOCODIA[int(chars[pos])]
    body = "".join(chars)
    return body + check_char(body)


def typo_in_code(code: str, rng: random.Random) -> str:
    """One character mistyped (a digit for a digit, a letter for a letter), check char unchanged."""
    for _ in range(20):
        pos = rng.randrange(15)
        c = code[pos]
        alphabet = "0123456789" if c.isdigit() else "ABCDEFGHILMNOPRSTUVZ"
        new = rng.choice([a for a in alphabet if a != c])
        out = code[:pos] + new + code[pos + 1 :]
        if check_char(out[:15]) != out[15]:
            return out
    return code[:15] + ("A" if code[15] != "A" else "B")


# --- people and referrals ----------------------------------------------------------------------


@dataclass
class Person:
    """One real person (the cluster), in Cyrillic where they have it."""

    cluster: int
    origin: str  # UA RU IT LA AF
    female: bool
    family: str  # as in the passport (Cyrillic for UA/RU)
    given: str
    given_ru: str | None
    patronymic: str | None
    born: date
    cf: str | None
    phone: str | None
    email: str | None
    town: str
    second_family: str | None = None  # hyphenated / second surname


@dataclass(frozen=True)
class LabelledRecord:
    """One referral row as a partner sends it, with its ground truth."""

    record_id: str
    cluster: int
    family_name: str
    given_names: str
    birth_date: date | None
    codice_fiscale: str | None
    phone: str | None
    email: str | None
    municipality: str
    variations: tuple[str, ...] = ()


@dataclass
class DedupSet:
    """Records in arrival order, the hard-negative pairs and their kinds."""

    records: list[LabelledRecord]
    hard_negatives: list[tuple[str, str, str]] = field(default_factory=list)

    def pairs(self) -> set[frozenset[str]]:
        """Every pair of records of the same person."""
        by: dict[int, list[str]] = defaultdict(list)
        for r in self.records:
            by[r.cluster].append(r.record_id)
        return {frozenset(p) for ids in by.values() for p in combinations(ids, 2)}


_PATRONYMIC_M = {
    "Олександр": "Олександрович",
    "Іван": "Іванович",
    "Петро": "Петрович",
    "Василь": "Васильович",
    "Микола": "Миколайович",
    "Сергій": "Сергійович",
    "Володимир": "Володимирович",
    "Михайло": "Михайлович",
    "Юрій": "Юрійович",
    "Віктор": "Вікторович",
    "Андрій": "Андрійович",
}


def _patronymic(rng: random.Random, female: bool) -> str:
    base = rng.choice(list(_PATRONYMIC_M.values()))
    return base[:-2] + "на" if female else base


def _zipf(rng: random.Random, items: list, s: float = 0.9):  # type: ignore[no-untyped-def]
    weights = [1 / (i + 1) ** s for i in range(len(items))]
    return rng.choices(items, weights)[0]


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.uk_family = [r + s for r in UK_ROOTS for s in UK_SUFFIX]
        random.Random(seed + 1).shuffle(self.uk_family)
        self.used_phones: set[str] = set()
        self.used_cf: set[str] = set()
        self.used_emails: set[str] = set()
        self.cluster = 0

    def phone(self) -> str:
        while True:
            if self.rng.random() < 0.8:
                p = f"+39 3{self.rng.choice('234589')}{self.rng.randrange(10)} {self.rng.randrange(1000000, 9999999)}"
            else:
                operator = self.rng.choice(UA_OPERATORS)
                p = f"+380 {operator} {self.rng.randrange(1000000, 9999999)}"
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p

    def born(self, young: bool = False) -> date:
        start = date(1995, 1, 1) if young else date(1958, 1, 1)
        span = 9000 if young else 16000
        return start + timedelta(days=self.rng.randrange(span))

    def person(self, *, origin: str | None = None, **over) -> Person:  # type: ignore[no-untyped-def]
        rng = self.rng
        origin = origin or rng.choices(["UA", "RU", "IT", "LA", "AF"], [62, 10, 12, 8, 8])[0]
        female = over.pop("female", rng.random() < 0.6)
        given_ru = None
        second = None
        if origin == "UA":
            given, given_ru = _zipf(rng, UK_FEMALE if female else UK_MALE, 0.6)
            if rng.random() < 0.08:
                adj = rng.choice(UK_ADJ_ROOTS)
                family = adj + ("а" if female else "ий")
            else:
                family = _zipf(rng, self.uk_family, 0.5)
            if rng.random() < 0.06:
                second = _zipf(rng, self.uk_family, 0.5)
        elif origin == "RU":
            given, given_ru = _zipf(rng, UK_FEMALE if female else UK_MALE, 0.6)
            given = given_ru
            family = rng.choice(RU_FAMILY) + ("а" if female else "")
        elif origin == "IT":
            given = rng.choice(IT_FEMALE if female else IT_MALE)
            family = rng.choice(IT_FAMILY)
        elif origin == "LA":
            given = rng.choice(LA_FEMALE if female else LA_MALE)
            family = rng.choice(LA_FAMILY)
            second = rng.choice(LA_FAMILY)
        else:
            given = rng.choice(AF_FEMALE if female else AF_MALE)
            family = rng.choice(AF_FAMILY)
        patronymic = _patronymic(rng, female) if origin in ("UA", "RU") else None
        born = over.pop("born", None) or self.born()
        p = Person(
            cluster=self.cluster,
            origin=origin,
            female=female,
            family=family,
            given=given,
            given_ru=given_ru,
            patronymic=patronymic,
            born=born,
            cf=None,
            phone=self.phone() if rng.random() < 0.85 else None,
            email=None,
            town=rng.choice(BERGAMO_TOWNS),
            second_family=second,
        )
        for k, v in over.items():
            setattr(p, k, v)
        if "given" in over:
            p.given_ru = RUSSIAN_FORM.get(p.given)
        if rng.random() < 0.55:
            p.email = self.email(p)
        if rng.random() < 0.7:
            p.cf = self.code(p)
        self.cluster += 1
        return p

    def email(self, p: Person) -> str:
        """A personal address made of the person's name, as most people's are."""
        cyr = p.origin in ("UA", "RU")
        fam = transliterate(p.family, "kmu") if cyr else p.family
        giv = transliterate(p.given, "kmu") if cyr else p.given
        while True:
            domain = self.rng.choice(["gmail.com", "ukr.net", "libero.it", "yahoo.com", "i.ua"])
            address = f"{_ascii(giv)}.{_ascii(fam)}{self.rng.randrange(10, 999)}@{domain}"
            if address not in self.used_emails:
                self.used_emails.add(address)
                return address

    def code(self, p: Person, omocodia: int = 0) -> str:
        fam = (p.family + (p.second_family or "")) if p.origin != "UA" else p.family
        f_lat = transliterate(fam, "kmu") if p.origin in ("UA", "RU") else fam
        g_lat = transliterate(p.given, "kmu") if p.origin in ("UA", "RU") else p.given
        while True:
            cf = tax_code(f_lat, g_lat, p.female, p.born, p.origin, omocodia)
            if cf not in self.used_cf:
                self.used_cf.add(cf)
                return cf
            omocodia += 1

    # -- one referral of a person --------------------------------------------------------------

    def referral(self, p: Person, first: bool, rid: str) -> LabelledRecord:
        rng = self.rng
        var: list[str] = []
        cyrillic = p.origin in ("UA", "RU")
        family, given = p.family, p.given
        if p.second_family:
            sep = "-" if p.origin == "UA" else " "
            family = f"{family}{sep}{p.second_family}"
            if not first and rng.random() < 0.5:
                if rng.random() < 0.5:
                    family, var = p.family, [*var, "dropped_second_surname"]
                else:
                    family = f"{p.family}{sep}{p.second_family[: rng.randint(2, 4)]}"
                    var.append("truncated_second_surname")
        if cyrillic:
            if p.patronymic and rng.random() < (0.25 if first else 0.35):
                given = f"{given} {p.patronymic}"
                var.append("patronymic")
            if rng.random() < (0.06 if first else 0.1):
                pass  # Cyrillic as written in the passport
            else:
                conv = "kmu" if first and rng.random() < 0.6 else rng.choice(CONVENTIONS)
                if conv == "russian" and p.given_ru and p.origin == "UA":
                    given = given.replace(p.given, p.given_ru)
                family, given = transliterate(family, conv), transliterate(given, conv)
                if not first:
                    var.append(f"translit_{conv}")
        if not first and rng.random() < 0.08:
            given, family = _name_typo(given, rng), family
            var.append("name_typo")
        if rng.random() < (0.05 if first else 0.12):
            family, given = given, family
            var.append("swapped")
        born: date | None = p.born
        if rng.random() < (0.04 if first else 0.1):
            born = None
            var.append("missing_birth_date")
        elif not first and p.born.day <= 12 and p.born.day != p.born.month and rng.random() < 0.15:
            born = date(p.born.year, p.born.day, p.born.month)
            var.append("day_month_swapped")
        cf = p.cf
        if cf and not first:
            r = rng.random()
            if r < 0.3:
                cf, var = None, [*var, "cf_missing"]
            elif r < 0.4:
                cf, var = typo_in_code(cf, rng), [*var, "cf_typo"]
        phone = p.phone
        if phone and not first:
            r = rng.random()
            if r < 0.15:
                phone, var = None, [*var, "phone_missing"]
            elif r < 0.35:
                phone, var = self.phone(), [*var, "phone_changed"]
            elif r < 0.6:
                phone = _reformat_phone(phone, rng)
        email = p.email
        if email and not first and rng.random() < 0.35:
            email = None
            var.append("email_missing")
        if rng.random() < 0.3 and email:
            email = email.upper() if rng.random() < 0.2 else email
        case = rng.random()
        if case < 0.25:
            family, given = family.upper(), given.upper()
        return LabelledRecord(
            record_id=rid,
            cluster=p.cluster,
            family_name=family,
            given_names=given,
            birth_date=born,
            codice_fiscale=cf,
            phone=phone,
            email=email,
            municipality=p.town,
            variations=tuple(var),
        )


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if c.isalnum() and c.isascii())


def _name_typo(name: str, rng: random.Random) -> str:
    """One slip of the keyboard in the longest word: two letters swapped or one doubled."""
    words = name.split(" ")
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    if len(w) < 5:
        return name
    j = rng.randrange(1, len(w) - 2)
    w = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.6 else w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def _reformat_phone(phone: str, rng: random.Random) -> str:
    digits = phone.replace(" ", "")
    if digits.startswith("+39") and rng.random() < 0.6:
        local = digits[3:]
        return rng.choice([local, f"{local[:3]} {local[3:]}", f"{local[:3]}-{local[3:]}", f"0039{local}"])
    return digits if rng.random() < 0.5 else "00" + digits[1:]


def make_dedup_set(size: int, seed: int) -> DedupSet:
    """About ``size`` referrals in arrival order, a third of the people referred more than once."""
    g = _Gen(seed)
    rng = g.rng
    people: list[tuple[Person, int]] = []  # (person, referrals)
    negatives: list[tuple[int, int, str]] = []
    n_records = 0
    social_phones = [g.phone() for _ in range(max(1, size // 1500))]
    while n_records < size:
        kind = rng.random()
        if kind < 0.03:  # twins
            male, female = rng.choice(TWIN_NAMES)
            a = g.person(origin="UA", female=False, given=male)
            shared = {"family": a.family, "born": a.born, "phone": a.phone, "email": a.email, "town": a.town}
            b = g.person(origin="UA", female=rng.random() < 0.5, **shared)
            b.given = female if b.female else rng.choice([m for m, _ in UK_MALE if m != male])
            b.given_ru = RUSSIAN_FORM.get(b.given)
            b.email = g.email(b) if b.email else None
            a.cf = g.code(a) if a.cf else None
            b.cf = g.code(b) if b.cf else None
            pair = [(a, rng.choice([1, 1, 2])), (b, rng.choice([1, 1, 2]))]
            negatives.append((a.cluster, b.cluster, "twin"))
        elif kind < 0.05:  # parent and child with the same name
            a = g.person(origin=rng.choice(["UA", "IT", "AF"]), female=False)
            b = g.person(origin=a.origin, female=False, born=g.born(young=True))
            b.family, b.given, b.given_ru, b.phone, b.town = a.family, a.given, a.given_ru, a.phone, a.town
            b.cf = g.code(b) if b.cf else None
            b.email = g.email(b) if b.email else None
            pair = [(a, rng.choice([1, 2])), (b, rng.choice([1, 2]))]
            negatives.append((a.cluster, b.cluster, "parent_child"))
        elif kind < 0.07:  # namesakes born on 1 January (omocodia for the second code)
            jan1 = date(rng.randrange(1965, 2000), 1, 1)
            a = g.person(origin=rng.choice(["UA", "AF"]), born=jan1)
            b = g.person(origin=a.origin, female=a.female, born=jan1)
            b.family, b.given, b.given_ru = a.family, a.given, a.given_ru
            b.cf = g.code(b) if (b.cf and a.cf) else None
            b.email = g.email(b) if b.email else None
            pair = [(a, rng.choice([1, 2])), (b, rng.choice([1, 2]))]
            negatives.append((a.cluster, b.cluster, "namesake_1_january"))
        elif kind < 0.10:  # a family sharing a phone or an e-mail
            a = g.person(origin=rng.choice(["UA", "UA", "RU", "AF", "LA"]))
            b = g.person(origin=a.origin)
            b.family = a.family
            while b.given == a.given:  # two sisters are not both called Awa
                b.given, b.given_ru = g.person(origin=a.origin, female=b.female).given, None
            b.given_ru = RUSSIAN_FORM.get(b.given)
            if rng.random() < 0.5:
                b.phone = a.phone
                what = "family_shared_phone"
            else:
                fam = transliterate(a.family, "kmu") if a.origin in ("UA", "RU") else a.family
                b.email = a.email = a.email or f"famiglia.{_ascii(fam)}@gmail.com"
                what = "family_shared_email"
            b.cf = g.code(b) if b.cf else None
            pair = [(a, rng.choice([1, 2])), (b, rng.choice([1, 2]))]
            negatives.append((a.cluster, b.cluster, what))
        else:
            a = g.person()
            if rng.random() < 0.03:
                a.phone = rng.choice(social_phones)  # the social worker's phone, not theirs
            pair = [(a, rng.choices([1, 2, 3, 4], [64, 28, 6, 2])[0])]
        people.extend(pair)
        n_records += sum(k for _, k in pair)
    # Referrals in arrival order: each person's first referral before the repeats, mixed.
    events: list[tuple[float, Person, bool]] = []
    for p, k in people:
        t = rng.random()
        events.append((t, p, True))
        for _ in range(k - 1):
            events.append((t + rng.random() * (1 - t), p, False))
    events.sort(key=lambda e: e[0])
    records = [g.referral(p, first, f"R{i + 1:06d}") for i, (_, p, first) in enumerate(events)]
    first_of: dict[int, list[str]] = defaultdict(list)
    for r in records:
        first_of[r.cluster].append(r.record_id)
    hard = [(x, y, what) for a, b, what in negatives for x in first_of[a] for y in first_of[b]]
    return DedupSet(records=records, hard_negatives=hard)


if __name__ == "__main__":
    import sys

    s = make_dedup_set(int(sys.argv[1]) if len(sys.argv) > 1 else 3000, 21)
    for r in s.records[:40]:
        print(r)
    print(len(s.records), len(s.pairs()), len(s.hard_negatives))
