"""Normalisation of names and contact identifiers (docs/ARCHITECTURE.md#matching).

Two levels for names:

* ``normalize_name`` is a faithful, readable spelling: casefolded, accents stripped, Cyrillic
  transliterated with the Ukrainian national table (KMU 2010; Russian-only letters handled
  too), punctuation turned into spaces.
* ``name_key`` is a *matching key*: it additionally folds the usual passport / Russian /
  English spellings of the same name onto one canonical form, so that "Олександр",
  "Oleksandr", "Olexandr", "Aleksandr" and "Alexander" meet.  The fold is deliberately
  conservative (no generic vowel folding) so that different names such as Maria / Mario or
  Ivan / Ivana stay different; the few pairs that no safe rule can reach (Dmytro / Dmitry,
  Mykola / Nikolay...) go through a small explicit alias table.

The key is for blocking and fuzzy scoring only; never show it to people.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

__all__ = [
    "cf_check_char",
    "cf_problem",
    "full_name_tokens",
    "name_key",
    "name_key_token",
    "normalize_cf",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "normalize_sex",
    "temporary_cf_valid",
    "transliterate_cyrillic",
]

# --- Cyrillic → Latin -------------------------------------------------------------------------

# KMU 2010 (Resolution 55 of the Cabinet of Ministers of Ukraine). Tuple = (word-initial, other).
_UK_TABLE: dict[str, tuple[str, str]] = {
    "а": ("a", "a"),
    "б": ("b", "b"),
    "в": ("v", "v"),
    "г": ("h", "h"),
    "ґ": ("g", "g"),
    "д": ("d", "d"),
    "е": ("e", "e"),
    "є": ("ye", "ie"),
    "ж": ("zh", "zh"),
    "з": ("z", "z"),
    "и": ("y", "y"),
    "і": ("i", "i"),
    "ї": ("yi", "i"),
    "й": ("y", "i"),
    "к": ("k", "k"),
    "л": ("l", "l"),
    "м": ("m", "m"),
    "н": ("n", "n"),
    "о": ("o", "o"),
    "п": ("p", "p"),
    "р": ("r", "r"),
    "с": ("s", "s"),
    "т": ("t", "t"),
    "у": ("u", "u"),
    "ф": ("f", "f"),
    "х": ("kh", "kh"),
    "ц": ("ts", "ts"),
    "ч": ("ch", "ch"),
    "ш": ("sh", "sh"),
    "щ": ("shch", "shch"),
    "ь": ("", ""),
    "ю": ("yu", "iu"),
    "я": ("ya", "ia"),
    # Russian / Belarusian letters that the Ukrainian table lacks (passport-style values).
    "ы": ("y", "y"),
    "э": ("e", "e"),
    "ъ": ("", ""),
    "ё": ("yo", "io"),
    "ў": ("u", "u"),
}
# In a text that is visibly Russian (has ы/э/ъ/ё and no Ukrainian-only letter) the Russian
# values of the shared letters are used, e.g. "Сергей" → "sergei", not "serhei".
_RU_OVERRIDES: dict[str, tuple[str, str]] = {
    "г": ("g", "g"),
    "и": ("i", "i"),
    "й": ("y", "y"),
    "е": ("e", "e"),
    "ё": ("e", "e"),
}
_RU_ONLY = frozenset("ыэъё")
_UK_ONLY = frozenset("іїєґ")
_APOSTROPHES = "'’ʼ`´‘"
_CYR_RE = re.compile(r"[\u0400-\u04ff]")

# Letters that Unicode decomposition does not reduce to ASCII.
_EXTRA_ASCII = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ħ": "h",
        "ı": "i",
        "ŀ": "l",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ð": "d",
        "ß": "ss",
    }
)


def _is_cyr(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _translit_word(word: str, russian: bool) -> str:
    """Transliterate one lowercase Cyrillic word (apostrophes already removed)."""
    out: list[str] = []
    for i, ch in enumerate(word):
        pair = (_RU_OVERRIDES.get(ch) if russian else None) or _UK_TABLE.get(ch)
        if pair is None:
            out.append(ch)
            continue
        initial = i == 0
        # KMU 2010: "зг" is written "zgh" to keep it apart from "ж" = "zh".
        if ch == "г" and not russian and i > 0 and word[i - 1] == "з":
            out.append("gh")
            continue
        out.append(pair[0] if initial else pair[1])
    return "".join(out)


def transliterate_cyrillic(text: str) -> str:
    """Cyrillic → Latin (KMU 2010 + Russian letters); Latin text passes through unchanged.

    Expects casefolded input. Apostrophes inside a Cyrillic word are dropped (as KMU says), so
    the letter after them is not word-initial: "мар'яна" → "mariana".
    """
    if not _CYR_RE.search(text):
        return text
    # Drop apostrophes between Cyrillic letters before splitting into words.
    chars = list(text)
    kept: list[str] = []
    for i, ch in enumerate(chars):
        if ch in _APOSTROPHES and 0 < i < len(chars) - 1 and _is_cyr(chars[i - 1]) and _is_cyr(chars[i + 1]):
            continue
        kept.append(ch)
    text = "".join(kept)
    # The whole text decides: "Сергей Лысенко" is Russian because of "ы" in the surname.
    letters = set(text)
    russian = bool(letters & _RU_ONLY) and not (letters & _UK_ONLY)
    return re.sub(r"[\u0400-\u04ff]+", lambda m: _translit_word(m.group(0), russian), text)


# --- names ------------------------------------------------------------------------------------

_PUNCT_RE = re.compile(r"[\s'’ʼ`´‘\-‐‑–—.,;:/\\_()\[\]\"“”«»]+")
_NON_WORD_RE = re.compile(r"[^0-9a-z ]+")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=32_768)
def normalize_name(text: str | None) -> str:
    """Readable normalised spelling: casefold, Cyrillic → Latin, no accents, single spaces.

    Cyrillic is transliterated *before* accents are stripped because NFKD would turn "й" into
    "и" + breve and "ї" into "і" + diaeresis, losing letters the table distinguishes.
    Cached: a partner file repeats its names, towns and citizenships (a bounded cache).
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).casefold()
    text = transliterate_cyrillic(text)
    text = _strip_accents(text).translate(_EXTRA_ASCII)
    text = _PUNCT_RE.sub(" ", text)
    text = _NON_WORD_RE.sub("", text)
    return " ".join(text.split())


# Ordered rewrite rules applied to each token of a normalised name. Each one folds a spelling
# difference that is a transliteration convention, not a different name.
_FOLD_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"x", "ks"),  # Olexandr / Oleksandr, Alexey / Aleksei
        (r"ph", "f"),  # Josephina / Josefina
        (r"th", "t"),  # Thomas / Tomas
        (r"ck", "k"),
        (r"q", "k"),
        (r"w", "v"),  # German/Polish transliterations (Wolodymyr)
        (r"tz", "ts"),  # Zitzer / Tsitser (German ц)
        (r"ou", "u"),  # Youssef / Yusef (French transliteration)
        (r"kh", "h"),  # Kharkiv / Harkiv, Mikhail / Mihail
        # Protect digraphs whose second letter is "h" before folding h → g.
        (r"shch", "\x01"),
        (r"sch", "\x01"),
        (r"zh", "\x02"),
        (r"sh", "\x03"),
        (r"ch", "\x04"),
        (r"h", "g"),  # Ukrainian г = h, Russian г = g: Serhii / Sergii, Olha / Olga
        (r"j", "y"),  # Julia / Yulia, Andrij / Andriy
        (r"y", "i"),  # Ukrainian и = y vs i: Dmytro / Dmitro, Yuliia / Iuliia
        (r"^ie", "e"),  # Yevhen / Ievgen / Evgen (word-initial є / е)
        (r"^olek", "alek"),  # Oleksandr / Aleksandr, Oleksii / Aleksei
        (r"ee", "i"),  # English long i in Arabic/Punjabi names: Kareem / Karim, Saeed / Said
        (r"(.)\1+", r"\1"),  # double letters: Mohammed / Mohamed, Yuliia / Yulia
        (r"(?<=...)e?i$", "i"),  # endings -ii/-iy/-yi/-ij/-ei/-ey: Serhii / Sergey / Sergiy
        (r"(?<=...)nder$", "ndr"),  # Alexander / Aleksandr
        (r"(?<=...)iv$", "ov"),  # Ukrainian closed-syllable і for o: Kharkiv / Kharkov
        ("\x01", "sc"),
        ("\x02", "z"),
        ("\x03", "s"),
        ("\x04", "c"),
    )
)

# Variants no conservative rule reaches (different vowels or consonants across languages).
# Each group is folded with the rules above and mapped onto its first member's key.
_ALIAS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("dmytro", "dmitry", "dmitriy", "dmitrii", "dmitri"),
    ("mykola", "nikolay", "nikolai", "nikolaj", "mikola"),
    ("kateryna", "ekaterina", "yekaterina", "katerina", "katarina"),
    ("tetiana", "tatiana", "tatyana", "tatjana", "tetyana"),
    ("petro", "pyotr", "petr", "piotr"),
    ("hryhorii", "grigory", "grigoriy", "grigorii", "hryhoriy"),
    ("volodymyr", "vladimir", "wolodymyr"),
    ("oleksii", "aleksey", "alexei", "oleksiy"),
    ("olena", "elena", "yelena", "jelena"),
    ("ivan", "iwan"),
    ("mykhailo", "mikhail", "mihail", "mykhaylo"),
    ("yevhen", "evgeny", "evgenii", "yevgeniy", "evgeniy", "yevgeny"),
    ("kyiv", "kiev", "kiyv"),
    ("lviv", "lvov", "lwow"),
    ("mohamed", "mohammed", "muhammad", "mohammad", "mohamad", "muhammed", "muhamed", "mouhamed", "mohamud", "mehmed"),
    ("yusuf", "youssef", "yousef", "yusef", "youssouf", "jusuf", "yussuf", "yousuf"),
    ("ahmed", "ahmad", "ahmet"),
    ("mustafa", "moustafa", "mostafa", "mustapha"),
    ("abdul", "abdoul", "abdel"),
)


def _fold_token(token: str) -> str:
    for pattern, repl in _FOLD_RULES:
        token = pattern.sub(repl, token)
    return token


def _build_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for group in _ALIAS_GROUPS:
        canonical = _fold_token(group[0])
        for variant in group:
            aliases[_fold_token(variant)] = canonical
    return aliases


_ALIASES = _build_aliases()


@lru_cache(maxsize=200_000)
def name_key_token(token: str) -> str:
    """Matching key of one already-normalised token (cached: names repeat a lot)."""
    if not token.isalpha():
        return token
    folded = _fold_token(token)
    return _ALIASES.get(folded, folded)


def name_key(text: str | None) -> str:
    """Canonical matching key of a name, word order kept (for token-sort scoring)."""
    return " ".join(name_key_token(t) for t in normalize_name(text).split())


def full_name_tokens(family: str | None, given: str | None) -> list[str]:
    """Key tokens of a person's family then given names (patronymics included as given)."""
    return [name_key_token(t) for t in normalize_name(f"{family or ''} {given or ''}").split()]


# --- contact identifiers ------------------------------------------------------------------------


def normalize_phone(text: str | None, region: str = "IT") -> str | None:
    """E.164 form of a phone number, or None when it cannot be a real number.

    The default region is Italy so local forms ("333-1234567", "035 123456", "0039 ...") parse;
    foreign numbers need their "+" or "00" prefix.
    """
    if not text or not text.strip():
        return None
    import phonenumbers  # here, not at import (flow start-up); ~0.1 µs a call against ~15 µs to parse

    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(text: str | None) -> str | None:
    """Lowercased, syntax-checked e-mail address (no DNS lookups), or None.

    The whole address is lowercased: mailbox names are case-sensitive in theory only, and
    dedup needs "Mario.Rossi@X.it" and "mario.rossi@x.it" to meet.
    """
    if not text or not text.strip():
        return None
    text = text.strip()
    local, at, domain = text.partition("@")
    if at and _EMAIL_LOCAL.match(local) and _EMAIL_DOMAIN.match(domain):
        # The common address: a plain dot-atom before the one @-sign, letters, digits, dots and
        # hyphens after it. email_validator leaves such a local part as it is, so only the domain
        # needs its checks, and partners' files repeat a few domains: each is validated once
        # (``_email_domain``), the same library call on the same domain.
        checked = _email_domain(domain)
        if checked is None:
            return None
        shown, ascii_domain = checked
        forms = (text, f"{local}@{shown}", f"{local}@{ascii_domain}")  # the library's length checks
        if any(len(form.encode()) > _EMAIL_MAX_LENGTH for form in forms):
            return None
        return f"{local}@{shown}".lower()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


#: email_validator's unquoted local part (``DOT_ATOM_TEXT`` of its ``rfc_constants``), ASCII only.
_ATEXT = r"a-zA-Z0-9_!#\$%&'\*\+\-/=\?\^`\{\|\}~"
_EMAIL_LOCAL = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*\Z")
#: A domain of ASCII letters, digits, dots and hyphens (no IP literal, no Unicode, no second @).
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9.\-]+\Z")
_EMAIL_MAX_LENGTH = 254  # RFC 3696 errata 1690, as email_validator checks it


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> tuple[str, str] | None:
    """The domain as email_validator normalises it (shown and IDNA ASCII forms), or None when the
    library refuses it: checked on a one-letter mailbox, which no domain rule looks at."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.domain, result.ascii_domain


_CF_STRIP_RE = re.compile(r"[\s\-.]+")
# Personal code: surname, name, year, month, day, birthplace, check; digits may be replaced by
# the omocodia letters L-V when two people would otherwise share a code.
_OMO = "[0-9LMNPQRSTUV]"
_CF_RE = re.compile(rf"^[A-Z]{{6}}{_OMO}{{2}}[ABCDEHLMPRST]{_OMO}{{2}}[A-Z]{_OMO}{{3}}[A-Z]$")
_OMO_DIGIT = str.maketrans("LMNPQRSTUV", "0123456789")
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (*(1, 0, 5, 7, 9, 13, 15, 17, 19, 21) * 2, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
        strict=True,
    )
)


def cf_check_char(body: str) -> str:
    """Check character of the first 15 characters of a codice fiscale (DM 23/12/1976)."""
    total = sum(_CF_ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65) for i, c in enumerate(body))
    return chr(65 + total % 26)


_CF_MONTHS = "ABCDEHLMPRST"
_CF_SHAPE = re.compile(rf"^[A-Z]{{6}}{_OMO}{{2}}[A-Z]{_OMO}{{2}}[A-Z]{_OMO}{{3}}[A-Z]$")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _cf_day_exists(code: str) -> bool:
    """The encoded day exists in the encoded month (women +40); 29 February only in years that
    are leap in some century (the code has two digits of the year)."""
    encoded = int(code[9:11].translate(_OMO_DIGIT))
    day, month = encoded % 40, _CF_MONTHS.index(code[8]) + 1
    if not (1 <= encoded <= 31 or 41 <= encoded <= 71) or day > _MONTH_DAYS[month - 1]:
        return False
    return not (month == 2 and day == 29 and int(code[6:8].translate(_OMO_DIGIT)) % 4 != 0)


@lru_cache(maxsize=100_000)
def _valid_personal_cf(code: str) -> bool:
    """Structure, a day that exists (women +40) and the check character.

    Written out rather than calling ``codicefiscale.is_valid`` (≈2 ms a code, it decodes dates
    and birthplaces): dedup of 100k referrals validates every code.
    """
    return bool(_CF_RE.match(code)) and cf_check_char(code[:15]) == code[15] and _cf_day_exists(code)


def temporary_cf_valid(code: str) -> bool:
    """An 11-digit provisional code (issued on applying for protection) with a right check digit:
    the last digit, computed as for a partita IVA (Luhn: every second digit doubled)."""
    if len(code) != 11 or not code.isdigit() or code[:7] == "0000000":
        return False
    total = 0
    for i, ch in enumerate(code[:10]):
        digit = int(ch) * (2 if i % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10 == int(code[10])


def normalize_cf(text: str | None) -> str | None:
    """Uppercase codice fiscale without spaces, or None if it is neither valid form.

    Accepts a 16-character personal code passing the official check character (omocodia
    included) or the 11-digit numeric temporary code given to people who have just applied
    for protection, with its check digit (docs/ARCHITECTURE.md#matching).
    """
    if not text:
        return None
    code = _CF_STRIP_RE.sub("", text).upper()
    if len(code) == 11 and temporary_cf_valid(code):
        return code
    if len(code) == 16 and _valid_personal_cf(code):
        return code
    return None


_CF_INVALID = "codice fiscale non valido: "


def cf_problem(text: str | None) -> str | None:
    """Why ``text`` is not a codice fiscale, in Italian for the sender (None when it is one).

    Says which part is wrong (length, characters, month letter, day, check character) and
    never what the right check character would be: the sender must copy the code from the
    card, not from us."""
    code = _CF_STRIP_RE.sub("", text or "").upper()
    if not code:
        return None
    if code.isdigit():
        if len(code) != 11:
            return f"{_CF_INVALID}{len(code)} cifre (il codice provvisorio ne ha 11, quello personale 16 caratteri)"
        return None if temporary_cf_valid(code) else "codice fiscale provvisorio non valido: cifra di controllo errata"
    if len(code) != 16:
        return f"{_CF_INVALID}{len(code)} caratteri invece di 16 (11 cifre se provvisorio)"
    if not (code.isascii() and code.isalnum()):
        return f"{_CF_INVALID}contiene caratteri diversi da lettere e cifre"
    if not _CF_SHAPE.match(code):
        return (
            f"{_CF_INVALID}lettere e cifre non sono al loro posto "
            "(6 lettere, 2 cifre, 1 lettera, 2 cifre, 1 lettera, 3 cifre, 1 lettera)"
        )
    if code[8] not in _CF_MONTHS:
        return f"{_CF_INVALID}la lettera del mese «{code[8]}» non esiste (ammesse A B C D E H L M P R S T)"
    if not _cf_day_exists(code):
        return f"{_CF_INVALID}il giorno di nascita non esiste (da 01 a 31, da 41 a 71 per le donne)"
    if cf_check_char(code[:15]) != code[15]:
        return f"{_CF_INVALID}carattere di controllo errato (l'ultimo carattere non corrisponde ai precedenti)"
    return None


_MALE = ["m", "maschio", "maschile", "uomo", "male", "man", "masculin", "homme", "hombre", "masculino"]
_MALE += ["ч", "чол", "чоловік", "чоловіча", "м", "муж", "мужской", "мужчина"]
_FEMALE = ["f", "femmina", "femminile", "donna", "female", "woman", "feminin", "femme", "mujer", "femenino"]
_FEMALE += ["ж", "жін", "жінка", "жіноча", "жен", "женский", "женщина"]
_SEX = {"M": _MALE, "F": _FEMALE}
_SEX_WORDS = {normalize_name(word): sex for sex, words in _SEX.items() for word in words}


def normalize_sex(text: str | None) -> str | None:
    """``M`` or ``F`` from the ways partners write sex (it/en/fr/es/uk/ru), else None (unknown or
    another answer: nothing is checked against it)."""
    return _SEX_WORDS.get(normalize_name(text)) if text else None
