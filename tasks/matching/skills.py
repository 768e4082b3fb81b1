"""Free text to skill codes (config/skills.yaml): vacancy requirements, referral experiences,
an operator's entry in the intake form (docs/ARCHITECTURE.md#matching).

The text is cut where lists are cut (commas, semicolons, new lines, bullets) and read word by
word, accents, case and punctuation folded, articles and qualifiers ("uso", "conoscenza",
"corso") dropped. A run of words names an entry when it is one of the entry's labels or
synonyms, word for word; a word may differ by a typo or a plural ("carrelli elevatori",
"mulettto") when both it and the listed word are long enough to tell apart (short words such
as "B", "CE", "TIG", "ADR" must be exact: "patente C" is not "patente CE"). The longest run
wins, so "saldatura TIG" is TIG and not two things. Pure and deterministic; rapidfuzz is
imported with this module, which flows import when they code text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path

from rapidfuzz import fuzz, process

from config.data import CONFIG_DIR, ConfigError, _read_yaml, normalize_text
from config.skills import LANGUAGE_AREA, NOT_A_SKILL, SkillCatalogue, is_skill_code, load_skills

__all__ = [
    "FUZZY_MIN_LENGTH",
    "FUZZY_THRESHOLD",
    "SkillHit",
    "SkillMatcher",
    "code_requirements",
    "default_matcher",
    "form_problems",
    "intake_lists",
    "language_words",
    "profile_skill_codes",
    "skill_words",
    "suggested_skills",
]

#: Two words of at least this many letters may differ by a typo or an ending.
FUZZY_MIN_LENGTH = 5
#: rapidfuzz ``ratio`` (0-100) two such words must reach: "carrelli"/"carrello" 87.5,
#: "saldature"/"saldatura" 88.9, "saldatore"/"saldatura" 77.8 (a welder is not a weld).
FUZZY_THRESHOLD = 85.0
_MAX_RUN = 7  # no label or synonym is longer (words after folding)
_MAX_VARIANTS = 64  # word-variant combinations tried per run of words
_SEGMENTS = re.compile(r"[,;:\n\r•·|()\[\]]+|\s-\s|\s+\+\s+")


@dataclass(frozen=True, slots=True)
class SkillHit:
    """One entry found in a text: its code, how sure (100 = word for word) and the words read."""

    code: str
    score: float
    found: str


class SkillMatcher:
    """Reads text against one catalogue; build once (``default_matcher``) and reuse."""

    def __init__(self, catalogue: SkillCatalogue) -> None:
        self.catalogue = catalogue
        self._index = catalogue.by_words
        self._vocabulary = sorted({w for key in self._index for w in key if len(w) >= FUZZY_MIN_LENGTH})
        self._known_words = {w for key in self._index for w in key}
        self._variants = lru_cache(maxsize=20_000)(self._word_variants)

    def _word_variants(self, word: str) -> tuple[tuple[str, float], ...]:
        """The catalogue's words this word may stand for, with how alike (the word itself first)."""
        out: list[tuple[str, float]] = [(word, 100.0)] if word in self._known_words else []
        if len(word) >= FUZZY_MIN_LENGTH:
            for other, score, _ in process.extract(
                word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD, limit=4
            ):
                if other != word:
                    out.append((other, float(score)))
        return tuple(out)

    def _run_hit(self, run: Sequence[str]) -> tuple[str, float] | None:
        """The entry a run of words names, exactly or through word variants (best score)."""
        exact = self._index.get(tuple(run))
        if exact is not None:
            return exact, 100.0
        options = [self._variants(w) for w in run]
        if any(not o for o in options):
            return None
        best: tuple[str, float] | None = None
        for n, combo in enumerate(product(*options)):
            if n >= _MAX_VARIANTS:
                break
            code = self._index.get(tuple(w for w, _ in combo))
            if code is not None:
                score = min(s for _, s in combo)
                if best is None or score > best[1]:
                    best = (code, score)
        return best

    def _segment_hits(self, words: Sequence[str]) -> list[tuple[int, SkillHit]]:
        """Hits of one list item, longest runs first, never two on the same word; by position."""
        found: list[tuple[int, int, str, float]] = []  # (start, length, code, score)
        for length in range(min(_MAX_RUN, len(words)), 0, -1):
            for start in range(len(words) - length + 1):
                hit = self._run_hit(words[start : start + length])
                if hit is not None:
                    found.append((start, length, *hit))
        taken: set[int] = set()
        chosen: list[tuple[int, SkillHit]] = []
        for start, length, code, score in sorted(found, key=lambda f: (-f[1], -f[3], f[0])):
            span = set(range(start, start + length))
            if span & taken:
                continue
            taken |= span
            chosen.append((start, SkillHit(code, round(score, 1), " ".join(words[start : start + length]))))
        return sorted(chosen, key=lambda c: c[0])

    def find(self, text: str) -> list[SkillHit]:
        """Every entry named in ``text``, in reading order, each once (its best hit)."""
        best: dict[str, SkillHit] = {}
        for segment in _SEGMENTS.split(text or ""):
            words = self.catalogue.words(segment)
            for _, hit in self._segment_hits(words):
                if hit.code == NOT_A_SKILL:
                    continue  # a phrase such as "chiave inglese": its words name nothing
                if hit.code not in best or hit.score > best[hit.code].score:
                    best[hit.code] = hit
        return list(best.values())

    def codes(self, text: str) -> list[str]:
        """The codes named in ``text``, in reading order, without repeats."""
        return [h.code for h in self.find(text)]

    def resolve(self, entry: str) -> str | None:
        """The code an operator's entry stands for: a known code as is, else the one entry its
        words name (None when they name none or several)."""
        text = entry.strip()
        if text in self.catalogue.by_code:
            return text
        if is_skill_code(text):
            text = text.split(".", 1)[1].replace("-", " ")  # "cert.muletto": read the name part
        codes = self.codes(text)
        return codes[0] if len(codes) == 1 else None

    def suggest(self, entry: str, limit: int = 3) -> list[str]:
        """Codes whose labels look most like ``entry``: for a message asking to correct it."""
        text = entry.split(".", 1)[1].replace("-", " ") if is_skill_code(entry.strip()) else entry
        folded = " ".join(self.catalogue.words(text))
        if not folded:
            return []
        terms = {" ".join(key): code for key, code in self._index.items() if code != NOT_A_SKILL}
        out: list[str] = []
        for term, _score, _ in process.extract(folded, list(terms), scorer=fuzz.WRatio, limit=limit * 4):
            code = terms[term]
            if code not in out:
                out.append(code)
        return out[:limit]


@lru_cache(maxsize=1)
def default_matcher() -> SkillMatcher:
    """The matcher over config/skills.yaml, built once per process."""
    return SkillMatcher(load_skills())


def code_requirements(items: Iterable[str], matcher: SkillMatcher | None = None) -> list[str]:
    """Codes of a vacancy's requirement texts (or any list of texts), in order, without repeats."""
    m = matcher or default_matcher()
    out: dict[str, None] = {}
    for item in items:
        for code in m.codes(item):
            out.setdefault(code, None)
    return list(out)


# --- the intake form: what to propose, what to refuse ------------------------------------------


def suggested_skills(texts: Iterable[str | None], matcher: SkillMatcher | None = None) -> tuple[list[str], list[str]]:
    """From what a referrer wrote (experiences, licences, languages): the skill codes and the
    languages (ISO 639-1 codes) to propose in the intake form, for the operator to confirm."""
    m = matcher or default_matcher()
    skills: dict[str, None] = {}
    languages: dict[str, None] = {}
    for text in texts:
        for code in m.codes(text or ""):
            area, name = code.split(".", 1)
            if area == LANGUAGE_AREA:
                languages.setdefault(name, None)
            else:
                skills.setdefault(code, None)
    return list(skills), list(languages)


def profile_skill_codes(skills: Iterable[str], languages: Iterable[str], catalogue: SkillCatalogue) -> list[str]:
    """What a profile stores: the form's skill codes, then its languages as lingua.<code>; only
    codes of the list (the form check has refused the others), each once."""
    wanted = [*skills, *(f"{LANGUAGE_AREA}.{lang}" for lang in languages)]
    return [code for code in dict.fromkeys(wanted) if code in catalogue.by_code]


def form_problems(skills: Sequence[str], languages: Sequence[str], matcher: SkillMatcher | None = None) -> list[str]:
    """Italian messages for codes of one form row that are not in the list, with what was
    probably meant (by the words of the code: "abilitazioni.muletto" points at the forklift)."""
    m = matcher or default_matcher()
    catalogue = m.catalogue
    problems: list[str] = []
    for code in skills:
        if code in catalogue.by_code:
            continue
        if code.startswith(f"{LANGUAGE_AREA}."):
            problems.append(f"«{code}»: le lingue vanno nel campo delle lingue parlate, con il codice di due lettere")
            continue
        guess = m.resolve(code)
        options = [guess] if guess else m.suggest(code)
        hint = "; ".join(f"{c} ({catalogue.label(c)})" for c in options)
        problems.append(f"competenza «{code}» non presente nell'elenco" + (f": forse {hint}" if hint else ""))
    known = catalogue.languages()
    for lang in languages:
        if lang == "it":
            problems.append("l'italiano non va tra le lingue parlate: si indica con i livelli QCER")
        elif lang not in known:
            problems.append(
                f"lingua «{lang}» non presente nell'elenco: codici ammessi "
                + ", ".join(f"{k} ({s.it.lower()})" for k, s in sorted(known.items()))
            )
    return problems


# --- the intake form's lists: shown by their Italian words, stored by their codes --------------------

#: The intake form's words for each language of config/skills.yaml (tasks/matching/skills.py:
#: language_words); one file of data, so operators' wording changes without a release.
LANGUAGES_FILE: Path = CONFIG_DIR / "languages.yaml"
#: How every entry of LANGUAGES_FILE starts: words an operator says, never a bare name ("Russo",
#: "Greco", "Inglese", "Tedesco" are also surnames, and Prefect stores the form's schema).
LANGUAGE_PREFIX = "lingua "


def _folded(words: str) -> str:
    """As the form's choice list compares words (models/form_choices.py): case and spacing folded."""
    return " ".join(words.replace("_", " ").split()).casefold()


def _alphabetical(words: dict[str, str]) -> dict[str, str]:
    """Code → words in the order the drop-down lists them: by the words, accents folded."""
    return dict(sorted(words.items(), key=lambda item: (normalize_text(item[1]), item[0])))


def skill_words(catalogue: SkillCatalogue | None = None) -> dict[str, str]:
    """Code → the intake form's words for every entry of config/skills.yaml but the languages
    (they have their own field): its Italian label, with its area's name after it where two
    labels would read the same to the form (case and spacing folded); alphabetical."""
    cat = catalogue or load_skills()
    entries = [s for s in cat.skills if s.area != LANGUAGE_AREA]
    alike = Counter(_folded(s.it) for s in entries)
    words = {s.code: s.it if alike[_folded(s.it)] == 1 else f"{s.it} ({cat.areas[s.area].lower()})" for s in entries}
    told = Counter(_folded(w) for w in words.values())
    same = sorted(code for code, w in words.items() if told[_folded(w)] > 1)
    if same:
        raise ConfigError(f"config/skills.yaml: the intake form would show {', '.join(same)} with the same words")
    return _alphabetical(words)


def _parse_language_words(path: Path, catalogue: SkillCatalogue) -> dict[str, str]:
    data = _read_yaml(path)
    entries = data.get("languages")
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{path}: 'languages' must map ISO 639-1 codes to the form's words")
    words = {str(code): str(text).strip() for code, text in entries.items()}
    known = set(catalogue.languages())
    missing, extra = sorted(known - set(words)), sorted(set(words) - known)
    if missing or extra:
        raise ConfigError(
            f"{path}: the languages must be those of config/skills.yaml (lingua.<code>): "
            f"missing {missing or 'none'}, not in skills.yaml {extra or 'none'}"
        )
    for code, text in words.items():
        if not text.startswith(LANGUAGE_PREFIX) or text != text.lower() or len(text) <= len(LANGUAGE_PREFIX):
            raise ConfigError(f"{path}: {code}: {text!r} must read {LANGUAGE_PREFIX!r}… in lower case, not a bare name")
    told = Counter(_folded(w) for w in words.values())
    same = sorted(code for code, w in words.items() if told[_folded(w)] > 1)
    if same:
        raise ConfigError(f"{path}: {', '.join(same)} have the same words")
    return _alphabetical(words)


@lru_cache(maxsize=1)
def _default_language_words() -> dict[str, str]:
    return _parse_language_words(LANGUAGES_FILE, load_skills())


def language_words(path: Path | None = None, catalogue: SkillCatalogue | None = None) -> dict[str, str]:
    """ISO 639-1 code → the intake form's words ("lingua russa") for each language a referred
    person may speak besides Italian (config/languages.yaml, exactly the languages of
    config/skills.yaml); alphabetical. The default file is read once per process."""
    if path is None and catalogue is None:
        return dict(_default_language_words())
    return _parse_language_words(path or LANGUAGES_FILE, catalogue or load_skills())


def intake_lists() -> dict[str, dict[str, str]]:
    """The intake form's closed lists, field → (code → words): models/forms.py IntakeForm.listing."""
    return {"skills": skill_words(), "languages": language_words()}
