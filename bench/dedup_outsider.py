"""An outsider's labelled referral files for the duplicate search (issue 21).

Written without reading the dedup code or ``bench/dedup_sets.py``: people referred to the
employment centres of Bergamo, each referred one to four times by partners who write names,
dates, phones and tax codes their own way, plus the people a duplicate search must keep apart
(twins, a parent and a child with the same name, namesakes born on 1 January, families on one
phone or e-mail, a social worker's phone on many referrals, common Italian names).

``write_outsider(path, size, seed=…)`` writes the referral CSV (English headers ``record_id``,
``first_name``, ``last_name``, ``birth_date``, ``phone``, ``email``, ``codice_fiscale``,
``municipality``) and ``<stem>_labels.csv`` (``record_id``, ``cluster``, ``origin``, ``tag``,
``variations``) and returns the labels. ``python -m bench.dedup_outsider --size 3000 --out DIR``
does the same from the shell. Seed ``MEASURE_SEED`` is the set measured; ``TRAIN_SEED`` gives a
different draw for training, never measured.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import dedup_outsider_names as N

MEASURE_SEED = 2024
TRAIN_SEED = 7001
HEADERS = ["record_id", "first_name", "last_name", "birth_date", "phone", "email", "codice_fiscale", "municipality"]

# Share of referred people by origin (Bergamo employment centres, 2023–2024, roughly).
ORIGINS = {
    "UA": 0.16, "RU": 0.03, "MD": 0.05, "RO": 0.09, "AL": 0.07, "MA": 0.12, "SN": 0.07, "NG": 0.06,
    "PK": 0.07, "BD": 0.05, "LA": 0.07, "IT": 0.12, "CN": 0.04,
}  # fmt: skip
COMMON_GIVEN = [("Marco", "M"), ("Giuseppe", "M"), ("Luca", "M"), ("Andrea", "M"), ("Francesco", "M"), ("Maria", "F"),
                ("Anna", "F"), ("Giulia", "F"), ("Francesca", "F"), ("Sara", "F")]  # fmt: skip
COMMON_FAMILY = ["Rossi", "Russo", "Ferrari", "Colombo", "Bianchi", "Locatelli", "Rota"]
ASYLUM = {"SN", "NG", "PK", "BD", "MA"}  # documents often carry 1 January for an unknown birthday
CF_SHARE = {"IT": 0.97, "RO": 0.85, "AL": 0.85, "MA": 0.8, "CN": 0.8, "MD": 0.75, "UA": 0.7, "RU": 0.7}


@dataclass
class Partner:
    """How one referring office writes its file."""

    case: str  # "title", "upper", "lower"
    strip_accents: bool
    date_format: str
    phone_style: str
    translit: str | None  # the spelling this office uses for Cyrillic names, when it has one


PARTNERS = [
    (Partner("title", False, "%d/%m/%Y", "spaced", None), 0.22),  # Comune di Bergamo
    (Partner("upper", True, "%d/%m/%Y", "plain", "ua_italian"), 0.14),  # Caritas
    (Partner("title", False, "%Y-%m-%d", "intl", "ua_passport"), 0.14),  # Questura export
    (Partner("upper", False, "%d.%m.%Y", "intl", "ua_passport"), 0.1),  # Ukrainian association
    (Partner("title", True, "%d-%m-%Y", "dashed", None), 0.1),  # cooperativa sociale
    (Partner("title", False, "%d/%m/%Y", "zero", "ua_english"), 0.1),  # CAS reception centre
    (Partner("lower", True, "%d/%m/%Y", "plain", None), 0.05),  # a volunteer's sheet
    (Partner("upper", True, "%d/%m/%Y", "plain", "ua_french"), 0.05),  # patronato
    (Partner("title", False, "%d/%m/%Y", "spaced", "ua_german"), 0.05),  # ENAIP course office
    (Partner("title", False, "%m/%d/%Y", "intl", "ua_english"), 0.03),  # an English form: month first
]


@dataclass
class Person:
    pid: int
    origin: str
    sex: str
    name: dict[str, Any]
    birth: date | None
    cf: str | None
    phone: str | None
    email: str | None
    municipality: str
    tag: str = ""
    records: int = 1
    jan1: bool = False
    temp_cf: str | None = None
    extra_phone: str | None = None
    notes: list[str] = field(default_factory=list)


def _zipf(rng: random.Random, items: list, s: float = 0.7):
    weights = [1 / (i + 1) ** s for i in range(len(items))]
    return rng.choices(items, weights)[0]


# ------------------------------------------------------------------ people


def _new_name(rng: random.Random, origin: str, sex: str | None = None) -> tuple[dict[str, Any], str]:
    """A person's name parts (origin-specific) and sex."""

    def pick_given(pool: list, sex_at: int = -1):
        choices = [g for g in pool if sex is None or g[sex_at] == sex]
        return _zipf(rng, choices)

    if origin in {"UA", "RU"}:
        if origin == "UA":
            g = pick_given(N.UA_GIVEN)
            fam = _zipf(rng, N.UA_FAMILY)
            russian = rng.random() < 0.2  # Russian-language documents (east, older passports)
        else:
            pool = N.UA_GIVEN + [(r, r, s) for r, s in N.RU_ONLY_GIVEN]
            g = pick_given(pool)
            f = _zipf(rng, N.RU_FAMILY)
            fam, russian = (f, f), True
        own = rng.choice(N.RU_SYSTEMS[:3]) if russian else rng.choices(N.UA_SYSTEMS, [6, 2, 0.5, 0.5, 0.5, 1, 0.2])[0]
        return {"given": g[:2], "family": fam, "patr": rng.choice(N.PATRONYMICS), "russian": russian,
                "system": own, "with_patr": rng.random() < 0.1}, g[2]  # fmt: skip
    if origin == "MD":
        g = pick_given(N.MD_GIVEN)
        return {"given": g[:2], "family": _zipf(rng, N.MD_FAMILY), "cyrillic": rng.random() < 0.2,
                "system": rng.choice(N.RU_SYSTEMS[:3])}, g[2]  # fmt: skip
    if origin in {"RO", "IT", "LA"}:
        given_pool, family_pool = {"RO": (N.RO_GIVEN, N.RO_FAMILY), "IT": (N.IT_GIVEN, N.IT_FAMILY),
                                   "LA": (N.LA_GIVEN, N.LA_FAMILY)}[origin]  # fmt: skip
        g = pick_given(given_pool)
        given = [g[0]]
        if origin == "RO" and rng.random() < 0.25:
            given.append(rng.choice([x for x in given_pool if x[1] == g[1] and x[0] != g[0]])[0])
        family = [_zipf(rng, family_pool)]
        if origin == "LA" and rng.random() < 0.85:
            family.append(_zipf(rng, [f for f in family_pool if f != family[0]]))
        return {"given": given, "family": family}, g[1]
    if origin == "AL":
        g = pick_given(N.AL_GIVEN)
        return {"given": [g[0]], "family": _zipf(rng, N.AL_FAMILY), "own": 0}, g[1]
    if origin == "MA":
        g = pick_given(N.MA_GIVEN)
        fam, article = _zipf(rng, N.MA_FAMILY)
        form = rng.choices(["El ", "El-", "El", "Al-", "", "Al "], [5, 2, 2, 1, 2, 0.5])[0] if article else ""
        return {"given": g[0], "gown": _own(rng, g[0]), "family": fam, "fown": _own(rng, fam),
                "article": article, "form": form}, g[1]  # fmt: skip
    if origin in {"SN", "NG", "PK", "BD"}:
        pools = {
            "SN": (N.SN_GIVEN, N.SN_FAMILY),
            "NG": (N.NG_GIVEN, N.NG_FAMILY),
            "PK": (N.PK_GIVEN, N.PK_FAMILY),
            "BD": (N.BD_GIVEN, N.BD_FAMILY),
        }
        spelled_given, spelled_family = pools[origin]
        g = pick_given(spelled_given)
        fam = _zipf(rng, spelled_family)
        name: dict[str, Any] = {"given": g[0], "gown": _own(rng, g[0]), "family": fam, "fown": _own(rng, fam)}
        if origin == "NG" and rng.random() < 0.4:
            name["middle"] = rng.choice(spelled_given)[0][0]
        if origin == "PK" and g[1] == "M" and rng.random() < 0.5:
            name["prefix"] = rng.choice(["Muhammad", "Muhammad", "Mohammad", "Muhammed"])
        if origin == "BD" and g[1] == "M" and rng.random() < 0.6:
            name["prefix"] = rng.choice(["Md", "Md.", "MD", "Mohammad", "Mohammed", "Muhammad"])
        return name, g[1]
    g = pick_given(N.CN_GIVEN)
    return {"given": g[0], "family": _zipf(rng, N.CN_FAMILY), "join": rng.choices(["", " ", "-"], [7, 2, 1])[0]}, g[1]


def _own(rng: random.Random, spellings: list[str]) -> int:
    """Which spelling a person's own documents carry: mostly the first."""
    return 0 if len(spellings) == 1 or rng.random() < 0.7 else rng.randrange(len(spellings))


def _birth(rng: random.Random, origin: str, low: int = 18, high: int = 62) -> tuple[date, bool]:
    year = 2024 - rng.randint(low, high)
    if origin in ASYLUM and rng.random() < 0.18:
        return date(year, 1, 1), True
    return date(year, 1, 1) + timedelta(days=rng.randrange(365)), False


def _phone(rng: random.Random, origin: str) -> str:
    if origin in {"UA", "RU"} and rng.random() < 0.25:
        return (
            f"+380{rng.choice(['50', '63', '66', '67', '68', '73', '93', '95', '97', '98'])}{rng.randrange(10**7):07d}"
        )
    return f"+393{rng.choice(['20', '27', '28', '29', '31', '33', '34', '35', '38', '39', '40', '45', '47', '48', '49', '51', '66', '77', '88', '92'])}{rng.randrange(10**7):07d}"  # noqa: E501


def _email(rng: random.Random, person: Person, given: str, family: str, owners: dict[str, int]) -> str:
    """A mailbox made of the name, as people choose them; a namesake's is taken, so digits follow."""
    g = "".join(c for c in N.ascii_fold(given).lower().split(" ")[0] if c.isalnum()) or "x"
    f = "".join(c for c in N.ascii_fold(family).lower() if c.isalnum())
    year = person.birth.year % 100 if person.birth else rng.randrange(100)
    local = rng.choice(
        [f"{g}.{f}", f"{g}{f}{year:02d}", f"{f}.{g[:1]}", f"{g}_{f}", f"{g}{rng.randrange(1000)}", f"{f}{g}"]
    )
    address = f"{local}@{rng.choice(N.EMAIL_DOMAINS[person.origin])}"
    while owners.setdefault(address, person.pid) != person.pid:
        address = address.replace("@", f"{rng.randrange(10)}@", 1)
    return address


def _cf(rng: random.Random, person: Person, given: str, family: str) -> str:
    """The tax code from the name on the permit, the birth date, the sex and the birthplace."""
    place = rng.choice(N.IT_BIRTH_CODES) if person.origin == "IT" else N.BIRTH_CODES[person.origin]
    return N.tax_code(family, given, person.birth or date(1990, 1, 1), person.sex, place)


def _people(rng: random.Random, count: int, owners: dict[str, int]) -> list[Person]:
    people: list[Person] = []
    taken: set[str] = set()
    origins, weights = list(ORIGINS), list(ORIGINS.values())

    def add(origin: str, sex: str | None = None, name: dict[str, Any] | None = None, tag: str = "",
            birth: tuple[date, bool] | None = None) -> Person:  # fmt: skip
        new_name, new_sex = _new_name(rng, origin, sex)
        if name is not None:
            new_sex = sex or new_sex
        b, jan1 = birth or _birth(rng, origin)
        p = Person(len(people), origin, new_sex, name or new_name, b, None, None, None,
                   rng.choice(N.MUNICIPALITIES), tag=tag, jan1=jan1)  # fmt: skip
        given, family = _render_name(rng, p, own=True)
        if rng.random() < CF_SHARE.get(origin, 0.6):
            p.cf = N.unique_tax_code(_cf(rng, p, given, family), taken)
        if origin in ASYLUM | {"UA"} and rng.random() < 0.1:
            p.temp_cf = f"{rng.randrange(10**10, 10**11)}"  # the numeric code of an asylum seeker's first permit
        p.phone = _phone(rng, origin) if rng.random() < 0.95 else None
        p.email = _email(rng, p, given, family, owners) if rng.random() < 0.65 else None
        p.records = rng.choices([1, 2, 3, 4], [72, 22, 5, 1])[0]
        people.append(p)
        return p

    while len(people) < count:
        base = add(rng.choices(origins, weights)[0])
        roll = rng.random()
        if roll < 0.015 and base.birth:  # twins: one family name, one birth date, one phone; two given names
            name, sex = _sibling_name(rng, base)
            sib = add(base.origin, sex=sex, tag="twin", birth=(base.birth, base.jan1), name=name)
            sib.phone, sib.municipality = base.phone if rng.random() < 0.85 else sib.phone, base.municipality
            sib.email = base.email if rng.random() < 0.35 else sib.email
            base.tag = "twin"
        elif roll < 0.025 and base.birth:  # parent and child with the same name, 20–35 years apart
            gap = rng.randint(20, 35)
            year = min(base.birth.year + gap, 2006) if base.birth.year + 20 <= 2006 else base.birth.year - gap
            kid = add(base.origin, sex=base.sex, name=dict(base.name), tag="parent_child",
                      birth=(date(year, rng.randint(1, 12), rng.randint(1, 28)), False))  # fmt: skip
            kid.phone = base.phone if rng.random() < 0.5 else kid.phone
            kid.municipality = base.municipality if rng.random() < 0.8 else kid.municipality
            base.tag = "parent_child"
        elif roll < 0.05 and base.origin in ASYLUM | {"UA", "LA"} and base.birth:
            # namesakes born on 1 January (refugee documents), same year or not, nothing else shared
            base.birth, base.jan1, base.tag = date(base.birth.year, 1, 1), True, "namesake_jan1"
            if base.cf:
                base.cf = N.unique_tax_code(_cf(rng, base, *_render_name(rng, base, own=True)), taken)
            year = base.birth.year if rng.random() < 0.35 else base.birth.year + rng.choice([-3, -2, -1, 1, 2, 4, 7])
            year = min(year, 2006)
            other_name = dict(base.name)
            for key in ("gown", "fown"):
                if key in other_name:
                    other_name[key] = _own(rng, other_name["given" if key == "gown" else "family"])
            add(base.origin, sex=base.sex, name=other_name, tag="namesake_jan1", birth=(date(year, 1, 1), True))
        elif roll < 0.10:  # a family on one phone and/or one e-mail
            base.tag = "family"
            shared_phone, shared_mail = rng.random() < 0.75, rng.random() < 0.4
            for _ in range(rng.randint(1, 4)):
                name, sex = _sibling_name(rng, base, keep_family=rng.random() < 0.8)
                birth = None
                if base.birth and base.birth.year <= 1986 and rng.random() < 0.5:  # a son or daughter
                    year = min(base.birth.year + rng.randint(18, 28), 2006)
                    birth = (date(year, rng.randint(1, 12), rng.randint(1, 28)), False)
                kin = add(base.origin, sex=sex, tag="family", name=name, birth=birth)
                kin.municipality = base.municipality
                kin.phone = base.phone if shared_phone else kin.phone
                kin.email = base.email if shared_mail else kin.email
        elif roll < 0.105 and base.origin != "IT":  # the most common Italian names, born on other days
            given, sex = rng.choice(COMMON_GIVEN)
            family = rng.choice(COMMON_FAMILY)
            for _ in range(rng.randint(1, 3)):
                add("IT", sex=sex, name={"given": [given], "family": [family]}, tag="common_name")
    return people


def _sibling_name(rng: random.Random, base: Person, keep_family: bool = True) -> tuple[dict[str, Any], str]:
    """Another member of the family: the same family name, another given name; and the sex."""

    def words(n: dict[str, Any]) -> set[str]:
        g = n.get("given")
        flat = [g] if isinstance(g, str) else [x if isinstance(x, str) else x[0] for x in g or []]
        return {w for x in flat for w in str(x).split()} | {str(n.get("middle", ""))}

    for _ in range(50):  # no given name in common: twins are not called Ion and Ion Adrian
        name, sex = _new_name(rng, base.origin)
        if not (words(name) & words(base.name)) - {""}:
            break
    if keep_family:
        for key in ("family", "fown", "article", "form", "russian", "system"):
            if key in base.name:
                name[key] = base.name[key]
    return name, sex


# ------------------------------------------------------------------ rendering one record


def _render_name(rng: random.Random, p: Person, *, own: bool, partner: Partner | None = None,
                 notes: list[str] | None = None) -> tuple[str, str]:  # fmt: skip
    """(given names, family name) as one office writes them; ``own`` the person's own documents."""
    notes = notes if notes is not None else []
    n, vary = p.name, (lambda share: not own and rng.random() < share)
    if p.origin in {"UA", "RU"}:
        russian, system = bool(n["russian"]), str(n["system"])
        if p.origin == "UA" and vary(0.15):
            russian = not russian
            notes.append("ru_form" if russian else "ua_form")
        if vary(0.6) or (not own and russian != bool(n["russian"])):
            pool = N.RU_SYSTEMS if russian else N.UA_SYSTEMS
            liked = partner.translit if partner and partner.translit and not russian else None
            system = liked if liked and rng.random() < 0.5 else rng.choice(pool)
            notes.append(f"translit:{system}")
        gv, fm = n["given"], n["family"]
        given_c = gv[1] if russian else gv[0]
        family_c = fm[1] if russian else fm[0]
        if p.sex == "F":
            family_c = N.feminine(family_c)
        given, family = N.transliterate(given_c, system), N.transliterate(family_c, system)
        with_patr = bool(n["with_patr"])
        if vary(0.3):
            with_patr = not with_patr
            notes.append("patronymic_added" if with_patr else "patronymic_dropped")
        if with_patr:
            given += " " + N.transliterate(N.patronymic(n["patr"], p.sex, russian), system)
        return given, family
    if p.origin == "MD":
        cyr = bool(n["cyrillic"])
        if vary(0.25):
            cyr = not cyr
            notes.append("md_script")
        if cyr:
            system = str(n["system"]) if own or rng.random() < 0.4 else rng.choice(N.RU_SYSTEMS)
            fam = n["family"][1]
            return N.transliterate(n["given"][1], system), N.transliterate(fam, system)
        return str(n["given"][0]), str(n["family"][0])
    if p.origin in {"RO", "IT", "LA"}:
        given_l, family_l = list(n["given"]), list(n["family"])
        if len(given_l) > 1 and vary(0.4):
            given_l = given_l[:1]
            notes.append("second_given_dropped")
        given = " ".join(given_l)
        if p.origin == "LA" and " " in given and vary(0.25):
            given = given.split(" ")[0]
            notes.append("compound_given_truncated")
        if len(family_l) > 1 and vary(0.4):
            family_l = family_l[:1]
            notes.append("second_surname_dropped")
        family = (" " if not vary(0.05) else "-").join(family_l)
        if "'" in family and vary(0.4):
            family = family.replace("'", rng.choice([" ", "", "’"]))
            notes.append("apostrophe")
        if family.startswith("De la") and vary(0.4):
            family = rng.choice(["Delacruz", "De La Cruz", "de la Cruz"]) + family[len("De la Cruz") :]
        if p.origin == "RO" and vary(0.3):
            given, family = N.cedilla(given), N.cedilla(family)
            notes.append("cedilla")
        return given, family
    if p.origin == "AL":
        fam = n["family"]
        family = fam[0] if own or not vary(0.35) else rng.choice(fam)
        return str(n["given"][0]), str(family)
    if p.origin in {"MA", "SN", "NG", "PK", "BD"}:
        gs, fs = n["given"], n["family"]
        given = gs[int(n["gown"])] if not vary(0.35) else rng.choice(gs)
        family = fs[int(n["fown"])] if not vary(0.25) else rng.choice(fs)
        if given != gs[int(n["gown"])] or family != fs[int(n["fown"])]:
            notes.append("spelling")
        if p.origin == "MA" and n["article"]:
            form = str(n["form"]) if not vary(0.45) else rng.choice(["El ", "El-", "El", "Al-", "", "Al ", "Al"])
            if form != n["form"]:
                notes.append("article")
            family = form + (family if not form.endswith("l") else family.lower())
        if "middle" in n and not vary(0.4):
            given += " " + str(n["middle"])
        elif "middle" in n:
            notes.append("middle_dropped")
        if "prefix" in n:
            prefix = str(n["prefix"]) if not vary(0.5) else rng.choice(["", "Md", "Mohammad", "Muhammad", "M."])
            given = f"{prefix} {given}".strip()
            if prefix != n["prefix"]:
                notes.append("prefix")
        return given, family
    syll, family = list(n["given"]), str(n["family"])
    join = str(n["join"]) if not vary(0.35) else rng.choice(["", " ", "-"])
    given = join.join(syll).capitalize() if join == "" else join.join(s.capitalize() for s in syll)
    if join != n["join"]:
        notes.append("cn_syllables")
    return given, family


def _styled(text: str, partner: Partner) -> str:
    if partner.strip_accents:
        text = N.ascii_fold(text)
    return text.upper() if partner.case == "upper" else text.lower() if partner.case == "lower" else text


def _phone_text(phone: str, style: str) -> str:
    if not phone.startswith("+39"):
        return f"{phone[:4]} {phone[4:6]} {phone[6:]}" if style in {"intl", "spaced"} else phone
    national = phone[3:]
    if style == "intl":
        return f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    if style == "spaced":
        return f"{national[:3]} {national[3:6]} {national[6:]}"
    if style == "dashed":
        return f"{national[:3]}-{national[3:]}"
    if style == "zero":
        return f"0039 {national}"
    return national


def _record(
    rng: random.Random, p: Person, first: bool, workers: list[tuple[str, str]], owners: dict[str, int]
) -> tuple[dict[str, str], list[str]]:
    partner = rng.choices([x for x, _ in PARTNERS], [w for _, w in PARTNERS])[0]
    notes: list[str] = []
    given, family = _render_name(rng, p, own=first, partner=partner, notes=notes)
    if not first:
        if rng.random() < 0.07:
            family = N.typo(rng, family)
            notes.append("typo_family")
        if rng.random() < 0.06:
            given = N.typo(rng, given)
            notes.append("typo_given")
    new_email = _email(rng, p, given, family, owners)
    swap_share = 0.35 if p.origin == "CN" else 0.15 if p.origin in {"SN", "NG", "PK", "BD"} else 0.06
    if rng.random() < (swap_share if not first else swap_share / 3):
        given, family = family, given
        notes.append("swapped")
    if rng.random() < (0.05 if not first else 0.015):  # "Kovalenko Olena" in one column
        given, family = ("", f"{family} {given}") if rng.random() < 0.7 else (f"{given} {family}", "")
        notes.append("one_column")
    birth: str = ""
    if p.birth is not None:
        b: date | None = p.birth
        roll = rng.random() if not first else 1.0
        if roll < 0.09 and p.birth.day <= 12 and p.birth.day != p.birth.month:
            b = date(p.birth.year, p.birth.day, p.birth.month)
            notes.append("day_month_swapped")
        elif roll < 0.17:
            b = None
            notes.append("date_missing")
        elif roll < 0.20:
            b = _date_typo(rng, p.birth)
            notes.append("date_typo")
        elif roll < 0.23 and p.jan1 is False and p.origin in ASYLUM:
            b = date(p.birth.year, 1, 1)  # the first permit put 1 January, the passport has the day
            notes.append("jan1_placeholder")
        birth = b.strftime(partner.date_format) if b else ""
    phone = p.phone or ""
    if not first and rng.random() < 0.2:
        phone = _phone(rng, p.origin)  # a new number by the second referral
        notes.append("other_phone")
    if rng.random() < 0.1:
        phone = ""
    email = p.email or ""
    if not first and rng.random() < 0.15:
        email = new_email
        notes.append("other_email")
    if rng.random() < 0.25:
        email = ""
    if workers and rng.random() < 0.035:  # the social worker's phone (and office e-mail) instead
        wphone, wmail = rng.choice(workers)
        phone, email = wphone, wmail if rng.random() < 0.5 else email
        notes.append("worker_contact")
    cf = ""
    if p.temp_cf and first:
        cf = p.temp_cf
    elif p.cf and rng.random() < (0.8 if first else 0.7):
        cf = p.cf if first or rng.random() >= 0.07 else N.tax_code_typo(rng, p.cf)
        if cf != p.cf:
            notes.append("cf_typo")
    if cf and rng.random() < 0.3:
        cf = cf.lower() if rng.random() < 0.3 else cf
    municipality = p.municipality if first or rng.random() > 0.1 else rng.choice(N.MUNICIPALITIES)
    upper_mail = partner.case == "upper" and rng.random() < 0.3
    row = {
        "first_name": _styled(given, partner),
        "last_name": _styled(family, partner),
        "birth_date": birth,
        "phone": _phone_text(phone, partner.phone_style) if phone else "",
        "email": email.upper() if upper_mail else email,
        "codice_fiscale": cf,
        "municipality": _styled(municipality, partner) + (" (BG)" if rng.random() < 0.1 else ""),
    }
    return row, notes


def _date_typo(rng: random.Random, b: date) -> date:
    for _ in range(10):
        try:
            kind = rng.choice(["day", "year"])
            if kind == "day":
                return b.replace(day=(b.day % 10) + 10 * rng.choice([0, 1, 2]) or 1)
            y = str(b.year)
            year = int(y[:2] + y[3] + y[2])  # 1978 → 1987
            return b.replace(year=year if y[2] != y[3] and year <= 2006 else b.year + rng.choice([-1, 1, -10]))
        except ValueError:
            continue
    return b


# ------------------------------------------------------------------ files


def generate(size: int, seed: int = MEASURE_SEED) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(rows, labels) for about ``size`` referrals."""
    rng = random.Random(seed)
    owners: dict[str, int] = {}  # e-mail → the person whose mailbox it is
    people = _people(rng, int(size / 1.3), owners)
    offices = ["comune.bergamo.it", "caritasbergamo.it", "coopsociale.it", "patronato.it"]
    mailboxes = ["a.bianchi", "servizi.sociali", "segretariato", "sportello.stranieri", "l.rota"]
    workers = [  # social workers: their phone and office e-mail on the referrals they help with
        (_phone(rng, "IT"), f"{rng.choice(mailboxes)}{i}@{rng.choice(offices)}") for i in range(max(3, size // 800))
    ]
    pending: list[tuple[Person, bool]] = [(p, k == 0) for p in people for k in range(p.records)]
    rows, labels = [], []
    ids = rng.sample(range(100000, 100000 + 9 * max(size, len(pending))), len(pending))
    rng.shuffle(pending)
    for rid, (p, first) in zip(ids, pending, strict=True):
        row, notes = _record(rng, p, first, workers, owners)
        row["record_id"] = f"S{rid}"
        rows.append(row)
        labels.append({"record_id": row["record_id"], "cluster": f"P{p.pid:06d}", "origin": p.origin, "tag": p.tag,
                       "variations": " ".join(notes)})  # fmt: skip
        if len(rows) >= size:
            break
    return rows, labels


def write_outsider(path: Path, size: int, seed: int = MEASURE_SEED) -> dict[str, str]:
    """Write the referral CSV at ``path`` and its labels beside it; return record_id → cluster."""
    rows, labels = generate(size, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=HEADERS)
        w.writeheader()
        w.writerows(rows)
    with labels_path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["record_id", "cluster", "origin", "tag", "variations"])
        w.writeheader()
        w.writerows(labels)
    return {x["record_id"]: x["cluster"] for x in labels}


def labels_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}_labels.csv")


def read_labels(path: Path) -> list[dict[str, str]]:
    with labels_path(path).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=MEASURE_SEED)
    ap.add_argument("--out", type=Path, default=Path("var/bench"))
    a = ap.parse_args(argv)
    target = a.out / f"outsider_{a.size}_{a.seed}.csv"
    truth = write_outsider(target, a.size, a.seed)
    pairs = sum(n * (n - 1) // 2 for n in _sizes(truth).values())
    print(f"{target}: {len(truth)} referrals, {len(set(truth.values()))} people, {pairs} true pairs")


def _sizes(truth: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in truth.values():
        out[c] = out.get(c, 0) + 1
    return out


if __name__ == "__main__":
    main()
