"""Cyrillic to Latin the ways partners write it: the national (KMU-2010) spelling a CPI operator
copies from a Ukrainian document, informal spellings from old passports and certificates, and the
Russian internal-passport style for Russian given-name forms."""

from __future__ import annotations

import random

from tasks.files.normalize import transliterate_cyrillic

# Spellings seen in old passports, school certificates and typed by people themselves.
_INFORMAL_OPTIONS: dict[str, tuple[str, ...]] = {
    "а": ("a",),
    "б": ("b",),
    "в": ("v", "w"),
    "г": ("h", "g"),
    "ґ": ("g",),
    "д": ("d",),
    "е": ("e",),
    "є": ("ye", "ie", "e"),
    "ж": ("zh",),
    "з": ("z",),
    "и": ("y", "i"),
    "і": ("i",),
    "ї": ("yi", "i", "ji"),
    "й": ("y", "i", "j"),
    "к": ("k",),
    "л": ("l",),
    "м": ("m",),
    "н": ("n",),
    "о": ("o",),
    "п": ("p",),
    "р": ("r",),
    "с": ("s",),
    "т": ("t",),
    "у": ("u",),
    "ф": ("f",),
    "х": ("kh", "h"),
    "ц": ("ts", "tz"),
    "ч": ("ch",),
    "ш": ("sh",),
    "щ": ("shch", "sch"),
    "ь": ("",),
    "ю": ("yu", "iu", "ju"),
    "я": ("ya", "ia", "ja"),
    "ы": ("y",),
    "э": ("e",),
    "ё": ("yo", "e"),
    "ъ": ("",),
}
# Russian internal-passport style (GOST-like), used for Russian given-name forms.
_RU_PASSPORT: dict[str, str] = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
    "'": "",
}


def _cap(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def kmu(cyr: str) -> str:
    return _cap(transliterate_cyrillic(cyr.casefold()))


def informal(cyr: str, rng: random.Random) -> str:
    out = []
    for ch in cyr.casefold():
        if ch == "'":
            continue
        options = _INFORMAL_OPTIONS.get(ch)
        out.append(rng.choice(options) if options else ch)
    return _cap("".join(out))


def ru_passport(cyr: str) -> str:
    return _cap("".join(_RU_PASSPORT.get(ch, ch) for ch in cyr.casefold()))
