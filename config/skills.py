"""Typed loader of ``config/skills.yaml``: the skills, certificates, licences and languages that
intake forms, vacancy requirements and matching share (tasks/matching/skills.py reads text
against it).

Every label and synonym is reduced to the words the matcher compares (accents, case and
punctuation folded; articles, prepositions and qualifiers such as "patentino" or "uso" dropped),
and the loader refuses a file where those words name two entries, an entry whose words are all
dropped, an unknown area or an ``implies`` pointing nowhere: a typo fails loudly, naming the file
and the entry, instead of coding a person's competences wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from config.data import CONFIG_DIR, ConfigError, _read_yaml, normalize_text

SKILLS_FILE: Path = CONFIG_DIR / "skills.yaml"
#: "<area>.<name>": lowercase words joined by dashes after the area (cert.haccp, lingua.en).
SKILL_CODE = r"^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$"
LANGUAGE_AREA = "lingua"
#: What ``by_words`` maps the words of a ``not_skills`` phrase to: they name nothing.
NOT_A_SKILL = ""
_SKILL_CODE_RE = re.compile(SKILL_CODE)
_NOT_WORD = re.compile(r"[\W_]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Skill(_Strict):
    """One entry: stable code, labels in three languages, how people write it, what it covers."""

    code: str = Field(pattern=SKILL_CODE)
    it: str = Field(min_length=1)
    en: str = Field(min_length=1)
    uk: str = Field(min_length=1)
    synonyms: list[str] = Field(default_factory=list)
    implies: list[str] = Field(default_factory=list)

    @property
    def area(self) -> str:
        return self.code.split(".", 1)[0]

    def terms(self) -> list[str]:
        """Everything that names this entry: the three labels, then the synonyms."""
        return [self.it, self.en, self.uk, *self.synonyms]


def words(text: str, dropped: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The words the matcher compares: accents, case and punctuation folded, ``dropped`` removed.

    "Patentino del MULETTO", "patentino muletto" and "patentino-muletto" give the same words;
    Cyrillic stays Cyrillic (folded the same way on both sides).
    """
    return tuple(w for w in _NOT_WORD.sub(" ", normalize_text(text)).split() if w not in dropped)


class SkillCatalogue(_Strict):
    """Everything of skills.yaml, validated, with lookups by code and by words."""

    version: str = Field(min_length=1)
    areas: dict[str, str] = Field(min_length=1)
    stopwords: dict[Literal["it", "en", "uk"], list[str]]
    fillers: list[str] = Field(default_factory=list)
    not_skills: list[str] = Field(default_factory=list)
    skills: list[Skill] = Field(min_length=1)

    @field_validator("fillers", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """One string in the file (a YAML list would read "on" as true), a list here."""
        return value.split() if isinstance(value, str) else value

    @field_validator("stopwords", mode="before")
    @classmethod
    def _split_each(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: v.split() if isinstance(v, str) else v for k, v in value.items()}
        return value

    _by_code: dict[str, Skill] = PrivateAttr(default_factory=dict)
    _by_words: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)
    _dropped: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _consistent(self) -> SkillCatalogue:
        """Unique codes, known areas and implications, language codes that are ISO 639-1."""
        seen: set[str] = set()
        for s in self.skills:
            if s.code in seen:
                raise ValueError(f"skills (code={s.code!r}): code repeated")
            seen.add(s.code)
            if s.area not in self.areas:
                raise ValueError(f"skills (code={s.code!r}): area {s.area!r} is not among areas")
            if s.area == LANGUAGE_AREA and not re.fullmatch(r"[a-z]{2}", s.code.split(".", 1)[1]):
                raise ValueError(f"skills (code={s.code!r}): a language is lingua.<ISO 639-1 code>")
        for s in self.skills:
            bad = [c for c in s.implies if c not in seen or c == s.code]
            if bad:
                raise ValueError(f"skills (code={s.code!r}): implies unknown or itself: {bad}")
        return self

    def model_post_init(self, context: object, /) -> None:
        self._dropped = frozenset(
            w for text in [*(x for ws in self.stopwords.values() for x in ws), *self.fillers] for w in words(text)
        )
        self._by_code = {s.code: s for s in self.skills}

    @property
    def dropped(self) -> frozenset[str]:
        """Stopwords and fillers, folded: the words the matcher ignores."""
        return self._dropped

    @property
    def by_code(self) -> dict[str, Skill]:
        return self._by_code

    @property
    def by_words(self) -> dict[tuple[str, ...], str]:
        """Folded words of every label and synonym → the code they name (one each); the words of
        a ``not_skills`` phrase → NOT_A_SKILL."""
        return self._by_words

    def words(self, text: str) -> tuple[str, ...]:
        """``words(text)`` without this catalogue's stopwords and fillers."""
        return words(text, self._dropped)

    def label(self, code: str) -> str:
        """The Italian label of ``code`` (the code itself when unknown: never an empty cell)."""
        skill = self._by_code.get(code)
        return skill.it if skill else code

    def labels(self, codes: Iterable[str]) -> list[str]:
        return [self.label(c) for c in codes]

    def languages(self) -> dict[str, Skill]:
        """ISO 639-1 code → the language entry (lingua.en → "en")."""
        return {s.code.split(".", 1)[1]: s for s in self.skills if s.area == LANGUAGE_AREA}

    def with_implied(self, codes: Iterable[str]) -> list[str]:
        """``codes`` plus everything they imply, transitively (patente CE → C, C1, B), in order."""
        out: dict[str, None] = {}
        todo = list(codes)
        while todo:
            code = todo.pop(0)
            if code in out:
                continue
            out[code] = None
            skill = self._by_code.get(code)
            if skill:
                todo.extend(skill.implies)
        return list(out)


def _index(path: Path, catalogue: SkillCatalogue) -> None:
    """Fill ``by_words``; refuse a term whose words are all dropped or already name another entry."""
    index: dict[tuple[str, ...], str] = {}
    entries = [(NOT_A_SKILL, catalogue.not_skills), *((s.code, s.terms()) for s in catalogue.skills)]
    for code, terms in entries:
        for term in terms:
            key = catalogue.words(term)
            where = f"skills (code={code!r})" if code else "not_skills"
            if not key:
                raise ConfigError(f"{path}: {where}: {term!r} has only stopwords or fillers")
            other = index.setdefault(key, code)
            if other != code:
                raise ConfigError(
                    f"{path}: {where}: {term!r} reads as {' '.join(key)!r}, already {other or 'not_skills'!r}"
                )
    catalogue._by_words = index


def _parse_skills(path: Path) -> SkillCatalogue:
    data = _read_yaml(path)
    try:
        catalogue = SkillCatalogue.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    _index(path, catalogue)
    return catalogue


@lru_cache(maxsize=1)
def _default_skills() -> SkillCatalogue:
    return _parse_skills(SKILLS_FILE)


def load_skills(path: Path | None = None) -> SkillCatalogue:
    """The skills catalogue; the default file is parsed once per process, explicit paths every call."""
    return _default_skills() if path is None else _parse_skills(Path(path))


def is_skill_code(value: str) -> bool:
    """True when ``value`` has the shape of a skill code (whether or not the catalogue has it)."""
    return bool(_SKILL_CODE_RE.fullmatch(value))
