"""Name comparison for duplicate referrals (tasks/matching/dedup_model.py weighs its levels).

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

Pure; rapidfuzz is imported by the function that needs it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from tasks.files.normalize import name_key_token

if TYPE_CHECKING:
    pass


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


def _end_swapped(a: str, b: str) -> bool:
    """The last two letters typed in the wrong order (Sara / Saar, Stan / Stna, Mihai / Mihia):
    a slip, weaker than a swap inside the word, which may also turn a masculine into a feminine."""
    return len(a) == len(b) >= 4 and a[:-2] == b[:-2] and a[-2:] == b[-1] + b[-2]


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
    if len(left) == len(rest) == 1 and (_end_swapped(*keys) or _end_swapped(*words)):
        return True
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
