"""Typed loader of ``config/places.yaml``: how partners write a comune, beyond the official list.

The official comuni (names, ISTAT codes, offices) are in ``offices.yaml``; this file's rules
(suffixes to strip, abbreviations, localities, places outside the province) are checked against
them on load, so a locality pointing at a misspelt comune, or a locality named like a comune,
fails loudly naming the file and the entry instead of mis-routing a person.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.data import CONFIG_DIR, ConfigError, Office, _read_yaml, load_offices, municipality_key

PLACES_FILE: Path = CONFIG_DIR / "places.yaml"

LocalityKind = Literal["località", "zona", "città", "quartiere", "frazione", "ex comune"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Province(_Strict):
    """The province served, and what written alone names the province rather than a comune."""

    code: str = Field(pattern=r"^[A-Z]{2}$")
    name: str = Field(min_length=1)
    alone: list[str] = Field(min_length=1)


class ShortForms(_Strict):
    """Which trailing qualifiers a short form may leave out ("Romano" for Romano di Lombardia)."""

    prepositions: list[str] = Field(min_length=1)
    saints: list[str] = Field(min_length=1)
    articles: list[str] = Field(default_factory=list)
    tails: list[str] = Field(default_factory=list)


class Locality(_Strict):
    """A place that is not a comune, with the official comuni it lies in (none: a wide zone)."""

    name: str = Field(min_length=1)
    kind: LocalityKind
    aliases: list[str] = Field(default_factory=list)
    comuni: list[str] = Field(default_factory=list)


class OutsidePlace(_Strict):
    """A well-known place outside the province, with its sigla."""

    name: str = Field(min_length=1)
    province: str = Field(pattern=r"^[A-Z]{2}$")
    aliases: list[str] = Field(default_factory=list)


class PlaceRules(_Strict):
    """Everything of places.yaml, validated."""

    version: str = Field(min_length=1)
    province: Province
    no_municipality: list[str] = Field(min_length=1)
    province_codes: list[str] = Field(min_length=1)
    former_provinces: dict[str, list[str]] = Field(default_factory=dict)
    country_words: list[str] = Field(default_factory=list)
    locality_markers: list[str] = Field(default_factory=list)
    short_forms: ShortForms
    abbreviations: dict[str, list[str]] = Field(default_factory=dict)
    localities: list[Locality] = Field(default_factory=list)
    out_of_province: list[OutsidePlace] = Field(default_factory=list)

    @field_validator("province_codes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """One string in the file (a YAML list would read NO as false), a list here."""
        return value.split() if isinstance(value, str) else value

    @field_validator("province_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        """Two capital letters each, no repeats: a typo would make a sigla unknown."""
        bad = [c for c in value if not re.fullmatch(r"[A-Z]{2}", c)]
        if bad:
            raise ValueError(f"province codes {bad} are not two capital letters")
        if len(set(value)) != len(value):
            raise ValueError("province codes contain duplicates")
        return value


def _cross_check(path: Path, rules: PlaceRules, offices: list[Office]) -> None:
    """Names point at official comuni; no place is named like a comune or like another place."""
    official = {m.name: m for o in offices for m in o.municipalities}
    owners: dict[str, str] = {municipality_key(name): f"comune {name!r}" for name in official}
    codes = set(rules.province_codes)
    if rules.province.code not in codes:
        raise ConfigError(f"{path}: province code {rules.province.code!r} missing from province_codes")

    def claim(name: str, owner: str) -> None:
        key = municipality_key(name)
        if key in owners and owners[key] != owner:
            raise ConfigError(f"{path}: {owner}: name {name!r} is already {owners[key]}")
        owners[key] = owner

    for name in rules.province.alone:
        claim(name, "the province alone")
    for loc in rules.localities:
        missing = [c for c in loc.comuni if c not in official]
        if missing:
            raise ConfigError(f"{path}: localities (name={loc.name!r}): not official comuni: {missing}")
        for name in [loc.name, *loc.aliases]:
            claim(name, f"locality {loc.name!r}")
    for place in rules.out_of_province:
        if place.province not in codes or place.province == rules.province.code:
            raise ConfigError(f"{path}: out_of_province (name={place.name!r}): province {place.province!r}")
        for name in [place.name, *place.aliases]:
            claim(name, f"place outside the province {place.name!r}")
    for name, former in rules.former_provinces.items():
        if name not in official or not set(former) <= codes:
            raise ConfigError(f"{path}: former_provinces ({name!r}): unknown comune or sigla {former}")
    # A trailing sigla is stripped as a province: no official name may end with one.
    lowered = {c.casefold() for c in codes}
    clash = [n for n in official if n.replace("'", " ").split()[-1].casefold() in lowered]
    if clash:
        raise ConfigError(f"{path}: comuni ending with a province sigla: {clash}")


def _parse_places(path: Path, offices: list[Office]) -> PlaceRules:
    data = _read_yaml(path)
    try:
        rules = PlaceRules.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    _cross_check(path, rules, offices)
    return rules


@lru_cache(maxsize=1)
def _default_places() -> PlaceRules:
    return _parse_places(PLACES_FILE, load_offices())


def load_places(path: Path | None = None) -> PlaceRules:
    """Place rules; the default file is parsed once per process, explicit paths every call."""
    return _default_places() if path is None else _parse_places(Path(path), load_offices())
