"""Fellegi–Sunter evidence for duplicate referrals (issue 21, docs/ARCHITECTURE.md#matching).

Each candidate pair is compared field by field; each comparison lands on a *level* (names
identical, written differently, one name more on one side, …). A level has two probabilities:
``m`` (how often two referrals of the same person land there) and ``u`` (how often two
different people do). The pair's match weight is the sum of ``log2(m/u)`` over the fields plus
the prior; a missing field weighs nothing. As in Splink, ``u`` is measured on random pairs and
``m`` is trained by expectation-maximisation on the unlabelled candidate pairs of the blocking,
so no labelled data is needed; the trained values live in ``config/dedup_model.yaml``.

Names are compared word by word, in any order: the same matching key
(``tasks.files.normalize.name_key_token``), the same consonant skeleton (the spelling
conventions of Ukrainian and Russian names in Latin letters – KMU 2010, English, French,
German, Italian clerks – differ mostly in how they write the same consonants), or one slip of
the keyboard. A final "a" is kept in the skeleton: Oleksandr and Oleksandra are twins, not
spellings. Beyond the Cyrillic families, the forms other conventions give one name: the Arabic
article written apart, glued or dropped (El Amrani / Elamrani / Amrani), "Md" and "M." for
Muhammad, the French "ou" for w (Ouali / Wali), the English "ow" (Chowdhury / Choudhury), the
diphthong ai / ei / ay (Shaikh / Sheikh), o and u in long Arabic and Bengali names (Hossain /
Hussain), the Italian i that only softens c and g (Sciapovalez), and words run together
(Abd el-Kader / Abdelkader, Xiao Ming / Xiaoming). Names that agree but for one word are
"similar" only when that word looks like a slip of the other: twins share the rest.

The comune of residence is compared as resolved (ISTAT code): another comune, none, the same
city written on many referrals, the same comune. Siblings and a parent and child share it, so
the rules of :mod:`tasks.matching.dedup` let it count only where a birth date is missing.

Everything here is pure; numpy is imported by the functions that need it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.files.normalize import name_key_token

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MODEL_PATH = Path(__file__).resolve().parents[2] / "config" / "dedup_model.yaml"

#: Comparison name -> Italian label of each level (index = level). Level 1 of every
#: field but the names is "missing on one side": it weighs nothing.
LEVELS: dict[str, tuple[str, ...]] = {
    "nome": (
        "nomi diversi",
        "un solo nome in comune",
        "nomi simili ma non uguali",
        "nomi compatibili (un nome in più o troncato da una parte)",
        "stessi nomi scritti in modo diverso",
        "stessi nomi",
    ),
    "data di nascita": (
        "date di nascita diverse",
        "data di nascita mancante",
        "data di nascita quasi uguale (giorno e mese scambiati o una cifra sbagliata)",
        "stessa data di nascita, ma il 1° gennaio (data convenzionale)",
        "stessa data di nascita",
        "stesso anno di nascita, il 1° gennaio da una parte (giorno ignoto)",
        "stesso giorno e mese di nascita, anno con una cifra sbagliata o due cifre invertite",
    ),
    "codice fiscale": (
        "codici fiscali diversi",
        "codice fiscale mancante",
        "codice fiscale quasi uguale (errore di battitura)",
        "stesso codice fiscale",
    ),
    "telefono": (
        "telefoni diversi",
        "telefono mancante",
        "stesso telefono, ma scritto in molte segnalazioni",
        "stesso telefono",
    ),
    "e-mail": (
        "e-mail diverse",
        "e-mail mancante",
        "stessa e-mail, ma scritta in molte segnalazioni",
        "stessa e-mail",
    ),
    "comune": (
        "comuni di residenza diversi",
        "comune di residenza mancante o non riconosciuto",
        "stesso comune di residenza, tra i più frequenti",
        "stesso comune di residenza",
    ),
}
FIELDS = tuple(LEVELS)
NAME, BIRTH, CF, PHONE, EMAIL, PLACE = range(6)
MISSING = 1  # the level of a field empty on either side (not for names)
SHARED_CONTACT = 4  # a phone / e-mail on this many referrals of different names is not personal
#: A comune written on at least this share of the referrals is a city: sharing it says less.
COMMON_PLACE = 0.05


# --- names ---------------------------------------------------------------------------------------

_SKELETON_RULES = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"schtsch|shch|chtch", "S"),
        (r"tsch|tch", "C"),
        (r"sch|sh|sz", "S"),
        (r"zh", "Z"),
        (r"kh", "H"),
        (r"ch|ts|tz|cz", "C"),
        (r"c(?=[eiy])", "C"),
        (r"ck|c|q", "K"),
        (r"x", "KS"),
        (r"ph", "F"),
        (r"w", "V"),
        (r"[gh]", "H"),
        (r"[jy]", "I"),
        (r"[SCZsz]", "s"),
        (r"[aeiouI]", ""),
        (r"(.)\1+", r"\1"),
    )
)
_VOWELS = frozenset("aeiou")
_PARTICLES = frozenset({"el", "al"})
# The Arabic article written onto the name (Elamrani, Alfassi): the name without it is a
# spelling of the same name. The rest must be a name of its own (5+ letters), not Alberto.
_GLUED_ARTICLE = re.compile(r"^(?:el|al)(?=[a-z]{5,}$)")
# The scholarly and Czech-style transliteration writes ц as a bare c (Kuznecov / Kuznetsov).
_TSE = re.compile(r"c(?![hkz])")
# "Muhammad" abbreviated, as South Asian documents write it before the given name.
_MUHAMMAD = frozenset({"md", "mohd", "mhd", "muhd"})
# French "ou" before a vowel is a w (Ouali / Wali, Ouazzani / Wazzani, Ouattara / Wattara).
_FRENCH_W = re.compile(r"^ou(?=[aeiy])")
# English "ow" before a consonant is a vowel (Chowdhury / Choudhury); elsewhere w is v.
_GLIDE_W = re.compile(r"(?<=[aeiou])w(?=[bcdfghklmnpqrstvxz])")


@lru_cache(maxsize=200_000)
def skeleton(word: str, german_ch: bool = False, glide_w: bool = False, round_vowels: bool = False) -> str:
    """Consonant skeleton of one normalised word, with the key's initial vowel and a final "a".

    Shevchenko, Schewtschenko, Chevtchenko and Scevcenko share one skeleton; Anna and Inna,
    Oleksandr and Oleksandra do not. ``german_ch`` reads "ch" as х rather than ч / ш;
    ``glide_w`` reads "w" before a consonant as a vowel (Chowdhury), not as the v of Polish
    and German spellings (Lewczenko); ``round_vowels`` puts o and u in one class, as Arabic and
    Bengali names write the same vowel either way (Hossain / Hussain) – only for long words:
    Rossi and Russo are two Italian names.
    """
    word = _FRENCH_W.sub("w", word)
    if glide_w:
        word = _GLIDE_W.sub("u", word)
    key = name_key_token(word)
    out = word.lower()
    if german_ch:  # German and Italian clerks write х as "ch" (Sacharow, Charcenko)
        out = re.sub(r"(?<!s)ch(?![eiy])", "h", out)
    for pattern, repl in _SKELETON_RULES:
        out = pattern.sub(repl, out)
    head = key[0] if key and key[0] in _VOWELS else ""
    vowel = _first_vowel(word)
    if round_vowels and vowel == "o":
        vowel = "u"
    return head + out.lower() + ("A" if word.endswith("a") else "") + ":" + vowel


_VOWEL_CLASS = {"a": "a", "o": "o", "u": "u", "e": "i", "i": "i", "y": "i"}
_DIPHTHONG = re.compile(r"[ae][iyj](?![aeiou])")
_ITALIAN_SOFT_I = re.compile(r"(?<=[cg])i(?=[aou])")  # Scia-, Cio-, Gio-: the i only softens
_YO = re.compile(r"(?<=[bdfhklmnprstvwz])[jyi]o")  # ё after a consonant: Fjodorow, Fyodorov, Fedorov


def _first_vowel(word: str) -> str:
    """Class of the first vowel sound (a, o, u, or i for e/i/y): Harpreet and Gurpreet
    differ, Yulia, Julia and Ioulia (glides dropped, "ou" = u) do not, nor Shaikh and Sheikh,
    Zainab and Zeinab, Zaitseva and Sajzewa (the diphthong ai / ei / ay / aj), nor Chapovalets
    and Sciapovalez (the Italian i that only softens c and g), nor Fjodorow, Fyodorov and
    Fedorov (ё, written jo, yo, io or e after a consonant)."""
    w = word.replace("ou", "u").replace("ie", "e").replace("ye", "e")
    w = _YO.sub("e", _ITALIAN_SOFT_I.sub("", _DIPHTHONG.sub("e", w)))
    w = re.sub(r"^[yji](?=[aeiou])", "", w)
    for ch in w[1:] if w and w[0] not in "aeiouy" else w:
        if ch in _VOWEL_CLASS:
            return _VOWEL_CLASS[ch]
    return ""


@dataclass(frozen=True, slots=True)
class NameParts:
    """One person's name words, their keys and skeletons (computed once per record)."""

    words: tuple[str, ...]
    raw: tuple[str, ...]  # the words as written, the Arabic article included
    keys: tuple[str, ...]
    skels: tuple[str, ...]
    alts: tuple[str, ...]  # skeletons reading "ch" as х
    bare: tuple[str, ...]  # the key without a glued Arabic article (Elamrani → amrani), else ""
    forms: tuple[frozenset[str], ...]  # every spelling-free form of each word (key, skeletons)

    @classmethod
    def of(cls, words: Sequence[str]) -> NameParts:
        """The parts of one name (cached: a city's referrals repeat their names)."""
        return _name_parts(tuple(words))

    @classmethod
    def _build(cls, words: tuple[str, ...]) -> NameParts:
        ws = raw = tuple(_MUHAMMAD_KEY if w in _MUHAMMAD else w for w in words if w)
        if len(ws) > 1:  # the Arabic article is written or dropped at will (El Mansouri / Mansouri)
            ws = tuple(w for w in ws if w not in _PARTICLES) or ws
        keys = tuple(name_key_token(w) for w in ws)
        skels = tuple(skeleton(w) for w in ws)
        alts = tuple(skeleton(w, True) for w in ws)
        bare_words = tuple(_GLUED_ARTICLE.sub("", w) if _GLUED_ARTICLE.match(w) else "" for w in ws)
        bare = tuple(name_key_token(w) if w else "" for w in bare_words)
        forms = tuple(
            frozenset(
                f
                for f in (
                    k,
                    s,
                    a,
                    skeleton(w, glide_w=True),
                    skeleton(w, round_vowels=True) if len(w) >= 6 else "",
                    b,
                    skeleton(bw) if bw else "",
                    skeleton(_TSE.sub("ts", w)) if _TSE.search(w) else "",  # scholarly c = ц
                )
                if f and (f is k or f is b or len(f) >= 4)
            )
            for w, k, s, a, b, bw in zip(ws, keys, skels, alts, bare, bare_words, strict=True)
        )
        return cls(ws, raw, keys, skels, alts, bare, forms)

    def joined(self) -> set[tuple[str, ...]]:
        """The sorted keys with two neighbouring words written as one (Abdel Kader / Abdelkader)."""
        k, w = self.keys, self.words
        return {tuple(sorted((*k[:i], name_key_token(w[i] + w[i + 1]), *k[i + 2 :]))) for i in range(len(k) - 1)}

    def rejoined(self) -> list[NameParts]:
        """The name with two or three neighbouring words as written run together, the article
        included (Abd el-Kader / Abdelkader, Ait Ahmed / Aitahmed, Xiao Ming / Xiaoming)."""
        w = self.raw
        return [
            NameParts.of((*w[:i], "".join(w[i : i + run]), *w[i + run :]))
            for run in (2, 3)
            for i in range(len(w) - run + 1)
        ]


@lru_cache(maxsize=200_000)
def _name_parts(words: tuple[str, ...]) -> NameParts:
    return NameParts._build(words)


_EXACT, _VARIANT, _PARTIAL = 3, 2, 1
_MUHAMMAD_KEY = "mohammed"


def _one_slip(a: str, b: str) -> bool:
    """One keyboard slip between two long keys (6+ letters: Marco and Mario are two names):
    same start, same final vowel, OSA distance 1."""
    if max(len(a), len(b)) < 6:
        return False
    if a[-1] != b[-1] and (a[-1] in _VOWELS or b[-1] in _VOWELS):
        return False
    return _rapidfuzz()[0](a, b, score_cutoff=1) <= 1


@cache
def _rapidfuzz() -> tuple[Any, Any, Any]:
    """OSA distance, ratio and token-sort ratio, imported once (the loop calls them millions
    of times; an import statement in the loop costs more than the comparison)."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import OSA

    return OSA.distance, fuzz.ratio, fuzz.token_sort_ratio


def _transposed(a: str, b: str) -> bool:
    """Two neighbouring letters typed in the wrong order (Salma / Samla), the last one kept."""
    if len(a) != len(b) or len(a) < 4 or a[-1] != b[-1]:
        return False
    diff = [k for k in range(len(a)) if a[k] != b[k]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _word_match(a: NameParts, i: int, b: NameParts, j: int) -> int:
    ka, kb = a.keys[i], b.keys[j]
    if ka == kb:
        return _EXACT
    if not a.forms[i].isdisjoint(b.forms[j]):  # another spelling: a skeleton, the article
        return _VARIANT
    if ka[0] != kb[0]:
        return 0
    if abs(len(ka) - len(kb)) <= 1 and a.words[i][0] == b.words[j][0]:  # Harpreet / Gurpreet: two names
        if _transposed(ka, kb) or _transposed(a.words[i], b.words[j]) or _one_slip(ka, kb):
            return _VARIANT
    short, long_ = (ka, kb) if len(ka) <= len(kb) else (kb, ka)
    if long_.startswith(short):
        return _PARTIAL  # a second surname cut short by a form's field length, or an initial (M.)
    return 0


def name_level(a: NameParts, b: NameParts) -> int:
    """Level (0-5, labels in ``LEVELS["nome"]``) of two names, word order ignored."""
    if not a.keys or not b.keys:
        return 0
    if sorted(a.keys) == sorted(b.keys):
        return 5
    short, long_ = (a, b) if len(a.keys) <= len(b.keys) else (b, a)
    if len(long_.keys) > len(short.keys):
        if tuple(sorted(short.keys)) in long_.joined():
            return 4
        if any(len(v.keys) == len(short.keys) and name_level(short, v) >= 4 for v in long_.rejoined()):
            return 4
    # best one-to-one pairing of the shorter name's words (names have at most a few words)
    # A truncated word only counts in names of three words or more on both sides (a cut second
    # surname): in two-word names a prefix is another name (Ivan / Ivanna are twins).
    truncation = len(short.keys) >= 3
    best: list[int] = []
    used: set[int] = set()
    grid = [[_word_match(short, i, long_, j) for j in range(len(long_.keys))] for i in range(len(short.keys))]
    if not truncation:
        grid = [[0 if m == _PARTIAL else m for m in row] for row in grid]
    left: list[int] = []
    for i in sorted(range(len(grid)), key=lambda r: -max(grid[r])):
        j = max((c for c in range(len(long_.keys)) if c not in used), key=lambda c: grid[i][c], default=None)
        if j is None or grid[i][j] == 0:
            left.append(i)
            continue
        used.add(j)
        best.append(grid[i][j])
    strong = sum(m >= _VARIANT for m in best)
    if not left and len(short.keys) >= 2 and strong >= 2 and best.count(_PARTIAL) <= 1:
        if len(short.keys) == len(long_.keys) and strong == len(best):
            return 4
        return 3
    rest = [long_.keys[j] for j in range(len(long_.keys)) if j not in used]
    if any(_other_sex(short.keys[i], k) for i in left for k in rest):
        return 1  # Oleksandr / Oleksandra, Kovalskyi / Kovalska: a brother and a sister
    unpaired = [j for j in range(len(long_.keys)) if j not in used]
    if strong >= 1 and (
        _leftovers_alike(short, left, long_, unpaired, strong) if left and unpaired else _fuzzy(short, long_) >= 85
    ):
        return 2
    return 1 if strong >= 1 else 0


def _leftovers_alike(short: NameParts, left: list[int], long_: NameParts, rest: list[int], strong: int) -> bool:
    """The words left unpaired look like one slip of each other, as keys or as written
    (Iria / Irina, Kahdija / Khadija, Olleksii / Oleksii); with two words or more paired, the
    whole names may be close instead (Nadiia / Nadezhda Havrylyshyn-Orlovyuk). Twins' given
    names are not alike: Iryna / Daryna, and Mariia / Dariia differ in the first letter alone –
    a family name agreeing says nothing about them."""
    ratio = _rapidfuzz()[1]
    keys = " ".join(sorted(short.keys[i] for i in left)), " ".join(sorted(long_.keys[j] for j in rest))
    words = " ".join(sorted(short.words[i] for i in left)), " ".join(sorted(long_.words[j] for j in rest))
    a, b = words
    if len(a) == len(b) and a[0] != b[0] and a[1:] == b[1:]:
        return False
    return max(ratio(*keys), ratio(*words)) >= 80 or (strong >= 2 and _fuzzy(short, long_) >= 85)


_FEMININE_ENDINGS = ("a", "na", "ia", "iia", "ya", "iya")


def _other_sex(a: str, b: str) -> bool:
    """The same name in the other sex: one adds a feminine ending to the other, or the two
    end -i (masculine adjective, folded) or -o (Mario, Francesco) and -a (feminine) on the
    same stem."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if long_.startswith(short) and long_[len(short) :] in _FEMININE_ENDINGS:
        return True
    return len(a) > 3 and len(b) > 3 and a[:-1] == b[:-1] and {a[-1], b[-1]} in ({"a", "i"}, {"a", "o"})


def _fuzzy(a: NameParts, b: NameParts) -> float:
    return float(_rapidfuzz()[2](" ".join(a.keys), " ".join(b.keys)))


# --- other fields ----------------------------------------------------------------------------------


JAN1_OTHER = 5  # the level of 1 January on one side and another day of the same year
YEAR_TYPO = 6  # the same day and month, the year one keystroke away (1973 / 1937)


def birth_level(a: date | None, b: date | None) -> int:
    """Level of two birth dates (labels in ``LEVELS["data di nascita"]``)."""
    if a is None or b is None:
        return MISSING
    if a == b:
        return 3 if (a.month, a.day) == (1, 1) else 4
    if a.year == b.year and ((a.month, a.day) == (1, 1)) != ((b.month, b.day) == (1, 1)):
        return JAN1_OTHER
    if a.year != b.year:
        return YEAR_TYPO if birth_dates_compatible(a, b) else 0
    return 2 if birth_dates_compatible(a, b) else 0


def birth_dates_compatible(a: date | None, b: date | None) -> bool:
    """Equal, missing, day and month swapped, one digit of the day or month mistyped, one
    digit of the year mistyped or its last two swapped (the same day and month: 1973 / 1937),
    or 1 January – the registries' placeholder for an unknown day – and another day of the
    same year. Never a typo on 1 January itself: namesakes share it."""
    if a is None or b is None or a == b:
        return True
    jan1 = (a.month, a.day) == (1, 1) or (b.month, b.day) == (1, 1)
    if a.year != b.year:
        return not jan1 and (a.month, a.day) == (b.month, b.day) and year_typo(a.year, b.year)
    if jan1 or (a.month, a.day) == (b.day, b.month):
        return True
    sa, sb = a.strftime("%d%m"), b.strftime("%d%m")
    return sum(x != y for x, y in zip(sa, sb, strict=True)) == 1


def year_typo(a: int, b: int) -> bool:
    """Two years one keystroke apart: one digit different, or the last two swapped."""
    sa, sb = f"{a:04d}", f"{b:04d}"
    if sum(x != y for x, y in zip(sa, sb, strict=True)) == 1:
        return True
    return sa[:2] == sb[:2] and sa[2:] == sb[3] + sb[2]


_OMOCODE = str.maketrans("LMNPQRSTUV", "0123456789")
_CF_MONTHS = "ABCDEHLMPRST"


def cf_birth_date(code: str | None, today_year: int) -> date | None:
    """The birth date a valid 16-character codice fiscale encodes (None when it does not)."""
    if not code or len(code) != 16:
        return None
    yy, month, dd = code[6:8].translate(_OMOCODE), code[8], code[9:11].translate(_OMOCODE)
    if not (yy.isdigit() and dd.isdigit()) or month not in _CF_MONTHS:
        return None
    year = 2000 + int(yy)
    if year > today_year:
        year -= 100
    try:
        return date(year, _CF_MONTHS.index(month) + 1, int(dd) % 40)
    except ValueError:
        return None


# --- the model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FSModel:
    """Trained Fellegi–Sunter parameters: ``m`` and ``u`` per field and level, the prior."""

    m: tuple[tuple[float, ...], ...]
    u: tuple[tuple[float, ...], ...]
    prior: float  # share of candidate pairs that are duplicates (EM's lambda, training only)
    per_record: float = 0.4  # duplicate pairs per record: the prior of a random pair is 2x/N

    def weights(self) -> list[list[float]]:
        """log2(m/u) per field and level; a missing field weighs 0."""
        out = []
        for f, (mf, uf) in enumerate(zip(self.m, self.u, strict=True)):
            row = [math.log2(max(m, 1e-6) / max(u, 1e-9)) for m, u in zip(mf, uf, strict=True)]
            if f != NAME:
                row[MISSING] = 0.0
            out.append(row)
        return out

    def prior_weight(self, records: int | None = None) -> float:
        """log2 prior odds that two records are one person: among ``records`` referrals, each
        has about ``per_record`` duplicates among ``records - 1`` others (``u`` is measured on
        random pairs, so the prior must be a random pair's too: a name and a birth date say
        less in a city than in a village). Without ``records``, the training prior."""
        if records is None:
            lam = self.prior
        else:
            lam = min(0.5, 2 * self.per_record / max(records - 1, 1))
        return math.log2(lam / (1 - lam))

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior": round(self.prior, 6),
            "per_record": round(self.per_record, 4),
            "fields": {
                name: {
                    "m": [round(x, 6) for x in self.m[f]],
                    "u": [round(x, 8) for x in self.u[f]],
                }
                for f, name in enumerate(FIELDS)
            },
        }


def model_from_dict(data: dict[str, Any]) -> FSModel:
    """The model from its YAML shape (``to_dict``); refuses a file with other fields or levels."""
    fields = data["fields"]
    if tuple(fields) != FIELDS:
        raise ValueError(f"dedup_model: campi {list(fields)} invece di {list(FIELDS)}")
    for name in FIELDS:
        for part in ("m", "u"):
            if len(fields[name][part]) != len(LEVELS[name]):
                raise ValueError(f"dedup_model: {name}.{part} deve avere {len(LEVELS[name])} valori")
    return FSModel(
        m=tuple(tuple(float(x) for x in fields[n]["m"]) for n in FIELDS),
        u=tuple(tuple(float(x) for x in fields[n]["u"]) for n in FIELDS),
        prior=float(data["prior"]),
        per_record=float(data.get("per_record", 0.4)),
    )


@cache
def load_model(path: Path = MODEL_PATH) -> FSModel:
    """The trained model shipped in ``config/dedup_model.yaml``."""
    import yaml

    return model_from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def match_weights(model: FSModel, levels: NDArray[np.int8], records: int | None = None) -> NDArray[np.float64]:
    """Match weight (log2 Bayes factor + prior) of each row of comparison levels."""
    import numpy as np

    total = np.full(len(levels), model.prior_weight(records))
    for f, row in enumerate(model.weights()):
        total += np.asarray(row)[levels[:, f]]
    return total


def probability(weight: NDArray[np.float64]) -> NDArray[np.float64]:
    import numpy as np

    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))


def explain(model: FSModel, levels: Sequence[int]) -> str:
    """Which fields agreed and how much each weighed, in Italian."""
    weights = model.weights()
    parts = []
    for f, name in enumerate(FIELDS):
        w = weights[f][levels[f]]
        parts.append(f"{LEVELS[name][levels[f]]} ({w:+.1f})")
    return "; ".join(parts)


# --- training (EM, as Splink does) ---------------------------------------------------------------


def estimate_u(random_levels: NDArray[np.int8]) -> tuple[tuple[float, ...], ...]:
    """``u`` per field and level from random pairs (nearly all of different people)."""
    import numpy as np

    out = []
    for f, name in enumerate(FIELDS):
        counts = np.bincount(random_levels[:, f], minlength=len(LEVELS[name])).astype(float) + 0.5
        out.append(tuple((counts / counts.sum()).tolist()))
    return tuple(out)


def train(
    sessions: Sequence[tuple[NDArray[np.int8], int]],
    u: tuple[tuple[float, ...], ...],
    *,
    iterations: int = 25,
    all_pairs: NDArray[np.int8] | None = None,
    records: int = 0,
) -> FSModel:
    """``m`` by expectation-maximisation, ``u`` fixed (random pairs), as Splink trains.

    Each session is the candidate pairs of one blocking rule and the field that rule blocked
    on: inside a block that field agrees by construction, so it is left out of that session
    and its ``m`` comes from the other sessions (an ``m`` learnt where it is forced to agree
    would make every blocked pair look like a duplicate). The prior is the share of duplicates
    among all candidate pairs, from the last E-step of each session; with ``all_pairs`` (the
    levels of every blocked pair of ``records`` referrals) the expected duplicates per record.
    """
    import numpy as np

    start = []
    for name in FIELDS:
        n = len(LEVELS[name])
        ramp = np.linspace(0.2, 2.0, n) ** 3  # higher levels are likelier for duplicates
        start.append(ramp / ramp.sum())
    learnt: list[list[NDArray[np.float64]]] = [[] for _ in FIELDS]
    shares = []
    for levels, blocked_on in sessions:
        m = [x.copy() for x in start]
        prior = 0.05
        for _ in range(iterations):
            model = FSModel(m=tuple(tuple(x.tolist()) for x in m), u=u, prior=prior)
            weight = match_weights(model, levels)
            weight -= np.asarray(model.weights()[blocked_on])[levels[:, blocked_on]]
            p = probability(weight)
            for f, name in enumerate(FIELDS):
                if f != blocked_on:
                    sums = np.bincount(levels[:, f], weights=p, minlength=len(LEVELS[name])) + 1e-3
                    m[f] = sums / sums.sum()
            prior = float(np.clip(p.mean(), 1e-4, 0.5))
        for f in range(len(FIELDS)):
            if f != blocked_on:
                learnt[f].append(m[f])
        shares.append((prior, len(levels)))
    final = tuple(tuple(np.mean(x, axis=0).tolist()) if x else tuple(start[f].tolist()) for f, x in enumerate(learnt))
    prior = sum(s * n for s, n in shares) / max(sum(n for _, n in shares), 1)
    model = FSModel(m=final, u=u, prior=float(prior))
    if all_pairs is not None and records:
        for _ in range(iterations):  # EM on the random-pair prior alone, m and u now fixed
            expected = float(probability(match_weights(model, all_pairs, records)).sum())
            model = FSModel(m=final, u=u, prior=float(prior), per_record=max(expected / records, 1e-3))
    return model
