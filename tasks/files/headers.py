"""Partner column headers to canonical fields, over the aliases of ``config/columns.yaml``.

Partners write the same column many ways ("Città", "Town of residence", "Comune residenza/
domicilio", "DataNascita", "Cod. Fisc.", "Telfono"); the matcher meets them in this order, each
step only when the one before found nothing:

1. the header as an alias (case, accents, punctuation and spacing folded: :func:`fold_header`);
2. without hints in brackets ("Data nascita (gg/mm/aaaa)") and without spaces ("DataNascita");
3. by words: the header names a field when it holds every word of one of the field's aliases
   and each of its other words belongs to that field's aliases or is a qualifier of any field
   ("principale", "attuale", a digit). Stopwords are dropped; plurals and final vowels folded
   ("Esperienza"/"Esperienze"); a word with a dot is expanded when one field's word starts with
   it ("Fisc." → fiscale); a word of five letters or more is corrected to the known word it is
   a typo of (rapidfuzz, with a margin over the runner-up).

Guards against false matches: a word that belongs to no alias of the field stops the match
("Nome ente", "Telefono referente"), a header holding two fields' aliases is ambiguous unless
one field's alias contains the other's ("Consenso invio profilo Confindustria" is the
Confindustria consent, "Cognome e nome" is nothing), and a lone word that is only part of an
alias ("Data") names nothing. Pure functions, cached; no file or database access after the YAML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from config.settings import PROJECT_ROOT

COLUMNS_FILE = PROJECT_ROOT / "config" / "columns.yaml"
#: A field's second column ("Telefono" twice: the first is ``phone``, the second ``phone_secondary``).
SECONDARY = "_secondary"
#: Typo correction: a word this similar (rapidfuzz ratio, 0-100) to a single known word is it.
TYPO_SCORE = 88
TYPO_MARGIN = 4
TYPO_MIN_LENGTH = 5

_HINT = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_WORD = re.compile(r"[^\W_]+\.?")
_EMAIL = re.compile(r"\be\s*-?\s*mail\b")
_NOT_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")


def fold_header(text: Any) -> str:
    """Header comparison key: accents, case, punctuation and spacing do not matter."""
    text = str(text)
    if text.isascii():  # the same key without the Unicode passes (the importer folds a cell per row)
        return " ".join(_NOT_ALNUM_ASCII.sub(" ", text.lower()).split())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = "".join(c if c.isalnum() else " " for c in text)
    return " ".join(text.split())


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _words(text: str) -> list[tuple[str, bool]]:
    """The words of a header without bracketed hints, each with whether a dot abbreviated it."""
    plain = _EMAIL.sub("email", _HINT.sub(" ", _plain(text)))
    return [(w[:-1], True) if w.endswith(".") else (w, False) for w in _WORD.findall(plain)]


def stem(word: str) -> str:
    """Fold Italian and English plurals and final vowels ("esperienze" = "esperienza")."""
    if len(word) >= TYPO_MIN_LENGTH and word.isascii():
        if word.endswith("s"):
            word = word[:-1]
        if word[-1] in "aeiou":
            word = word[:-1]
    return word


@dataclass(frozen=True)
class Vocabulary:
    """What the matcher knows about one kind of file (built once from config/columns.yaml)."""

    exact: dict[str, str]  # folded alias -> field
    compact: dict[str, str]  # folded alias without spaces -> field (only when one field has it)
    alias_words: dict[str, tuple[frozenset[str], ...]]  # field -> the word sets of its aliases
    field_words: dict[str, frozenset[str]]  # field -> every word of its aliases
    qualifiers: frozenset[str]
    stopwords: frozenset[str]
    known: tuple[str, ...]  # every word a header may use (for typos and abbreviations)
    owners: dict[str, frozenset[str]]  # word -> the fields whose aliases use it


@lru_cache(maxsize=1)
def _config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COLUMNS_FILE.read_text(encoding="utf-8"))
    return data


def kinds() -> dict[str, dict[str, list[str]]]:
    """Every kind of file with its fields and their aliases (keys starting with "_" are settings)."""
    return {kind: spec for kind, spec in _config().items() if not kind.startswith("_")}


def field_label(kind: str, field: str) -> str:
    """The Italian name of a field, as partners read it in messages ("Cognome", "Partita IVA"):
    ``_labels`` in config/columns.yaml, else the first alias; never the internal field name."""
    field = field.removesuffix(SECONDARY)
    label = _config().get("_labels", {}).get(field)
    if label:
        return str(label)
    aliases = kinds().get(kind, {}).get(field) or [field.replace("_", " ")]
    text = str(aliases[0])
    return text[:1].upper() + text[1:]


def _content(words: list[tuple[str, bool]], stopwords: frozenset[str]) -> frozenset[str]:
    return frozenset(stem(w) for w, _ in words if w not in stopwords and not w.isdigit())


@lru_cache(maxsize=16)
def vocabulary(kind: str) -> Vocabulary:
    """The matcher's view of one kind of file."""
    general = _config().get("_header_words", {})
    stopwords = frozenset(_plain(str(w)) for w in general.get("stopwords", []))
    qualifiers = frozenset(stem(_plain(str(w))) for w in general.get("qualifiers", []))
    spec = kinds()[kind]
    exact = {fold_header(a): field for field, aliases in spec.items() for a in [field, *aliases]}
    compact_fields: dict[str, set[str]] = {}
    for key, field in exact.items():
        compact_fields.setdefault(key.replace(" ", ""), set()).add(field)
    compact = {k: next(iter(v)) for k, v in compact_fields.items() if len(v) == 1}
    alias_words: dict[str, tuple[frozenset[str], ...]] = {}
    for field, aliases in spec.items():
        sets = {_content(_words(str(a)), stopwords) for a in [field.replace("_", " "), *aliases]}
        alias_words[field] = tuple(s for s in sets if s)
    field_words = {f: frozenset().union(*sets) for f, sets in alias_words.items()}
    owners: dict[str, set[str]] = {}
    for field, words in field_words.items():
        for word in words:
            owners.setdefault(word, set()).add(field)
    return Vocabulary(
        exact=exact,
        compact=compact,
        alias_words=alias_words,
        field_words=field_words,
        qualifiers=qualifiers,
        stopwords=stopwords,
        known=tuple(sorted(set(owners) | qualifiers)),
        owners={w: frozenset(f) for w, f in owners.items()},
    )


def _known_word(word: str, abbreviated: bool, voc: Vocabulary) -> str | None:
    """The known word ``word`` stands for: itself, the word an abbreviation starts, or the word
    it is a typo of; None when it is none of these (or could be several)."""
    stemmed = stem(word)
    if stemmed in voc.owners or stemmed in voc.qualifiers:
        return stemmed
    if abbreviated and len(word) >= 2:
        starts = [k for k in voc.known if k.startswith(word)]
        if starts and len({voc.owners.get(k, frozenset()) for k in starts}) == 1:
            return starts[0]
        return None
    if len(stemmed) < TYPO_MIN_LENGTH:
        return None
    from rapidfuzz import fuzz, process  # lazily: only headers that are not aliases get here

    found = process.extract(stemmed, voc.known, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE, limit=2)
    if not found:
        return None
    best = found[0]
    if len(found) > 1 and best[1] - found[1][1] < TYPO_MARGIN:
        return None
    return str(best[0])


def _by_words(words: frozenset[str], voc: Vocabulary) -> str | None:
    """The one field whose aliases explain every word (see the module docstring), or None."""
    candidates: list[tuple[str, frozenset[str]]] = []
    for field, sets in voc.alias_words.items():
        covered = [s for s in sets if s <= words]
        if covered and all(w in voc.field_words[field] or w in voc.qualifiers for w in words):
            candidates.append((field, max(covered, key=len)))
    if not candidates:
        return None
    candidates.sort(key=lambda c: -len(c[1]))
    field, best = candidates[0]
    if all(other < best for _, other in candidates[1:]):
        return field
    return None


def match_header(kind: str, text: Any) -> str | None:
    """The canonical field a header cell names in files of ``kind``, or None (a cell that is
    not text names nothing)."""
    return _match(kind, text) if isinstance(text, str) else None


@lru_cache(maxsize=8192)
def _match(kind: str, raw: str) -> str | None:
    key = fold_header(raw)
    if not key or len(key) > 120:
        return None
    voc = vocabulary(kind)
    if key in voc.exact:
        return voc.exact[key]
    words = _words(raw)
    bare = " ".join(w for w, _ in words)
    if bare in voc.exact:
        return voc.exact[bare]
    if (squeezed := bare.replace(" ", "")) in voc.compact:
        return voc.compact[squeezed]
    content: set[str] = set()
    for word, abbreviated in words:
        if word in voc.stopwords or word.isdigit():
            continue
        known = _known_word(word, abbreviated, voc)
        if known is None:
            return None
        content.add(known)
    return _by_words(frozenset(content), voc) if content else None


#: Words of a line that explains the header instead of holding data ("gg/mm/aaaa", "SI/NO", "X").
_HINT_WORDS = frozenset({"gg", "mm", "aa", "aaaa", "dd", "yy", "yyyy", "si", "no", "yes", "x", "testo", "text"})
_MARKERS = frozenset(
    {"obbligatorio", "obbligatoria", "facoltativo", "facoltativa", "opzionale", "required", "optional", "testo", "text"}
)
_DATE_FORMAT = re.compile(r"\b(gg|dd)\s*[/.-]\s*mm\s*[/.-]\s*(aaaa|aa|yyyy|yy)\b", re.IGNORECASE)
_EXAMPLE = re.compile(r"\s*(es\.|esempio|example|e\.g\.|ad es)", re.IGNORECASE)


def is_hint_row(kind: str, cells: Any) -> bool:
    """A line under the header of a template that explains the columns ("obbligatorio",
    "gg/mm/aaaa", "SI/NO") or shows an example ("Es. Rossi"): not a person to import."""
    texts = [c for c in cells if c is not None and (not isinstance(c, str) or c.strip())]
    if not texts or not all(isinstance(c, str) for c in texts):
        return False
    if _EXAMPLE.match(texts[0]):
        return True
    voc = vocabulary(kind)
    words = [w for text in texts for w, _ in _words(text)]
    # Data can look like hints ("X", "0", "si"): a template's line says what it is explaining.
    explains = any(w in _MARKERS for w in words) or any(_DATE_FORMAT.search(t) for t in texts)
    return explains and all(
        w in voc.stopwords or w in _HINT_WORDS or w.isdigit() or stem(w) in voc.qualifiers for w in words
    )


def map_cells(kind: str, cells: Any) -> dict[int, str]:
    """Column index -> field for the cells of one row that name a field."""
    out: dict[int, str] = {}
    for col, cell in enumerate(cells):
        if isinstance(cell, str) and (field := match_header(kind, cell)):
            out[col] = field
    return out


def header_words(kind: str, headers: Mapping[int, str] | list[str]) -> frozenset[str]:
    """Folded texts that may start a repeated header line: the aliases and the headers as written."""
    values = headers.values() if isinstance(headers, Mapping) else headers
    return frozenset(vocabulary(kind).exact) | {fold_header(h) for h in values if h}


def missing_columns_message(
    name: str, kind: str, required: Sequence[str], found: tuple[int, Collection[str]] | None, *, scanned: int
) -> str:
    """The Italian reason a file has no usable header: each required column its best header row
    (``found``: its number, 0 for JSON, and the fields it names) lacks; or that no row among the
    first ``scanned`` looks like a header."""
    hint = " Se cognome e nome sono nella stessa colonna, separarli in due colonne." if kind == "referral" else ""
    if found is None:
        labels = ", ".join(field_label(kind, f) for f in required)
        return (
            f"{name}: riga di intestazione non trovata nelle prime {scanned} righe; "
            f"servono almeno le colonne {labels}.{hint}"
        )
    row, named = found
    where = f"nella riga di intestazione {row}" if row else "negli oggetti JSON"
    parts = [f"manca la colonna obbligatoria «{field_label(kind, f)}» {where}" for f in required if f not in named]
    return f"{name}: {'; '.join(parts)}.{hint}"
