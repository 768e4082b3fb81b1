"""Phone numbers as partners write them: never a reason to refuse a referral (issue 17).

A cell may hold one number, two ("333 1234567 / 035 123456"), a number with a note ("ore pasti",
"int. 12", "cell. mamma"), a foreign number without its international prefix ("097 772 97 95",
a Ukrainian SIM), a figure whose leading 0 Excel dropped, or something that is no number at all.

Each number is read in the most likely region: Italian first, then the regions the row suggests
(citizenship, place of birth, languages: ``config/phone_regions.yaml`` with CLDR country and
language names). A valid mobile reading beats a valid landline one, which beats other valid
types, which beat a reading that only has a possible length (kept, but not *verified*); within
a rank the Italian reading wins. So "097 772 97 95" of a Ukrainian is +380 97…, "0661 234567" of
a Moroccan is +212 661…, "035 123456" stays a Bergamo landline whoever wrote it.

Letters inside a number ("345-ABC-1234") are never turned into keypad digits: that number is
dropped with a warning, like anything that is not a phone. phonenumbers and babel are imported
inside the functions that need them (flow start-up, tests/unit/test_lazy_imports.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from config.phone_regions import load_phone_regions
from tasks.files.normalize import normalize_name

__all__ = [
    "LETTERS",
    "NOT_A_PHONE",
    "PARTLY_READ",
    "UNVERIFIED",
    "Phone",
    "PhoneCell",
    "phone_text",
    "read_phone_cell",
    "region_hints",
    "script_hints",
]

# What the sender is told about a phone cell (row warnings: the row itself is accepted).
LETTERS = (
    "il numero contiene lettere e non è stato conservato (le lettere non vengono convertite in cifre): "
    "scrivere solo cifre, con il prefisso internazionale se il numero è estero"
)
NOT_A_PHONE = (
    "non è un numero di telefono riconoscibile e non è stato conservato "
    "(per un numero estero indicare il prefisso internazionale, es. +221)"
)
PARTLY_READ = "una parte del campo non è un numero di telefono e non è stata conservata"
UNVERIFIED = (
    "numero conservato ma non verificato (prefisso o lunghezza insoliti): "
    "per i numeri esteri indicare il prefisso internazionale, es. +380"
)

#: What partners write for "no phone": an empty cell, not a warning (normalised spellings).
_NO_PHONE = frozenset(
    {"nd", "n d", "na", "n a", "no", "nessuno", "nessun numero", "non ha", "non ha telefono", "non disponibile"}
    | {"non presente", "assente", "none", "ni", "net", "nemaie"}
)
#: Extensions ("int. 12", "interno 3", "ext 45", "x12", "#7"): not part of the E.164 number.
_EXTENSION = re.compile(r"(?i)(?:(?<![^\W\d_])(?:int(?:erno)?|ext|est|x)\.?\s*:?\s*|#\s*)\d{1,5}(?!\d)")
#: Letters glued to digits on both sides, at most through one "-" or ".": a vanity number, taken
#: out whole (the digits beside the letters are part of it, not a number of their own).
_LETTERS_IN_NUMBER = re.compile(r"\S*\d[-.]?[^\W\d_]+[-.]?\d\S*")
#: Where one number surely ends: ";", "|", a line break, any word (notes, "o", "oppure").
_CHUNK_SPLIT = re.compile(r"[;|\n]+|[^\W\d_]+[.:]?")
#: Where it may end: "/" and "," also sit inside numbers ("035/123456"), so only when the
#: whole chunk is no number ("333 1234567 / 035 123456").
_SOFT_SPLIT = re.compile(r"[/,]+|\s[-–]\s")
_NOT_DIGIT = re.compile(r"\D")
#: A reading's rank: valid mobile, valid landline, other valid types, possible length only.
_MOBILE, _FIXED, _OTHER, _POSSIBLE = range(4)
_MIN_DIGITS, _MAX_DIGITS = 6, 17


@dataclass(frozen=True)
class Phone:
    """One number read from a cell."""

    e164: str
    #: a valid number of its region (numbering plan), not merely of a possible length
    verified: bool
    region: str


@dataclass(frozen=True)
class PhoneCell:
    """What a phone cell held: its text as written, the numbers read, and what was not kept."""

    raw: str
    numbers: tuple[Phone, ...] = ()
    #: why (part of) the cell was not kept or not verified, in Italian; None when all is well
    problem: str | None = None


_EMPTY = PhoneCell(raw="")


def phone_text(value: Any) -> str:
    """The cell as text: a figure (Excel number cell) as its digits, spaces collapsed."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list | tuple):  # a JSON list of numbers
        return " / ".join(t for v in value if (t := phone_text(v)))
    return "" if value is None else " ".join(str(value).split())


def read_phone_cell(value: Any, hints: Callable[[], Sequence[str]] = tuple) -> PhoneCell:
    """Every number in one cell, in the most likely region; ``hints`` gives the regions the row
    suggests (called only when an Italian mobile reading does not settle it)."""
    raw = phone_text(value)
    if not raw:
        return _EMPTY
    if not any(c.isdigit() for c in raw) and (normalize_name(raw) in _NO_PHONE or not any(c.isalnum() for c in raw)):
        return PhoneCell(raw="")  # empty, a dash, or "nessuno"
    text, vanity = raw, 0
    if any(c.isalpha() for c in raw):  # notes, extensions, letters (most cells have none)
        text, vanity = _LETTERS_IN_NUMBER.subn(" / ", _EXTENSION.sub(" ", raw))
    numbers: list[Phone] = []
    unread = False
    for chunk in _CHUNK_SPLIT.split(text):
        digits = _NOT_DIGIT.sub("", chunk)
        if not digits:
            continue
        found = _read_chunk(chunk.strip(), hints)
        numbers += [n for n in found if n.e164 not in {m.e164 for m in numbers}]
        unread = unread or (not found and len(digits) >= _MIN_DIGITS)
    if vanity:
        problem: str | None = LETTERS
    elif not numbers:
        problem = NOT_A_PHONE
    elif unread:
        problem = PARTLY_READ
    elif not all(n.verified for n in numbers):
        problem = UNVERIFIED
    else:
        problem = None
    return PhoneCell(raw=raw, numbers=tuple(numbers), problem=problem)


def _read_chunk(chunk: str, hints: Callable[[], Sequence[str]]) -> list[Phone]:
    """The number(s) in a chunk without words or separators: one number, or several written
    one after the other ("333 1234567 035 123456"), split at the spaces."""
    one = _read_number(chunk, hints)
    if one is not None and one.verified:
        return [one]
    found = _split_chunk(chunk, hints)
    # an unverified whole reading yields to verified pieces ("8 097 772 97 95": old trunk 8)
    return found if one is None or (found and all(n.verified for n in found)) else [one]


def _split_chunk(chunk: str, hints: Callable[[], Sequence[str]]) -> list[Phone]:
    parts = [p.strip() for p in _SOFT_SPLIT.split(chunk) if p.strip()]
    if len(parts) > 1:
        return [n for part in parts for n in _read_chunk(part, hints)]
    groups = chunk.split()
    found: list[Phone] = []
    start = 0
    while start < len(groups):
        for end in range(len(groups), start, -1):  # longest run of groups that is a valid number
            whole = (start, end) == (0, len(groups))  # read above already
            number = None if whole else _read_number(" ".join(groups[start:end]), hints)
            if number is not None and number.verified:
                found.append(number)
                start = end
                break
        else:
            start += 1
    return found


def _read_number(text: str, hints: Callable[[], Sequence[str]]) -> Phone | None:
    """The best reading of one written number, or None when no reading is a phone."""
    digits = _NOT_DIGIT.sub("", text)
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        return None
    compact = text.lstrip("([ ")
    if compact.startswith(("+", "00")):  # international: the prefix says the region
        reading = _reading(text, "IT")
        return reading[1] if reading is not None else None
    readings = [r for r in (_reading(text, "IT"),) if r is not None]
    if not readings or readings[0][0] != _MOBILE:
        readings += [r for region in hints() if region != "IT" and (r := _reading(text, region)) is not None]
    if not readings or min(r[0] for r in readings) > _FIXED:
        # The country code written without "+" ("380 97 772 97 95"), or a bare figure whose
        # leading 0 Excel dropped ("35294512": only digits, as a number cell leaves them).
        fallbacks = ["+" + digits] if len(digits) >= 11 and not digits.startswith("0") else []
        fallbacks += ["0" + digits] if digits == text and not digits.startswith("0") else []
        readings += [r for f in fallbacks if (r := _reading(f, "IT")) is not None]
    if not readings:
        return None
    return min(enumerate(readings), key=lambda ir: (ir[1][0], ir[0]))[1][1]


def _reading(text: str, region: str) -> tuple[int, Phone] | None:
    """``text`` read in ``region``: its rank and the number, or None when not even possible."""
    import phonenumbers  # here, not at import: flow start-up

    try:
        number = _parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    where = phonenumbers.region_code_for_country_code(number.country_code or 0)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    kind = _number_type(number)  # UNKNOWN exactly when the number is not valid
    types = phonenumbers.PhoneNumberType
    if kind != types.UNKNOWN:
        rank = (
            _MOBILE
            if kind in (types.MOBILE, types.FIXED_LINE_OR_MOBILE)
            else _FIXED
            if kind == types.FIXED_LINE
            else _OTHER
        )
        return rank, Phone(e164=e164, verified=True, region=where)
    significant = phonenumbers.national_significant_number(number)
    # An Italian number starts with 0 (landline) or 3 (mobile): "77 123 45 67" is not Italian at all.
    plausible = where != "IT" or significant[:1] in ("0", "3")
    if plausible and len(significant) >= _MIN_DIGITS + 1 and phonenumbers.is_possible_number(number):
        return _POSSIBLE, Phone(e164=e164, verified=False, region=where)
    return None


# --- phonenumbers' parse and number_type, for a big import -----------------------------------
# A file of 100k rows reads 100k numbers: these give exactly phonenumbers' answers (compared on
# every region's numbers in tests/unit/test_import_speed_paths.py) in a fraction of the time.

#: An Italian number written the plain way, digits and spaces with no leading 0 (most mobiles).
_PLAIN_NATIONAL = re.compile(r"[1-9][0-9 ]*")


def _parse(text: str, region: str) -> Any:
    """``phonenumbers.parse(text, region)``. The commonest cell, a plain Italian national number
    ("333 1234567"), is built directly: parse then only strips the spaces, since such a number
    has no international or trunk prefix, extension or leading zero to read. Not one starting
    with 39 (the country code without "+", which parse may take off)."""
    import phonenumbers

    if region == "IT" and len(text) <= 250 and _PLAIN_NATIONAL.fullmatch(text):
        digits = text.replace(" ", "")
        if not digits.startswith("39") and 3 <= len(digits) <= 17:
            return phonenumbers.PhoneNumber(country_code=39, national_number=int(digits))
    return phonenumbers.parse(text, region)


class _Desc(NamedTuple):
    """A number description of the metadata: its possible lengths and compiled pattern."""

    lengths: frozenset[int]
    pattern: re.Pattern[str] | None

    def matches(self, nsn: str) -> bool:
        if self.lengths and len(nsn) not in self.lengths:
            return False
        return self.pattern is not None and self.pattern.fullmatch(nsn) is not None


class _TypeRules(NamedTuple):
    """One region's metadata as ``phonenumbers._number_type_helper`` reads it."""

    general: _Desc | None
    special: tuple[tuple[_Desc, int], ...]  # premium rate … voicemail, in the library's order
    fixed: _Desc | None
    mobile: _Desc | None
    same_mobile_and_fixed: bool
    leading_digits: re.Pattern[str] | None


def _desc(desc: Any) -> _Desc | None:
    if desc is None:
        return None
    pattern = desc.national_number_pattern
    return _Desc(frozenset(desc.possible_length), re.compile(pattern) if pattern else None)


@lru_cache(maxsize=512)
def _type_rules(region: str, country_code: int) -> _TypeRules | None:
    """The region's metadata with its patterns compiled once (phonenumbers compiles them at each call)."""
    import phonenumbers
    from phonenumbers.phonemetadata import PhoneMetadata

    if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        md = PhoneMetadata.metadata_for_nongeo_region(country_code, None)
    else:
        md = PhoneMetadata.metadata_for_region(region, None)
    if md is None:
        return None
    types = phonenumbers.PhoneNumberType
    special = (
        (md.premium_rate, types.PREMIUM_RATE),
        (md.toll_free, types.TOLL_FREE),
        (md.shared_cost, types.SHARED_COST),
        (md.voip, types.VOIP),
        (md.personal_number, types.PERSONAL_NUMBER),
        (md.pager, types.PAGER),
        (md.uan, types.UAN),
        (md.voicemail, types.VOICEMAIL),
    )
    return _TypeRules(
        general=_desc(md.general_desc),
        special=tuple((d, kind) for desc, kind in special if (d := _desc(desc)) is not None),
        fixed=_desc(md.fixed_line),
        mobile=_desc(md.mobile),
        same_mobile_and_fixed=bool(md.same_mobile_and_fixed_line_pattern),
        leading_digits=re.compile(md.leading_digits) if md.leading_digits is not None else None,
    )


def _kind(nsn: str, rules: _TypeRules) -> int:
    """``phonenumbers._number_type_helper``: the type of a national number in one region."""
    from phonenumbers import PhoneNumberType as types

    if rules.general is None or not rules.general.matches(nsn):
        return types.UNKNOWN
    for desc, kind in rules.special:
        if desc.matches(nsn):
            return kind
    mobile = rules.mobile is not None and not rules.same_mobile_and_fixed and rules.mobile.matches(nsn)
    if rules.fixed is not None and rules.fixed.matches(nsn):
        return types.FIXED_LINE_OR_MOBILE if rules.same_mobile_and_fixed or mobile else types.FIXED_LINE
    return types.MOBILE if mobile else types.UNKNOWN


def _number_type(number: Any) -> int:
    """``phonenumbers.number_type(number)``: the region of the number (by leading digits or the
    first region whose patterns take it, as ``region_code_for_number``), then its type there."""
    import phonenumbers

    nsn = phonenumbers.national_significant_number(number)
    country_code = number.country_code
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code) or ()
    if len(regions) == 1:
        rules = _type_rules(regions[0], country_code)
        return phonenumbers.PhoneNumberType.UNKNOWN if rules is None else _kind(nsn, rules)
    for region in regions:
        rules = _type_rules(region.upper(), country_code)
        if rules is None:
            continue
        if rules.leading_digits is not None:
            if rules.leading_digits.match(nsn):
                return _kind(nsn, rules)
        elif (kind := _kind(nsn, rules)) != phonenumbers.PhoneNumberType.UNKNOWN:
            return kind
    return phonenumbers.PhoneNumberType.UNKNOWN


# --- regions a row suggests -------------------------------------------------------------------


def _italian_forms(word: str) -> list[str]:
    """An Italian adjective with its feminine and plural forms ("ucraino" → ucraina, ucraini…)."""
    if word.endswith("o"):
        return [word, *(word[:-1] + e for e in "aie")]
    if word.endswith("e"):
        return [word, word[:-1] + "i"]
    if word.endswith("a"):
        return [word, word[:-1] + "i", word[:-1] + "e"]
    return [word]


def _add(index: dict[str, set[str]], name: str, region: str) -> None:
    key = normalize_name(name)
    if key:
        index.setdefault(key, set()).add(region)


def _unambiguous(index: dict[str, set[str]]) -> dict[str, str]:
    return {key: next(iter(regions)) for key, regions in index.items() if len(regions) == 1}


@lru_cache(maxsize=1)
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """(names and adjectives → region, ISO codes → region), every key normalised.

    A CLDR name that means two regions across locales is left out; the file's entries win."""
    import phonenumbers
    from babel import Locale
    from babel.core import get_global

    rules = load_phone_regions()
    supported = set(phonenumbers.SUPPORTED_REGIONS)
    names: dict[str, set[str]] = {}
    for locale in rules.name_locales:
        for code, name in Locale.parse(locale).territories.items():
            if code in supported:
                _add(names, name, code)
    found = _unambiguous(names)
    for region, words in rules.demonyms.items():
        for word in words:
            found |= {key: region for form in _italian_forms(normalize_name(word)) if (key := form)}
    for region, words in rules.aliases.items():
        found |= {normalize_name(w): region for w in words if normalize_name(w)}
    codes = {code.casefold(): code for code in supported}
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and targets[0] in supported:
            codes[alias.casefold()] = targets[0]
    return found, codes


@lru_cache(maxsize=1)
def _languages() -> dict[str, str]:
    """Language names (CLDR in the same locales, and the file's) → the region they point to."""
    from babel import Locale
    from babel.core import get_global

    rules = load_phone_regions().languages
    likely = get_global("likely_subtags")
    skip = set(rules.without_region)

    def region_of(code: str) -> str | None:
        if code in skip:
            return None
        if code in rules.region_of:
            return rules.region_of[code]
        parts = str(likely.get(code, "")).split("_")
        return parts[-1] if len(parts) == 3 and len(parts[-1]) == 2 else None

    names: dict[str, set[str]] = {}
    for locale in load_phone_regions().name_locales:
        for code, name in Locale.parse(locale).languages.items():
            if "_" not in code and (region := region_of(code)):
                _add(names, name, region)
    found = _unambiguous(names)
    for code, words in rules.names.items():
        if region := region_of(code):
            found |= {normalize_name(w): region for w in words if normalize_name(w)}
    return found


def _scan(text: str, index: dict[str, str]) -> list[str]:
    """Regions named in ``text``: the whole text, else its runs of words, longest first."""
    key = normalize_name(text)
    if not key:
        return []
    if key in index:
        return [index[key]]
    words = key.split()
    hits: list[tuple[int, str]] = []
    used: set[int] = set()
    for size in range(min(4, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            span = set(range(start, start + size))
            if not span & used and (region := index.get(" ".join(words[start : start + size]))):
                hits.append((start, region))
                used |= span
    return [region for _start, region in sorted(hits)]


@lru_cache(maxsize=4096)
def _hints(citizenship: str, birth_place: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    names, codes = _countries()
    found: list[str] = []
    for text in (citizenship, birth_place):
        code = codes.get(normalize_name(text).replace(" ", ""))
        found += [code] if code and len(text.strip()) <= 3 else _scan(text, names)
    spoken = _languages()
    for language in languages:
        found += _scan(language, spoken)
    return tuple(dict.fromkeys(r for r in found if r != "IT"))


def region_hints(citizenship: str | None, birth_place: str | None, languages: Iterable[str] = ()) -> tuple[str, ...]:
    """The phone regions a row suggests, most telling first (citizenship, birth place, languages);
    Italy is never among them: it is always tried first."""
    return _hints(citizenship or "", birth_place or "", tuple(languages))


#: Without citizenship, birth place or language, the alphabet the person's name is written in
#: suggests where an unprefixed number is from: Cyrillic with Ukrainian letters (і ї є ґ) is
#: Ukraine, other Cyrillic Ukraine then Russia (the Cyrillic-script communities of the province).
_UKRAINIAN_LETTERS = frozenset("іїєґІЇЄҐ")
_SCRIPT_REGIONS: tuple[tuple[tuple[int, int], tuple[str, ...]], ...] = (
    ((0x0400, 0x04FF), ("UA", "RU")),
    ((0x10A0, 0x10FF), ("GE",)),
    ((0x0530, 0x058F), ("AM",)),
)


def script_hints(names: str | None) -> tuple[str, ...]:
    """The phone regions the script of a written name suggests (empty for Latin letters)."""
    if not names or names.isascii():
        return ()
    if any(c in _UKRAINIAN_LETTERS for c in names):
        return ("UA",)
    for (low, high), regions in _SCRIPT_REGIONS:
        if any(low <= ord(c) <= high for c in names):
            return regions
    return ()
