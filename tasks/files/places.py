"""The comune of residence as partners write it, resolved against the official list (pure).

``resolve_municipality("Dalmine (Bg)")`` says which comune (ISTAT code, official name), which CPI,
how sure (0-100), how it was read and why, in Italian. The rules are data: the 243 comuni with
their codes and offices in ``config/offices.yaml``; suffixes, abbreviations, localities and
places outside the province in ``config/places.yaml``. In order:

1. empty, or a placeholder ("n.d.", "senza fissa dimora") → ``empty``;
2. the text, then the text without CAP, "comune di", "fraz.", trailing province ("(BG)", "- BG",
   ", Bergamo", "prov. BG") and country, looked up case-, accent-, apostrophe- and
   punctuation-insensitively among comuni, localities and known places → ``exact`` (the same
   name) or ``normalised``, ``locality``, ``out_of_province``; "BG" alone names the province,
   not the city, so it stays ``unresolved``; another sigla ("(MI)") means ``out_of_province``;
3. abbreviations and short forms ("Romano di Lomb.", "S. Pellegrino", "Sotto il Monte") →
   ``abbreviation``; a form that fits several comuni is ambiguous;
4. parts ("via Roma 3, Dalmine", "Mariano fraz. di Dalmine") resolved one by one, and agreeing;
5. typos: rapidfuzz over every name, accepted at ``FUZZY_THRESHOLD`` and only ``FUZZY_MARGIN``
   points ahead of the next place, so "Brembate" and "Brembate di Sopra" are never mixed up.

Several comuni served by one CPI (Zingonia; "Osio" for Osio Sopra or Sotto) still give the
office: the comune is settled at intake. Whatever has no office waits for the coordinators
(``tasks/referral/offices.py``): a municipality never refuses a row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from config.data import load_offices
from config.places import load_places
from tasks.files.normalize import transliterate_cyrillic
from tasks.files.tabular import safe_value

__all__ = ["FUZZY_MARGIN", "FUZZY_THRESHOLD", "HOW_LABELS", "How", "Resolution", "resolve_municipality"]

How = Literal["exact", "normalised", "abbreviation", "locality", "fuzzy", "unresolved", "empty", "out_of_province"]

#: Least rapidfuzz ratio (0-100) for a typo to count as a place.
FUZZY_THRESHOLD = 85
#: Least lead over the second-best place: below it, two places are equally likely.
FUZZY_MARGIN = 6

#: How a case came to wait for a CPI, in the words of a coordinator.
HOW_LABELS: dict[str, str] = {
    "empty": "comune non indicato",
    "unresolved": "comune non riconosciuto o ambiguo",
    "out_of_province": "comune fuori provincia",
}


@dataclass(frozen=True)
class Resolution:
    """What a written comune was read as. ``office_code`` is None when nobody can tell the CPI."""

    how: How
    confidence: int
    explanation: str
    istat: str | None = None
    name: str | None = None
    office_code: str | None = None
    province: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        """True when the case can go to a CPI without a coordinator."""
        return self.office_code is not None


@dataclass(frozen=True)
class _Target:
    """A place a text may name: a comune, a locality (with its comuni), the province, a place outside."""

    kind: Literal["comune", "locality", "outside", "province"]
    name: str
    comuni: tuple[str, ...] = ()
    province: str | None = None
    label: str = ""


@dataclass
class _Index:
    comuni: dict[str, tuple[str, str]] = field(default_factory=dict)  # istat -> (name, office)
    office_names: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, _Target] = field(default_factory=dict)
    # names' word lists by first letter: whole names (flag True) and short forms (False)
    forms: dict[str, list[tuple[tuple[str, ...], bool, _Target]]] = field(default_factory=dict)
    short_keys: dict[str, list[_Target]] = field(default_factory=dict)  # "sanpellegrino" and the like
    placeholders: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    former: dict[str, frozenset[str]] = field(default_factory=dict)
    trailing: frozenset[str] = frozenset()
    markers: frozenset[str] = frozenset()
    abbreviations: dict[str, frozenset[str]] = field(default_factory=dict)
    province: str = "BG"
    province_name: str = "Bergamo"


_APOSTROPHES = str.maketrans(dict.fromkeys("’‘`´ʼ′", "'"))
_CAP_RE = re.compile(r"(?<![0-9])[0-9]{5}(?![0-9])")
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:\.[a-z]{1,3}(?![a-z.]))?\.?")
_TRAIL_RE = re.compile(r"(?:^|[\s,;/\-–(]+)(?:prov(?:incia)?\.?\s*(?:di\s+)?)?(?P<q>[a-z]+)\.?\s*\)?[\s,;.\-–]*$")
_LEAD_RE = re.compile(r"^\s*(?:(?:comune|citta|residente|residenza)\s+(?:di|a|in)\b|(?:res|resid)\.\s*)[\s:]*")
_PARTS_RE = re.compile(r"[,;/()]+|\s*[-–]\s*|\s+di\s+|\s+(?=\b(?:fraz|frazione|loc|localita|quartiere)\b)")


def _fold(text: str) -> str:
    """Casefolded, accents stripped, Cyrillic transliterated (г as g: "Бергамо"), one apostrophe."""
    text = text.casefold()
    if re.search(r"[\u0400-\u04ff]", text):
        text = transliterate_cyrillic(text.replace("г", "ґ"))
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _key(text: str) -> str:
    """Lookup key: letters and digits only ("Torre de’ Busi" = "torre de busi" = "TORREDEBUSI")."""
    return re.sub(r"[^a-z0-9]", "", _fold(text))


def _tokens(folded: str) -> tuple[str, ...]:
    """Words, a trailing dot kept ("lomb."), contractions kept whole ("b.co"), "d'adda" → d, adda."""
    return tuple(_TOKEN_RE.findall(folded))


@lru_cache(maxsize=1)
def _index() -> _Index:
    """Everything the resolver looks things up in, built once from config/."""
    rules = load_places()
    idx = _Index(province=rules.province.code, province_name=rules.province.name)
    by_name: dict[str, str] = {}
    targets: list[_Target] = []
    for office in load_offices():
        idx.office_names[office.code] = office.name
        for m in office.municipalities:
            idx.comuni[m.istat] = (m.name, office.code)
            by_name[m.name] = m.istat
            targets.append(_Target("comune", m.name, (m.istat,)))
    names: list[tuple[str, _Target]] = [(t.name, t) for t in targets]
    for loc in rules.localities:
        target = _Target("locality", loc.name, tuple(by_name[c] for c in loc.comuni), label=loc.kind)
        names += [(n, target) for n in [loc.name, *loc.aliases]]
    for place in rules.out_of_province:
        target = _Target("outside", place.name, province=place.province)
        names += [(n, target) for n in [place.name, *place.aliases]]
    province = _Target("province", rules.province.name, province=rules.province.code)
    idx.by_key.update({_key(n): province for n in rules.province.alone})
    short = rules.short_forms
    droppable = {tuple(_tokens(_fold(t))) for t in short.tails}
    starters = set(short.prepositions) | set(short.saints)
    skippable = set(short.prepositions) | set(short.articles)
    for name, target in names:
        idx.by_key[_key(name)] = target
        tokens = _tokens(_fold(name))
        idx.forms.setdefault(tokens[0][0], []).append((tokens, True, target))
        content = tuple(t for t in tokens if t not in skippable)
        if content != tokens and content:
            idx.forms.setdefault(content[0][0], []).append((content, True, target))
        for cut in range(1, len(tokens)):
            tail, head = tokens[cut:], tokens[:cut]
            if (tail[0] in starters or tail in droppable) and sum(len(t) for t in head) >= 4:
                idx.forms.setdefault(head[0][0], []).append((head, False, target))
                idx.short_keys.setdefault("".join(head), []).append(target)
    idx.placeholders = frozenset(_fold(p) for p in rules.no_municipality) | frozenset(
        k for k in (_key(p) for p in rules.no_municipality) if k
    )
    idx.codes = frozenset(c.casefold() for c in rules.province_codes)
    idx.former = {by_name[n]: frozenset(codes) for n, codes in rules.former_provinces.items()}
    idx.trailing = frozenset(_key(w) for w in rules.country_words) | {_key(rules.province.name)}
    idx.markers = frozenset(_key(m) for m in rules.locality_markers)
    idx.abbreviations = {_key(k): frozenset(_key(w) for w in v) for k, v in rules.abbreviations.items()}
    return idx


# --------------------------------------------------------------------------- building answers


def _office_phrase(idx: _Index, code: str) -> str:
    return idx.office_names.get(code, code)


def _settle(idx: _Index, comuni: Iterable[str], how: How, confidence: int, shown: str, why: str) -> Resolution:
    """One comune → resolved; several with one CPI → that CPI; several CPI → unresolved."""
    codes = tuple(dict.fromkeys(comuni))
    names = tuple(idx.comuni[c][0] for c in codes)
    offices = {idx.comuni[c][1] for c in codes}
    if len(codes) == 1:
        name, office = idx.comuni[codes[0]]
        text = f"«{shown}» letto come {name} ({why}; ISTAT {codes[0]}), servito dal {_office_phrase(idx, office)}"
        return Resolution(how, confidence, text, istat=codes[0], name=name, office_code=office)
    listed = _listing(names)
    if len(offices) == 1:
        office = offices.pop()
        text = (
            f"«{shown}» ({why}) può essere {listed}: tutti serviti dal {_office_phrase(idx, office)}; "
            "il comune si precisa al colloquio"
        )
        return Resolution(how, min(confidence, 80) - 5, text, office_code=office, candidates=names)
    text = f"«{shown}» ({why}) può essere {listed}, serviti da CPI diversi: il CPI lo assegna il coordinamento"
    return Resolution("unresolved", 0, text, candidates=names)


def _listing(names: tuple[str, ...]) -> str:
    shown = list(names[:6]) + (["altri"] if len(names) > 6 else [])
    return ", ".join(shown[:-1]) + " o " + shown[-1] if len(shown) > 1 else shown[0]


def _from_target(
    idx: _Index, target: _Target, how: How, confidence: int, shown: str, why: str, others: frozenset[str]
) -> Resolution:
    """The answer for one place found, given the other provinces' sigle written next to it."""
    if target.kind == "outside":
        text = f"«{shown}» è {target.name} (provincia {target.province}), fuori dalla provincia di {idx.province_name}"
        return Resolution("out_of_province", confidence, text, name=target.name, province=target.province)
    if target.kind == "province":
        text = (
            f"«{shown}» indica la provincia di {idx.province_name}, non un comune: il CPI lo assegna il coordinamento"
        )
        return Resolution("unresolved", 0, text)
    if others and not all(others <= idx.former.get(c, frozenset()) for c in target.comuni):
        sig = ", ".join(sorted(others))
        text = (
            f"«{shown}» somiglia a {target.name}, della provincia di {idx.province_name}, ma indica la "
            f"provincia {sig}: da verificare, il CPI lo assegna il coordinamento"
        )
        return Resolution("unresolved", 0, text, candidates=(target.name,))
    if target.kind == "locality":
        if not target.comuni:
            text = f"«{shown}» è una zona ({target.name}), non un comune: il CPI lo assegna il coordinamento"
            return Resolution("unresolved", 0, text)
        if how == "locality" and len(target.comuni) == 1:
            comune = idx.comuni[target.comuni[0]][0]
            why = f"ex comune confluito in {comune}" if target.label == "ex comune" else f"{target.label} di {comune}"
        elif how == "locality":
            why = f"{target.label} {target.name}"
        return _settle(idx, target.comuni, how, confidence, shown, why)
    if others:
        why += f"; la provincia {', '.join(sorted(others))} è quella di prima del passaggio a {idx.province_name}"
    return _settle(idx, target.comuni, how, confidence, shown, why)


# --------------------------------------------------------------------------- reading the text


def _strip(folded: str) -> tuple[list[tuple[str, frozenset[str]]], frozenset[str]]:
    """The text ever more stripped (CAP, "comune di", trailing province and country), each with
    the sigle removed so far; and the sigle written as such, in brackets or after a separator
    ("(MI)", "- MI"): a bare trailing "so" or "no" may be a word ("non so")."""
    idx = _index()
    steps: list[tuple[str, frozenset[str]]] = [(folded, frozenset())]
    text = _LEAD_RE.sub("", _CAP_RE.sub(" ", folded)).strip(" ,;-")
    words = text.split()
    if words and _key(words[0]) in idx.markers and len(words) > 1:
        text = " ".join(words[1:]).lstrip(". ")
    sigle: set[str] = set()
    marked: set[str] = set()
    steps.append((text, frozenset()))
    while True:
        m = _TRAIL_RE.search(text)
        if m is None or not re.search(r"[a-z]", text[: m.start()]):
            break
        word = m.group("q")
        if word in idx.codes:
            sigle.add(word.upper())
            if re.search(r"[,;/\-–(]", m.group(0)):
                marked.add(word.upper())
        elif word not in idx.trailing:
            break
        text = text[: m.start()].strip(" ,;-–(")
        steps.append((text, frozenset(sigle)))
    return steps, frozenset(marked)


def _token_fits(written: str, official: str, first: bool) -> bool:
    """One written word against one word of a name: equal, a known abbreviation, "lomb." for
    lombardia, "b.co" for bianco, or (not as first word) a cut word of 3+ letters."""
    if written == official:
        return True
    bare = written.rstrip(".")
    if official in _index().abbreviations.get(bare, ()):
        return True
    if "." in bare:
        head, _, tail = bare.partition(".")
        return official.startswith(head) and official.endswith(tail) and len(official) > len(head) + len(tail)
    if written.endswith("."):
        return official.startswith(bare) and len(official) > len(bare)
    return not first and len(bare) >= 3 and official.startswith(bare) and len(official) > len(bare)


def _fits(written: tuple[str, ...], official: tuple[str, ...]) -> bool:
    return all(_token_fits(w, o, i == 0) for i, (w, o) in enumerate(zip(written, official, strict=True)))


def _abbreviated(tokens: tuple[str, ...]) -> tuple[list[_Target], bool]:
    """Places the words fit as abbreviation (whole name first) or as a short form; the flag says
    whether a whole name fitted. A short form counts every name it begins, so "Villa" is ambiguous."""
    if not tokens:
        return [], False
    idx = _index()
    first = tokens[0].rstrip(".") or tokens[0]
    letters = {first[0]} | {w[0] for w in idx.abbreviations.get(first, ())}
    forms = [f for letter in letters for f in idx.forms.get(letter, ())]
    whole = [t for form, full, t in forms if full and len(form) == len(tokens) and _fits(tokens, form)]
    if whole:
        return list(dict.fromkeys(whole)), True
    if sum(len(t.rstrip(".")) for t in tokens) < 4:
        return [], False
    short = [t for form, full, t in forms if not full and len(form) == len(tokens) and _fits(tokens, form)]
    begun = [t for form, full, t in forms if full and len(form) > len(tokens) and _fits(tokens, form[: len(tokens)])]
    found = list(dict.fromkeys(short + begun))
    return (found if short or len(found) > 1 else []), False


def _known(text: str) -> list[_Target]:
    """The places a short text names by key, abbreviation or short form (no typos)."""
    target = _index().by_key.get(_key(text))
    if target is not None:
        return [target]
    return _abbreviated(_tokens(text))[0]


def _combine(
    idx: _Index, found: list[list[_Target]], shown: str, how: How, confidence: int, why: str
) -> Resolution | None:
    """Parts that each name places: agreeing comuni win; a place outside and one inside disagree."""
    flat = [t for group in found for t in group]
    outside = [t for t in flat if t.kind == "outside"]
    inside = [t for t in flat if t.kind in ("comune", "locality") and t.comuni]
    if outside and not inside:
        return _from_target(idx, outside[0], "out_of_province", confidence, shown, "", frozenset())
    if not inside:
        return None
    if outside:
        names = tuple(dict.fromkeys(t.name for t in flat))
        text = (
            f"«{shown}» nomina luoghi dentro e fuori provincia ({_listing(names)}): il CPI lo assegna il coordinamento"
        )
        return Resolution("unresolved", 0, text, candidates=names)
    sets = [set(c for t in group if t.kind in ("comune", "locality") for c in t.comuni) for group in found]
    sets = [s for s in sets if s]
    common = set.intersection(*sets)
    chosen = common or set().union(*sets)
    ordered = [c for t in inside for c in t.comuni if c in chosen]
    return _settle(idx, ordered, how, confidence, shown, why)


def _fuzzy(text: str) -> tuple[_Target, int, _Target | None, int] | None:
    """Best place for a typo, its score, and the runner-up among other places."""
    from rapidfuzz import fuzz, process

    key = _key(text)
    if len(key) < 4:
        return None
    choices = _fuzzy_choices()
    best: dict[_Target, int] = {}
    for _choice, score, i in process.extract(key, choices[0], scorer=fuzz.ratio, limit=10, score_cutoff=50):
        target = choices[1][i]
        best[target] = max(best.get(target, 0), round(score))
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    first, second = ranked[0], ranked[1] if len(ranked) > 1 else (None, 0)
    return first[0], first[1], second[0], second[1]


@lru_cache(maxsize=1)
def _fuzzy_choices() -> tuple[list[str], list[_Target]]:
    items = [(k, t) for k, t in _index().by_key.items() if len(k) >= 4 and t.kind != "province"]
    return [k for k, _ in items], [t for _, t in items]


# --------------------------------------------------------------------------- the entry point


@lru_cache(maxsize=16384)
def resolve_municipality(text: str | None) -> Resolution:
    """Read a written comune of residence (see the module docstring for the rules, in order)."""
    raw = " ".join(str(text or "").split())
    shown = safe_value(raw)
    idx = _index()
    folded = _fold(raw)
    if not _key(folded) or folded in idx.placeholders or _key(folded) in idx.placeholders:
        why = "comune di residenza non indicato" if not raw else f"«{shown}»: comune di residenza non indicato"
        return Resolution("empty", 0, why + ": il CPI lo assegna il coordinamento")
    steps, marked = _strip(folded)
    others = marked - {idx.province}
    for step, (candidate, seen) in enumerate(steps):
        target = idx.by_key.get(_key(candidate))
        if target is None:
            continue
        exact = step == 0 and target.kind == "comune" and raw.casefold() == target.name.casefold()
        how: How = "exact" if exact else "locality" if target.kind == "locality" else "normalised"
        confidence = 100 if exact else 95 if target.kind == "locality" else 98
        why = "nome ufficiale" if exact else "tolti provincia, CAP, accenti o punteggiatura"
        return _from_target(idx, target, how, confidence, shown, why, seen - {idx.province})
    cleaned = steps[-1][0]
    if others:
        sig = sorted(others)[0]
        text_out = f"«{shown}» è indicato in provincia {sig}, fuori dalla provincia di {idx.province_name}"
        return Resolution("out_of_province", 90, text_out, province=sig)
    found, whole = _abbreviated(_tokens(cleaned))
    if found:
        return _many(idx, found, "abbreviation", 90 if whole else 85, shown, "abbreviazione o forma breve")
    glued = idx.short_keys.get(_key(cleaned))
    if glued:
        return _many(idx, list(dict.fromkeys(glued)), "abbreviation", 85, shown, "forma breve")
    typo = _typo(cleaned, shown)
    if typo is not None and typo.resolved:
        return typo
    parts = [_drop_lead(p.strip(" .-")) for p in _PARTS_RE.split(cleaned) if p and p.strip(" .-")]
    if len(parts) > 1:
        known = [k for k in (_known(p) for p in parts if p) if k]
        combined = _combine(idx, known, shown, "normalised", 90, "parti riconosciute") if known else None
        if combined is not None:
            return combined
        for part in parts:
            guess = _typo(part, shown)
            if guess is not None and (guess.resolved or guess.how == "out_of_province"):
                return guess
    if typo is not None:
        return typo
    text_out = (
        f"«{shown}» non corrisponde a nessun comune della provincia di {idx.province_name}: "
        "il CPI lo assegna il coordinamento"
    )
    return Resolution("unresolved", 0, text_out)


def _typo(text: str, shown: str) -> Resolution | None:
    """A place within typing distance, clearly ahead of the next one; two close places are
    ambiguous; None when nothing is close."""
    guess = _fuzzy(text)
    if guess is None or guess[1] < FUZZY_THRESHOLD:
        return None
    target, score, runner_up, second = guess
    if score - second >= FUZZY_MARGIN:
        other = f"; poi {runner_up.name} al {second}%" if runner_up is not None else ""
        return _from_target(_index(), target, "fuzzy", score, shown, f"somiglianza {score}%{other}", frozenset())
    names = (target.name, runner_up.name if runner_up is not None else "")
    text_out = f"«{shown}» somiglia tanto a {names[0]} quanto a {names[1]}: il CPI lo assegna il coordinamento"
    return Resolution("unresolved", 0, text_out, candidates=names)


def _drop_lead(part: str) -> str:
    """A part without its locality marker or leading preposition ("fraz. di Dalmine" → "Dalmine")."""
    idx = _index()
    words = part.split()
    while len(words) > 1 and (_key(words[0]) in idx.markers or words[0] in ("di", "del", "della", "in", "a")):
        words = words[1:]
    return " ".join(words).strip(" .")


def _many(idx: _Index, found: list[_Target], how: How, confidence: int, shown: str, why: str) -> Resolution:
    """One place → its answer; several → the comuni they share or cover (see :func:`_settle`)."""
    if len(found) == 1:
        return _from_target(idx, found[0], how, confidence, shown, why, frozenset())
    combined = _combine(idx, [[t] for t in found], shown, how, confidence, why)
    if combined is None:
        names = tuple(t.name for t in found)
        return Resolution("unresolved", 0, f"«{shown}» può essere {_listing(names)}", candidates=names)
    return combined
