"""Typed loader of ``config/phone_regions.yaml``: which phone region a row's citizenship, place of
birth and languages suggest (tasks/files/phones.py builds the lookup from it and CLDR)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.data import CONFIG_DIR, ConfigError, _read_yaml

PHONE_REGIONS_FILE: Path = CONFIG_DIR / "phone_regions.yaml"

Region = str  # ISO 3166 alpha-2, checked by the pattern below
_REGION = r"^[A-Z]{2}$"
_LANGUAGE = r"^[a-z]{2,3}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LanguageRules(_Strict):
    """Languages that point to no country, regions other than CLDR's likely one, extra names."""

    without_region: list[str] = Field(default_factory=list)
    region_of: dict[str, str] = Field(default_factory=dict)
    names: dict[str, list[str]] = Field(default_factory=dict)


class PhoneRegions(_Strict):
    """The whole file: locales for CLDR names, citizenship adjectives, other names, languages."""

    name_locales: list[str] = Field(min_length=1)
    demonyms: dict[str, list[str]]
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    languages: LanguageRules = Field(default_factory=LanguageRules)


def _check_codes(path: Path, rules: PhoneRegions) -> None:
    import re

    regions = [*rules.demonyms, *rules.aliases, *rules.languages.region_of.values()]
    bad = sorted({r for r in regions if not re.match(_REGION, r)})
    if bad:
        raise ConfigError(f"{path}: not ISO 3166 alpha-2 regions: {bad}")
    languages = [*rules.languages.without_region, *rules.languages.region_of, *rules.languages.names]
    bad = sorted({code for code in languages if not re.match(_LANGUAGE, code)})
    if bad:
        raise ConfigError(f"{path}: not ISO 639 language codes: {bad}")


def parse_phone_regions(path: Path) -> PhoneRegions:
    """Read and check one phone-regions file; a ConfigError names the file and the problem."""
    try:
        rules = PhoneRegions.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    _check_codes(path, rules)
    return rules


@lru_cache(maxsize=1)
def load_phone_regions() -> PhoneRegions:
    """The project's phone-region rules (read once per process)."""
    return parse_phone_regions(PHONE_REGIONS_FILE)
