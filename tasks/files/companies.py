"""The company a vacancy names, as partners write it, found in the member registry (pure).

Confindustria's office and the member companies write the employer of a position as they know
it: "ROSSI MECCANICA SRL", "Meccanica Rossi S.r.l.", "Rossi Meccanica & C. s.n.c.", a typo, a
partita IVA alone, or our internal code. ``resolve_company(name, vat)`` says which company of
``config/organisations.yaml`` (kind ``company``: code, name, ``aliases``, ``vat``) it is, how
(:data:`HOW_LABELS`), how sure (0-100) and why, in Italian. In order:

1. the internal code (``COMP-...``) as written → ``code``;
2. the partita IVA — the VAT cell, or 11 digits inside the name ("P.IVA 01234567890") — with
   its check digit (Luhn, as ``stdnum.it.iva``), "IT" prefix, spaces and dots dropped and the
   leading zero Excel drops put back → ``vat`` when the registry has it. A VAT with a wrong
   check digit is ignored (said in the answer); a VAT that the name's company does not have is
   a ``conflict``, never a guess;
3. the name folded: case, accents, punctuation, articles and prepositions, legal forms
   ("S.p.A.", "SPA", "s.r.l.", "Srl", "S.n.c.", "& C.", "Soc. Coop. a r.l.", "Onlus"),
   descriptors ("Azienda agricola", "Ditta"), what follows the legal form (partners, a place:
   "… S.n.c. di Bianchi & C.", "… S.r.l. - Albino (BG)") and the site after "stabilimento",
   "sede", "filiale" → ``exact``/``normalised``/``alias`` when equal to a registered name;
4. the same words in another order → ``reordered`` (word for word: a company that is only
   similar never makes these ambiguous); a registered name shortened (every written word in
   it, at least two words, one of them not a common business word, and half of its words)
   → ``partial``;
5. typos: rapidfuzz over every registered name, accepted at :data:`THRESHOLD` and only
   :data:`MARGIN` points ahead of the next company (two close companies are ``ambiguous``);
6. none of these: each part of the cell alone ("Orio Hub Logistica (Orio al Serio)").

Whatever stays unknown waits for the coordinators (tasks/vacancies.py): a company never refuses
a row. rapidfuzz is imported only when a name is not found by its words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from config.data import load_organisations
from models.enums import OrgKind
from tasks.files.tabular import safe_value

__all__ = [
    "HOW_LABELS",
    "MARGIN",
    "THRESHOLD",
    "CompanyMatch",
    "Registry",
    "RegistryEntry",
    "company_words",
    "default_registry",
    "normalize_vat",
    "resolve_company",
    "vat_is_valid",
]

How = Literal[
    "code", "vat", "exact", "normalised", "alias", "reordered", "partial", "fuzzy",
    "manual", "unknown", "ambiguous", "conflict", "empty",
]  # fmt: skip

#: Least score (0-100) for a name to be a registered company.
THRESHOLD = 90
#: Least lead over the next company: below it, the name could be either.
MARGIN = 8
#: Below THRESHOLD but this close: named to the coordinators and the sender as a suggestion.
SUGGEST = 70

#: How a company was found (or not), in the words of a coordinator.
HOW_LABELS: dict[str, str] = {
    "code": "codice azienda",
    "vat": "partita IVA",
    "exact": "ragione sociale",
    "normalised": "ragione sociale (forma societaria, maiuscole o punteggiatura diverse)",
    "alias": "altro nome registrato dell'azienda",
    "reordered": "stesse parole in altro ordine",
    "partial": "ragione sociale abbreviata",
    "fuzzy": "nome simile (refusi)",
    "manual": "assegnata dal coordinamento",
    "unknown": "azienda non trovata tra le associate",
    "ambiguous": "nome simile a più aziende associate",
    "conflict": "partita IVA e nome indicano aziende diverse",
    "empty": "azienda non indicata",
}

# --------------------------------------------------------------------------- name folding

#: Abbreviations expanded before the legal forms are recognised ("Soc. Coop." → società cooperativa).
_EXPAND: dict[str, tuple[str, ...]] = {
    "soc": ("societa",), "coop": ("cooperativa",), "coop.va": ("cooperativa",), "cooperat": ("cooperativa",),
    "az": ("azienda",), "agr": ("agricola",), "flli": ("fratelli",), "f.lli": ("fratelli",),
    "cons": ("consorzio",), "arl": ("a", "rl"), "co.": ("co",),
}  # fmt: skip
#: Legal forms, descriptors and "& C." as word sequences (longest first), dropped from names.
_DROP_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(p.split())
            for p in (
                "societa per azioni, societa a responsabilita limitata semplificata, societa a responsabilita "
                "limitata, a responsabilita limitata, societa in nome collettivo, societa in accomandita "
                "semplice, societa in accomandita per azioni, societa cooperativa sociale, societa cooperativa, "
                "cooperativa sociale, societa consortile, societa semplice, societa agricola, societa benefit, "
                "azienda agricola, impresa individuale, ditta individuale, impresa sociale, in liquidazione, "
                "a socio unico, con socio unico, a rl, e c, e co, and co"
            ).split(", ")
        ),
        key=len,
        reverse=True,
    )
)
#: Single words dropped: legal forms written as one word, foreign ones, generic descriptors.
_DROP_WORDS = frozenset(
    "spa srl srls snc sas sapa ss sc scarl scrl scpa scs sca soc societa cooperativa onlus odv aps "
    "unipersonale uninominale ditta impresa rl ec gmbh ag ltd limited llc inc sarl sagl bv nv sl "
    "plc corp".split()
)
#: Legal forms that end a name (one word, or the words of ``_DROP_PHRASES`` that start so).
_LEGAL_FORMS = frozenset("spa srl srls snc sas sapa scarl scrl scpa".split())
_LEGAL_PHRASES = tuple(p for p in _DROP_PHRASES if p[0] == "societa" or p == ("cooperativa", "sociale"))
#: Articles, prepositions and conjunctions: never what tells two companies apart.
_STOPWORDS = frozenset(
    "di del dei della delle dello degli dell d l la il lo le gli i e ed a al alla da dal the of and".split()
)
#: Words after which a name goes on with a site, not the company ("… stabilimento di Gandino").
_SITE_WORDS = frozenset("stabilimento sede filiale unita produttiva reparto punto vendita plant site branch".split())

#: Common business nouns: a shortened name made of these alone ("Officine Meccaniche") names no
#: company in particular, so it is never taken as a registered name shortened.
_GENERIC = frozenset(
    """
    officina officine meccanica meccaniche meccanico metalmeccanica carpenteria carpenterie costruzioni
    costruzione edile edili edilizia impianti elettroimpianti impiantistica elettrica elettrici idraulica
    servizi servizio pulizie pulizia logistica trasporti autotrasporti spedizioni magazzini supermercati
    supermercato market alimentari alimentare panificio forno pasticceria caseificio salumificio albergo
    hotel ristorante ristorazione bar tessitura tessile filatura abbigliamento stampaggio plastiche
    plastica gomma tecnica tecnologie tecnologia industria industrie industriale industriali manifattura
    produzione lavorazioni lavorazione metalli acciai acciaio legno mobili arredamenti arredo commerciale
    commercio distribuzione gruppo group holding italia italiana international europa nord sud centro
    est ovest global agricola azienda fratelli figli studio sistemi soluzioni cura assistenza casa hub
    componenti automazione packaging imballaggi chimica verniciatura fonderia utensili macchine stampi
    serramenti infissi grafica tipografia lavanderia vigilanza sicurezza energia ambiente ecologia
    alta bassa val valle nuova nuovo
    """.split()
)
_APOSTROPHES = str.maketrans(dict.fromkeys("’‘`´ʼ′'", " "))
_DOTTED = re.compile(r"(?<![a-z0-9])(?:[a-z]\.){1,4}[a-z]\.?(?![a-z0-9])")
_WORD = re.compile(r"[a-z0-9]+(?:\.[a-z]+)*\.?")
_VAT_IN_TEXT = re.compile(
    r"(?:\b(?:p\.?\s*iva|partita\s+iva|vat|c\.?\s*f\.?)\b[\s.:n°#]*)?(?:it\s*)?(\d[\d .]{9,14}\d)", re.I
)
_CODE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)+$")
#: Where a company cell goes on with something else: " - ", brackets, a comma, a slash.
_PARTS = re.compile(r"\s+[-–—|]\s+|[()\[\],;/]")
#: A company cell holding nothing but a VAT ("IT01234567890", "01234 567 890", Excel's 1234567890).
_ONLY_VAT = re.compile(r"(?:it)?\s*\d[\d .]{6,14}\d", re.I)


def _fold(text: str) -> str:
    """Casefolded, accents stripped, apostrophes as spaces, "&" and "+" as "e"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_APOSTROPHES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s*[&+]\s*", " e ", plain)


def _drop_phrases(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase in _DROP_PHRASES:
            if tuple(words[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def company_words(text: str | None) -> tuple[str, ...]:
    """The words that tell a company apart: "Rossi Meccanica & C. S.n.c." → (rossi, meccanica)."""
    folded = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), _fold(str(text or "")))
    words: list[str] = []
    for raw in _WORD.findall(folded):
        token = raw.rstrip(".")
        expanded = _EXPAND.get(raw) or _EXPAND.get(token) or tuple(p for p in token.split(".") if p)
        words.extend(expanded)
    site = next((i for i, w in enumerate(words) if w in _SITE_WORDS and i > 0), None)
    words = _drop_phrases(_until_legal_form(_join_letters(_without_partners(words[:site] if site else words))))
    return tuple(w for w in words if w not in _DROP_WORDS and w not in _STOPWORDS)


def _until_legal_form(words: list[str]) -> list[str]:
    """The name up to its legal form: what follows names partners or a place ("Rossi Srl -
    Albino (BG)", "… S.n.c. di Bianchi & C."). A legal form written first starts the name."""
    named, i = False, 0
    while i < len(words):
        phrase = next((p for p in _LEGAL_PHRASES if tuple(words[i : i + len(p)]) == p), None)
        size = len(phrase) if phrase else int(words[i] in _LEGAL_FORMS)
        if size and named:
            return words[: i + size]
        named = named or (not size and words[i] not in _DROP_WORDS and words[i] not in _STOPWORDS)
        i += size or 1
    return words


def _without_partners(words: list[str]) -> list[str]:
    """Without the partners of a partnership ("Orobica di Bianchi & C. snc": between "di" and "& C.")."""
    for j in range(2, len(words) - 1):
        if words[j] == "e" and words[j + 1] in ("c", "co"):
            k = next((k for k in range(j - 1, 0, -1) if words[k] == "di"), None)
            named = k is not None and any(w not in _DROP_WORDS and w not in _STOPWORDS for w in words[:k])
            return words[:k] + words[j + 2 :] if named else words
    return words


def _join_letters(words: list[str]) -> list[str]:
    """Legal forms typed as spaced letters ("S. R. L.", "s p a") joined into one word."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for end in range(min(len(words), i + 5), i + 1, -1):
            run = words[i:end]
            if all(len(w) == 1 for w in run) and "".join(run) in _DROP_WORDS:
                out.append("".join(run))
                i = end
                break
        else:
            out.append(words[i])
            i += 1
    return out


# --------------------------------------------------------------------------- partita IVA


def vat_is_valid(digits: str) -> bool:
    """An 11-digit partita IVA with its Luhn check digit and a real office code (001-100, 120,
    121, 888, 999), as ``stdnum.it.iva`` checks it."""
    if not re.fullmatch(r"[0-9]{11}", digits) or digits[:7] == "0000000":
        return False
    office = int(digits[7:10])
    if not (1 <= office <= 100 or office in (120, 121, 888, 999)):
        return False
    total = 0
    for i, c in enumerate(digits[:10]):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10 == int(digits[10])


def normalize_vat(value: object) -> tuple[str | None, str | None]:
    """(the valid 11-digit VAT, None) or (None, why it was ignored) or (None, None) when absent.

    "IT 01234567890", "01234 567 890", "01.234.567.890" and Excel's 1234567890 (the leading zero
    lost to a number cell) are all the same VAT."""
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        return None, None
    digits = re.sub(r"[\s.\-/]", "", text)
    digits = re.sub(r"^(?:it|p\.?iva:?|partitaiva:?)+", "", digits, flags=re.I)
    if not digits.isdigit():
        return None, f"partita IVA «{safe_value(text)[:20]}» non leggibile: ignorata"
    if 8 <= len(digits) < 11 and vat_is_valid(digits.zfill(11)):
        return digits.zfill(11), None
    if len(digits) != 11:
        return None, f"partita IVA «{safe_value(text)[:20]}» di {len(digits)} cifre invece di 11: ignorata"
    if not vat_is_valid(digits):
        return None, f"partita IVA {digits} non valida (cifra di controllo errata): ignorata"
    return digits, None


def _vat_in_name(name: str) -> tuple[str, str]:
    """A VAT written inside the name cell ("Rossi Srl - P.IVA 01234567890"), and the name without it."""
    for m in _VAT_IN_TEXT.finditer(name):
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) == 11:
            return digits, (name[: m.start()] + " " + name[m.end() :]).strip(" -,;/()")
    return "", name


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class RegistryEntry:
    """A member company as the registry knows it."""

    code: str
    name: str
    vat: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registry:
    """The member companies, indexed by code, VAT and folded names."""

    entries: tuple[RegistryEntry, ...]

    @classmethod
    def of(cls, entries: Iterable[RegistryEntry]) -> Registry:
        return cls(tuple(entries))

    def by_code(self, code: str) -> RegistryEntry | None:
        return self._codes.get(code.upper())

    @property
    def _codes(self) -> dict[str, RegistryEntry]:
        return _codes_of(self)

    def by_vat(self, vat: str) -> RegistryEntry | None:
        return next((e for e in self.entries if e.vat == vat), None)

    def names(self) -> list[tuple[tuple[str, ...], RegistryEntry, bool]]:
        """(folded words, company, is an alias) for every registered name."""
        return _names_of(self)


@lru_cache(maxsize=8)
def _codes_of(registry: Registry) -> dict[str, RegistryEntry]:
    return {e.code.upper(): e for e in registry.entries}


@lru_cache(maxsize=8)
def _names_of(registry: Registry) -> list[tuple[tuple[str, ...], RegistryEntry, bool]]:
    out = []
    for e in registry.entries:
        for i, name in enumerate((e.name, *e.aliases)):
            words = company_words(name)
            if words:
                out.append((words, e, i > 0))
    return out


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The companies of config/organisations.yaml (read once per process)."""
    return Registry.of(
        RegistryEntry(o.code, o.name, o.vat, tuple(o.aliases))
        for o in load_organisations()
        if o.kind is OrgKind.COMPANY
    )


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class CompanyMatch:
    """What a written company was read as: ``code`` is None when nobody can tell the company,
    ``vat`` the valid partita IVA the file gave (None when it gave none, or a wrong one)."""

    how: How
    confidence: int
    explanation: str
    code: str | None = None
    vat: str | None = None
    suggestions: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.code is not None

    @property
    def label(self) -> str:
        """How, in Italian, with the confidence when below certainty (no name as written)."""
        label = HOW_LABELS[self.how]
        return f"{label} ({self.confidence}%)" if self.code and self.confidence < 100 else label


@dataclass(frozen=True)
class _Scored:
    entry: RegistryEntry
    score: int
    how: How


def _tokens_fit(written: Sequence[str], registered: Sequence[str]) -> tuple[int, int] | None:
    """Each written word matched to a distinct registered word (equal, or a typo of one of five
    letters or more); (words matched, typos) or None when a written word is not in the name."""
    from rapidfuzz import fuzz

    free = list(registered)
    typos = 0
    for w in written:
        if w in free:
            free.remove(w)
            continue
        near = [r for r in free if len(w) >= 5 and len(r) >= 5 and fuzz.ratio(w, r) >= 85]
        if not near:
            return None
        free.remove(near[0])
        typos += 1
    return len(written), typos


def _score(written: tuple[str, ...], registered: tuple[str, ...]) -> tuple[int, How]:
    """How well written words name one registered name (0-100), and how."""
    if written == registered:
        return 100, "normalised"
    if "".join(written) == "".join(registered):
        return 98, "normalised"  # "Elettro Impianti" and "Elettroimpianti"
    if sorted(written) == sorted(registered):
        return 97, "reordered"
    from rapidfuzz import fuzz

    a, b = " ".join(written), " ".join(registered)
    best, how = round(max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))), "fuzzy"
    distinctive = any(w not in _GENERIC for w in written)
    if distinctive and 2 <= len(written) < len(registered) and 2 * len(written) >= len(registered):
        fit = _tokens_fit(written, registered)
        if fit is not None:
            partial = 100 - 4 * (len(registered) - len(written)) - 5 * fit[1]
            if partial > best:
                best, how = partial, "partial"
    return best, how  # type: ignore[return-value]


#: Answers where every word is a registered name's word: a fuzzy runner-up cannot outweigh them.
_WORD_FOR_WORD = frozenset({"normalised", "alias", "reordered"})


def _ranked(registry: Registry, words: tuple[str, ...]) -> list[_Scored]:
    """The likely companies with their best name's score, best first: names sharing a word, the
    same letters, or among the nearest by rapidfuzz (in C over every name, so a registry of a
    thousand members costs no more than a few)."""
    from rapidfuzz import fuzz, process

    names, joined, by_word, by_letters = _candidates_index(registry)
    text = " ".join(words)
    picked = {i for w in words for i in by_word.get(w, ())} | set(by_letters.get("".join(words), ()))
    for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
        picked.update(i for _, _, i in process.extract(text, joined, scorer=scorer, limit=_NEAREST, score_cutoff=50))
    best: dict[str, _Scored] = {}
    for i in picked:
        registered, entry, alias = names[i]
        score, how = _score(words, registered)
        if alias and how == "normalised":
            how = "alias"
        if entry.code not in best or score > best[entry.code].score:
            best[entry.code] = _Scored(entry, score, how)
    return sorted(best.values(), key=lambda s: (-s.score, s.entry.code))


#: Names rapidfuzz hands over per scorer for the full scoring (the rest cannot come close).
_NEAREST = 12


@lru_cache(maxsize=8)
def _candidates_index(
    registry: Registry,
) -> tuple[list[tuple[tuple[str, ...], RegistryEntry, bool]], list[str], dict[str, list[int]], dict[str, list[int]]]:
    """Every registered name's words, joined text, and the names by word and by their letters."""
    names = registry.names()
    by_word: dict[str, list[int]] = {}
    by_letters: dict[str, list[int]] = {}
    for i, (words, _entry, _alias) in enumerate(names):
        for w in set(words):
            by_word.setdefault(w, []).append(i)
        by_letters.setdefault("".join(words), []).append(i)
    return names, [" ".join(w) for w, _, _ in names], by_word, by_letters


def _shares_a_name(words: tuple[str, ...], entry: RegistryEntry) -> bool:
    """Whether a written name holds a word of the company's own (not a common business word)."""
    own = {w for w in company_words(entry.name) if w not in _GENERIC and len(w) >= 4}
    return any(_tokens_fit((w,), tuple(own)) is not None for w in words if w not in _GENERIC and len(w) >= 4)


def _by_name(registry: Registry, name: str, shown: str) -> CompanyMatch:
    """The company a name names; else the company one part of it names ("Orio Hub Logistica
    (Orio al Serio)", "Supermercati Orobici - Stezzano"); else unknown or ambiguous."""
    found = _by_words(registry, company_words(name), name, shown)
    parts = [p.strip() for p in _PARTS.split(name) if company_words(p)]
    if found.code is not None or len(parts) < 2:
        return found
    for i, part in enumerate(parts):
        piece = _by_words(registry, company_words(part), part, shown)
        others = parts[:i] + parts[i + 1 :]
        if piece.code is not None and all(_names_no_company(o, piece.code, registry) for o in others):
            why = piece.explanation.replace(f"«{shown}»", f"«{shown}» (la parte «{safe_value(part)[:60]}»)", 1)
            return CompanyMatch(piece.how, piece.confidence, why, code=piece.code)
    return found


def _names_no_company(part: str, code: str, registry: Registry) -> bool:
    """Whether a part beside a company is a place, a sigla or that company again, not another one."""
    from tasks.files.places import resolve_municipality

    words = company_words(part)
    if len(words) <= 1 or resolve_municipality(part).how not in ("unresolved", "empty"):
        return True
    return _by_words(registry, words, part, part).code == code


def _by_words(registry: Registry, words: tuple[str, ...], name: str, shown: str) -> CompanyMatch:
    """The company these words name, clearly ahead of the next one; else unknown or ambiguous."""
    if not words:
        return CompanyMatch("empty", 0, f"«{shown}» non contiene un nome di azienda")
    ranked = _ranked(registry, words)
    first = ranked[0] if ranked else None
    second = ranked[1] if len(ranked) > 1 else None
    if first is None or first.score < THRESHOLD:
        near = tuple(s.entry.code for s in ranked if s.score >= SUGGEST or _shares_a_name(words, s.entry))[:3]
        hint = f"; la più simile è {ranked[0].entry.name} ({ranked[0].score}%)" if near else ""
        return CompanyMatch("unknown", 0, f"«{shown}» non è tra le aziende associate{hint}", suggestions=near)
    decisive = first.how in _WORD_FOR_WORD and (second is None or second.how not in _WORD_FOR_WORD)
    if second is not None and first.score - second.score < MARGIN and not decisive:
        text = (
            f"«{shown}» somiglia tanto a {first.entry.name} ({first.score}%) quanto a "
            f"{second.entry.name} ({second.score}%)"
        )
        return CompanyMatch("ambiguous", 0, text, suggestions=(first.entry.code, second.entry.code))
    exact = first.how == "normalised" and " ".join(name.split()).casefold() == first.entry.name.casefold()
    how: How = "exact" if exact else first.how
    then = f"; poi {second.entry.name} al {second.score}%" if second is not None and second.score >= SUGGEST else ""
    text = f"«{shown}» è {first.entry.name} ({HOW_LABELS[how]}, {first.score}%{then})"
    return CompanyMatch(how, first.score, text, code=first.entry.code)


def resolve_company(name: object, vat: object = None, registry: Registry | None = None) -> CompanyMatch:
    """Read the company of a vacancy row (see the module docstring for the rules, in order)."""
    registry = registry or default_registry()
    if isinstance(name, float) and name.is_integer():
        name = int(name)  # a VAT typed into the company cell of a spreadsheet
    text = " ".join(str(name or "").split())
    shown = safe_value(text)[:80]
    if _CODE.fullmatch(text.upper()) and (entry := registry.by_code(text)) is not None:
        return CompanyMatch("code", 100, f"codice azienda {entry.code} ({entry.name})", code=entry.code)
    if _ONLY_VAT.fullmatch(text):
        inside, text = text, ""
    else:
        inside, text = _vat_in_name(text)
    digits, vat_note = normalize_vat(vat if vat not in (None, "") else inside or None)
    named = _by_name(registry, text, safe_value(text)[:80]) if company_words(text) else None
    if digits:
        return _with_vat(registry, digits, named, shown)
    note = f"; {vat_note}" if vat_note else ""
    if _CODE.fullmatch(text) and (named is None or named.code is None):
        return CompanyMatch("unknown", 0, f"codice azienda {shown} non registrato{note}")
    if named is None:
        why = f"«{shown}» non contiene un nome di azienda" if text else "azienda non indicata"
        return CompanyMatch("empty", 0, why + note)
    return CompanyMatch(named.how, named.confidence, named.explanation + note, named.code, named.vat, named.suggestions)


def _with_vat(registry: Registry, vat: str, named: CompanyMatch | None, shown: str) -> CompanyMatch:
    """A valid VAT: the registry's company unless the name clearly names another one."""
    entry = registry.by_vat(vat)
    if entry is not None:
        if named is not None and named.code is not None and named.code != entry.code:
            other = registry.by_code(named.code)
            text = f"la partita IVA {vat} è di {entry.name}, ma «{shown}» indica {other.name if other else named.code}"
            return CompanyMatch("conflict", 0, text, vat=vat, suggestions=(entry.code, named.code))
        return CompanyMatch("vat", 100, f"partita IVA {vat}: {entry.name}", code=entry.code, vat=vat)
    if named is None:
        return CompanyMatch("unknown", 0, f"partita IVA {vat} non tra le aziende associate", vat=vat)
    if named.code is None:
        return CompanyMatch(named.how, 0, named.explanation + f"; partita IVA {vat} non registrata", vat=vat,
                            suggestions=named.suggestions)  # fmt: skip
    known = registry.by_code(named.code)
    if known is not None and known.vat and known.vat != vat:
        text = f"«{shown}» somiglia a {known.name}, ma la sua partita IVA è {known.vat}, non {vat}"
        return CompanyMatch("conflict", 0, text, vat=vat, suggestions=(named.code,))
    text = named.explanation + f"; partita IVA {vat} non ancora in anagrafica"
    return CompanyMatch(named.how, named.confidence, text, code=named.code, vat=vat)
