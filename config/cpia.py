"""Typed loader of ``config/cpia.yaml``: the CPIA sites and the area each one serves.

A person learns Italian at the site near home, not at the first CPIA in a list: the site is
chosen from the comune of residence, then the CPI area (:meth:`CpiaSites.site_for`). The file is
checked against ``offices.yaml`` and ``organisations.yaml`` on load, so a misspelt comune, an
office served twice or a site without its organisation fails loudly naming the file and the
entry, instead of sending a person to a course two valleys away.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.data import (
    _PHONE_RE,
    CONFIG_DIR,
    ConfigError,
    Office,
    Organisation,
    _read_yaml,
    load_offices,
    load_organisations,
    municipality_key,
)
from models.enums import OrgKind

CPIA_FILE: Path = CONFIG_DIR / "cpia.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CpiaSite(_Strict):
    """One site of the CPIA: its organisation code, where it is, and the area it serves."""

    code: str = Field(pattern=r"^CPIA-[A-Z]+$")
    site: str = Field(min_length=1, description="the site as people say it: town (area)")
    address: str = Field(min_length=1)
    phone: str
    offices: list[str] = Field(default_factory=list, description="CPI areas served whole")
    comuni: list[str] = Field(default_factory=list, description="comuni served, before the CPI rule")

    @field_validator("phone")
    @classmethod
    def _italian_phone(cls, value: str) -> str:
        """International format, as the offices' phones: the request prints it as is."""
        if not _PHONE_RE.match(value):
            raise ValueError(f"phone {value!r} must look like '+39 035 ...'")
        return value


class CpiaFile(_Strict):
    version: str = Field(min_length=1)
    sites: list[CpiaSite] = Field(min_length=1)


@dataclass(frozen=True)
class CpiaSites:
    """The sites, with the two indexes routing needs (comune key → site, office → site)."""

    version: str
    sites: tuple[CpiaSite, ...]
    by_comune: dict[str, CpiaSite]
    by_office: dict[str, CpiaSite]
    office_of_comune: dict[str, str]

    def site(self, code: str) -> CpiaSite | None:
        """A site by its organisation code."""
        return next((s for s in self.sites if s.code == code), None)

    def site_for(self, comune: str | None, office_code: str | None) -> CpiaSite | None:
        """The site serving a person living in ``comune`` followed by ``office_code``: the site
        listing the comune, else the one serving the comune's CPI area, else the one serving the
        case's CPI; None when none does (the coordinators choose: never a default site)."""
        key = municipality_key(comune) if comune and comune.strip() else ""
        if key in self.by_comune:
            return self.by_comune[key]
        home_office = self.office_of_comune.get(key)
        if home_office in self.by_office:
            return self.by_office[home_office]
        return self.by_office.get(office_code or "")


def _index(path: Path, parsed: CpiaFile, offices: list[Office], orgs: list[Organisation]) -> CpiaSites:
    """Cross-check against the offices and organisations, then build the routing indexes."""
    cpia_orgs = {o.code for o in orgs if o.kind is OrgKind.CPIA}
    official = {municipality_key(m.name): m.name for o in offices for m in o.municipalities}
    office_codes = {o.code for o in offices}
    by_comune: dict[str, CpiaSite] = {}
    by_office: dict[str, CpiaSite] = {}
    for index, site in enumerate(parsed.sites):
        where = f"{path}: sites[{index}] (code={site.code!r})"
        if site.code not in cpia_orgs:
            raise ConfigError(f"{where}: no organisation of kind cpia with this code in organisations.yaml")
        if not site.offices and not site.comuni:
            raise ConfigError(f"{where}: serves no area (list 'offices' or 'comuni')")
        for office in site.offices:
            if office not in office_codes:
                raise ConfigError(f"{where}: unknown CPI office {office!r} (offices.yaml)")
            if office in by_office:
                raise ConfigError(f"{where}: office {office!r} is already served by {by_office[office].code}")
            by_office[office] = site
        for name in site.comuni:
            key = municipality_key(name)
            if official.get(key) != name:
                hint = f" (official name: {official[key]!r})" if key in official else ""
                raise ConfigError(f"{where}: {name!r} is not an official comune of offices.yaml{hint}")
            if key in by_comune and by_comune[key].code != site.code:
                raise ConfigError(f"{where}: comune {name!r} is already served by {by_comune[key].code}")
            by_comune[key] = site
    seen = [s.code for s in parsed.sites]
    twice = sorted({c for c in seen if seen.count(c) > 1})
    if twice:
        raise ConfigError(f"{path}: sites listed twice: {twice}")
    return CpiaSites(
        version=parsed.version,
        sites=tuple(parsed.sites),
        by_comune=by_comune,
        by_office=by_office,
        office_of_comune={municipality_key(m.name): o.code for o in offices for m in o.municipalities},
    )


def _parse(path: Path) -> CpiaSites:
    data = _read_yaml(path)
    try:
        parsed = CpiaFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return _index(path, parsed, load_offices(), load_organisations())


@lru_cache(maxsize=1)
def _default() -> CpiaSites:
    return _parse(CPIA_FILE)


def load_cpia_sites(path: Path | None = None) -> CpiaSites:
    """The CPIA sites; the default file is parsed once per process, explicit paths every call."""
    return _default() if path is None else _parse(Path(path))
