"""Typed loaders for the YAML seed data in ``config/``.

The workflow reads occupations, CPI offices, partner organisations and routing
rules from plain YAML so that operators can review them without touching code.
Everything is validated with pydantic on load, so a typo in a seed file fails
loudly (naming the file and the entry) instead of silently mis-routing a person.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from config.hours import WEEKDAYS, Closure, OpeningHours, minutes
from models.enums import OrgKind

CONFIG_DIR: Path = Path(__file__).resolve().parent
OCCUPATIONS_FILE: Path = CONFIG_DIR / "occupations.yaml"
OFFICES_FILE: Path = CONFIG_DIR / "offices.yaml"
ORGANISATIONS_FILE: Path = CONFIG_DIR / "organisations.yaml"
ROUTING_FILE: Path = CONFIG_DIR / "routing.yaml"


def checked_email(value: str) -> str:
    """A syntactically valid address (no DNS lookup): real offices and partners in production.

    The bundled seed files use reserved ``.example`` domains only, so the demo and the tests can
    never mail a real office; tests/unit/test_config_data.py holds them to that.
    """
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"e-mail {value!r} is not a valid address: {exc}") from None
    return value


_PHONE_RE = re.compile(r"^\+39 [0-9][0-9 ]{5,14}[0-9]$")
#: An organisation or office code: uppercase words joined by dashes (CARITAS-BG, COMP-GOMMA-ISOLA).
ORG_CODE = r"^[A-Z0-9]+(-[A-Z0-9]+)*$"
_ORG_CODE_RE = re.compile(ORG_CODE)
_SEPARATORS_RE = re.compile(r"[\s\-'’`´‘.]+")

CEFRLevel = Literal["A1", "A2", "B1", "B2", "C1", "C2"]
CEFR_ORDER: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1", "C2")


Email = Annotated[str, AfterValidator(checked_email)]


class ConfigError(ValueError):
    """Raised when a seed file is missing or invalid; the message names file and entry."""


def normalize_text(value: str) -> str:
    """Fold case and accents and collapse spaces, so "Almè " and "ALME" compare equal."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def municipality_key(name: str) -> str:
    """Lookup key for comuni: like normalize_text, but drops "-", apostrophes and spaces.

    Users type "Sant Omobono", "Sant'Omobono" or "Sant’Omobono": all must match.
    """
    return _SEPARATORS_RE.sub("", normalize_text(name))


class _Strict(BaseModel):
    """Base for seed models: unknown keys are typos, so they are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --------------------------------------------------------------------------- occupations


class Synonyms(_Strict):
    """Free-text terms people type in referral forms and CVs, per language."""

    it: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)
    uk: list[str] = Field(min_length=1)

    def all(self) -> list[str]:
        """All synonyms regardless of language (for indexing)."""
        return [*self.it, *self.en, *self.uk]


class Occupation(_Strict):
    """One ISCO-08 unit group with trilingual labels (Italian is the user-facing one)."""

    code: str = Field(pattern=r"^[0-9]{4}$")
    it: str = Field(min_length=1)
    en: str = Field(min_length=1)
    uk: str = Field(min_length=1)
    synonyms: Synonyms

    @property
    def major_group(self) -> str:
        """ISCO major group (first digit), used for coarse sector matching."""
        return self.code[0]

    def label(self, language: str = "it") -> str:
        """Label in the requested language, falling back to Italian."""
        return {"it": self.it, "en": self.en, "uk": self.uk}.get(language, self.it)


class Taxonomy(_Strict):
    """The occupation taxonomy with indexes by code and by normalised synonym/label."""

    version: str = Field(min_length=1)
    occupations: list[Occupation] = Field(min_length=1)
    by_code: dict[str, Occupation] = Field(default_factory=dict, exclude=True, repr=False)
    by_term: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    @model_validator(mode="after")
    def _build_indexes(self) -> Taxonomy:
        """Reject duplicate codes and ambiguous synonyms, then build lookup indexes."""
        by_code: dict[str, Occupation] = {}
        by_term: dict[str, str] = {}
        for occ in self.occupations:
            if occ.code in by_code:
                raise ValueError(f"duplicate occupation code {occ.code}")
            by_code[occ.code] = occ
            for term in occ.synonyms.all():
                key = normalize_text(term)
                other = by_term.get(key)
                if other is not None and other != occ.code:
                    raise ValueError(f"synonym {term!r} maps to both {other} and {occ.code}")
                by_term[key] = occ.code
        # Labels are indexed too, but never override a synonym: synonyms are curated.
        for occ in self.occupations:
            for label in (occ.it, occ.en, occ.uk):
                by_term.setdefault(normalize_text(label), occ.code)
        self.by_code.clear()
        self.by_code.update(by_code)
        self.by_term.clear()
        self.by_term.update(by_term)
        return self

    def lookup(self, term: str) -> Occupation | None:
        """Exact (case/accent-insensitive) match of a typed job title; fuzzy matching lives elsewhere."""
        code = self.by_term.get(normalize_text(term))
        return self.by_code.get(code) if code else None


# --------------------------------------------------------------------------- offices


class Municipality(_Strict):
    """A comune served by a CPI, with approximate coordinates for distance scoring."""

    name: str = Field(min_length=1)
    #: ISTAT code of the comune (016 = Province of Bergamo): the stable key of a resolved residence.
    istat: str = Field(pattern=r"^016[0-9]{3}$")
    # Bounding box of the Province of Bergamo (with margin): catches swapped lat/lon.
    lat: float = Field(ge=45.3, le=46.2)
    lon: float = Field(ge=9.3, le=10.3)


class Office(_Strict):
    """A Centro per l'Impiego: intake capacity and the comuni whose residents it serves."""

    code: str = Field(pattern=r"^CPI-[A-Z]+$")
    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    email: Email
    phone: str
    #: Appointments: opening blocks per weekday, slot length, parallel desks, closures (config/hours.py).
    hours: OpeningHours
    slot_minutes: int = Field(default=45, ge=5, le=240)
    desks: int = Field(ge=1, le=20, description="intake appointments the office holds at the same time")
    closures: tuple[Closure, ...] = ()
    municipalities: list[Municipality] = Field(min_length=1)

    @field_validator("phone")
    @classmethod
    def _italian_phone(cls, value: str) -> str:
        """Phones are stored in international format so notifications can use them as is."""
        if not _PHONE_RE.match(value):
            raise ValueError(f"phone {value!r} must look like '+39 035 ...'")
        return value

    @model_validator(mode="after")
    def _slots_fit(self) -> Office:
        """Every opening block holds at least one appointment, or it is a typo."""
        for day in range(7):
            for start, end in self.hours.blocks(day):
                if minutes(end) - minutes(start) < self.slot_minutes:
                    raise ValueError(f"{WEEKDAYS[day]} {start:%H:%M}-{end:%H:%M}: shorter than one appointment")
        return self

    @property
    def daily_capacity(self) -> int:
        """The most intake appointments the office gives in one day (its busiest weekday)."""
        per_day = (
            sum((minutes(end) - minutes(start)) // self.slot_minutes for start, end in self.hours.blocks(day))
            for day in range(7)
        )
        return max(per_day) * self.desks

    def municipality(self, name: str) -> Municipality | None:
        """The served comune matching ``name`` loosely, if any."""
        key = municipality_key(name)
        return next((m for m in self.municipalities if municipality_key(m.name) == key), None)


# --------------------------------------------------------------------------- organisations


# The partner kinds are the same enum as the tables use (one definition, models/enums.py).


# Kinds that must appear exactly once: the workflow addresses them as singletons.
SINGLETON_KINDS: tuple[OrgKind, ...] = (OrgKind.CONFINDUSTRIA, OrgKind.LABOUR_SERVICE, OrgKind.COORDINATOR)


class Organisation(_Strict):
    """A partner organisation (referrer, course provider, employer, ...)."""

    code: str
    kind: OrgKind
    name: str = Field(min_length=1)
    email: Email
    language: str = Field(default="it", pattern=r"^[a-z]{2}$")
    municipality: str = Field(min_length=1)
    sectors: list[str] = Field(default_factory=list)
    #: A company's partita IVA (11 digits) and the other names it goes by (tasks/files/companies.py).
    vat: str | None = Field(default=None, pattern=r"^[0-9]{11}$")
    aliases: list[str] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        """Codes are used in URLs and logs: uppercase words joined by dashes."""
        if not _ORG_CODE_RE.match(value):
            raise ValueError(f"code {value!r} must be uppercase words joined by '-'")
        return value

    @field_validator("sectors")
    @classmethod
    def _sector_codes(cls, value: list[str]) -> list[str]:
        """Sectors are ISCO-08 major (1 digit) or unit group (4 digit) codes."""
        bad = [c for c in value if not re.fullmatch(r"[0-9]|[0-9]{4}", c)]
        if bad:
            raise ValueError(f"sectors {bad} are not ISCO-08 major (1-digit) or unit (4-digit) codes")
        if len(set(value)) != len(value):
            raise ValueError("sectors contain duplicates")
        return value

    @model_validator(mode="after")
    def _sectors_only_for_companies(self) -> Organisation:
        """Only employers hire: companies need sectors, other partners must not have any."""
        if self.kind is OrgKind.COMPANY and not self.sectors:
            raise ValueError("a company must list at least one sector")
        if self.kind is not OrgKind.COMPANY and self.sectors:
            raise ValueError(f"sectors are only allowed for companies, not {self.kind.value}")
        return self


# --------------------------------------------------------------------------- routing


class LiteracyRules(_Strict):
    """When a person must attend a CPIA Italian course before job matching (the rule itself,
    pure, is tasks/core/routing.py: the weakest skill below ``threshold`` means a course)."""

    threshold: CEFRLevel
    skills: list[Literal["listening", "reading", "interaction", "production", "writing"]] = Field(min_length=1)
    rule: Literal["min"] = "min"


class DedupRules(_Strict):
    """Fuzzy-score thresholds (0-100) for duplicate referrals."""

    merge_threshold: int = Field(ge=0, le=100)
    review_threshold: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> DedupRules:
        """A score must be able to fall between review and merge, otherwise review never happens."""
        if self.review_threshold >= self.merge_threshold:
            raise ValueError("review_threshold must be lower than merge_threshold")
        return self


class IntakeRules(_Strict):
    """Scheduling of intake interviews at the CPI."""

    days_ahead_min: int = Field(ge=0)
    reminder_business_days: int = Field(ge=0)


class DispatchRules(_Strict):
    """Follow-up of profiles sent to employers."""

    no_interest_days: int = Field(ge=1)


class MatchingWeights(_Strict):
    """Weights of each score component; they must sum to 1 so scores stay in [0, 1]."""

    occupation: float = Field(ge=0, le=1)
    skills: float = Field(ge=0, le=1)
    language: float = Field(ge=0, le=1)
    licence: float = Field(ge=0, le=1)
    distance: float = Field(ge=0, le=1)
    availability: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> MatchingWeights:
        """Catch edits that change one weight and forget to rebalance the others."""
        total = sum(self.model_dump().values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"matching weights must sum to 1.0, got {total:.4f}")
        return self


class MatchingRules(_Strict):
    """Candidate-vacancy matching parameters; ``version`` is recorded with every score."""

    version: str = Field(min_length=1)
    weights: MatchingWeights
    max_distance_km: float = Field(gt=0)
    top_k: int = Field(ge=1)


class RoutingRules(_Strict):
    """All routing rules of the workflow (routing.yaml)."""

    literacy: LiteracyRules
    dedup: DedupRules
    intake: IntakeRules
    dispatch: DispatchRules
    matching: MatchingRules


# --------------------------------------------------------------------------- loading helpers

_M = TypeVar("_M", bound=BaseModel)
#: PyYAML's safe loader on libyaml (same constructors, C scanner and parser); pure Python without it.
_FAST_SAFE_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, turning I/O and syntax problems into ConfigError.

    With libyaml's parser when installed: flows/_params.py reads offices.yaml as a flow run
    starts, about six times faster so (bench/bench_startup.py). A document it refuses is read
    again by the pure-Python parser, so the error message stays the one PyYAML always gave."""
    try:
        with path.open(encoding="utf-8") as fh:
            try:
                data = yaml.load(fh, Loader=_FAST_SAFE_LOADER)  # noqa: S506 - a safe loader
            except yaml.YAMLError:
                fh.seek(0)
                data = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at top level")
    return data


def _entries(path: Path, data: dict[str, Any], key: str) -> list[Any]:
    """The list under ``key``, or a ConfigError naming the file."""
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: '{key}' must be a non-empty list")
    return items


def _describe(entry: Any, *fields: str) -> str:
    """Short identification of an entry for error messages (e.g. "code='7212'")."""
    if isinstance(entry, dict):
        parts = [f"{f}={entry[f]!r}" for f in fields if f in entry]
        if parts:
            return " (" + ", ".join(parts) + ")"
    return ""


def _parse_entries(path: Path, items: list[Any], key: str, model: type[_M], *id_fields: str) -> list[_M]:
    """Validate each entry separately so the error names the exact entry."""
    parsed: list[_M] = []
    for index, entry in enumerate(items):
        try:
            parsed.append(model.model_validate(entry))
        except ValidationError as exc:
            raise ConfigError(f"{path}: {key}[{index}]{_describe(entry, *id_fields)}: {exc}") from exc
    return parsed


# --------------------------------------------------------------------------- parsers


def _parse_taxonomy(path: Path) -> Taxonomy:
    """Parse occupations.yaml; entries first (precise errors), then cross-entry checks."""
    data = _read_yaml(path)
    occupations = _parse_entries(path, _entries(path, data, "occupations"), "occupations", Occupation, "code")
    try:
        return Taxonomy(version=data.get("version", ""), occupations=occupations)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _parse_offices(path: Path) -> list[Office]:
    """Parse offices.yaml and check that codes and comuni are unique across offices."""
    data = _read_yaml(path)
    offices = _parse_entries(path, _entries(path, data, "offices"), "offices", Office, "code", "name")
    seen_codes: set[str] = set()
    seen_munis: dict[str, str] = {}
    for office in offices:
        if office.code in seen_codes:
            raise ConfigError(f"{path}: offices (code={office.code!r}): duplicate office code")
        seen_codes.add(office.code)
        for muni in office.municipalities:
            for key in (municipality_key(muni.name), muni.istat):
                if key in seen_munis:
                    raise ConfigError(
                        f"{path}: offices (code={office.code!r}): municipality {muni.name!r} ({muni.istat}) "
                        f"is already served by {seen_munis[key]}"
                    )
                seen_munis[key] = office.code
    return offices


def _parse_organisations(path: Path) -> list[Organisation]:
    """Parse organisations.yaml; codes must be unique and singleton kinds appear exactly once."""
    data = _read_yaml(path)
    orgs = _parse_entries(path, _entries(path, data, "organisations"), "organisations", Organisation, "code")
    seen: set[str] = set()
    for org in orgs:
        if org.code in seen:
            raise ConfigError(f"{path}: organisations (code={org.code!r}): duplicate code")
        seen.add(org.code)
    for kind in SINGLETON_KINDS:
        count = sum(1 for org in orgs if org.kind is kind)
        if count != 1:
            raise ConfigError(f"{path}: expected exactly one organisation of kind {kind.value!r}, found {count}")
    return orgs


def _parse_routing(path: Path) -> RoutingRules:
    """Parse routing.yaml; pydantic's error locations name the failing section and key."""
    data = _read_yaml(path)
    try:
        return RoutingRules.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


# --------------------------------------------------------------------------- public API


@lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    return _parse_taxonomy(OCCUPATIONS_FILE)


@lru_cache(maxsize=1)
def _default_offices() -> list[Office]:
    return _parse_offices(OFFICES_FILE)


@lru_cache(maxsize=1)
def _default_organisations() -> list[Organisation]:
    return _parse_organisations(ORGANISATIONS_FILE)


@lru_cache(maxsize=1)
def _default_routing() -> RoutingRules:
    return _parse_routing(ROUTING_FILE)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Occupation taxonomy; the default file is parsed once per process, explicit paths every call."""
    return _default_taxonomy() if path is None else _parse_taxonomy(Path(path))


def load_offices(path: Path | None = None) -> list[Office]:
    """CPI offices; the default file is parsed once per process (treat the list as read-only)."""
    return _default_offices() if path is None else _parse_offices(Path(path))


def load_organisations(path: Path | None = None) -> list[Organisation]:
    """Partner organisations; the default file is parsed once per process (read-only list)."""
    return _default_organisations() if path is None else _parse_organisations(Path(path))


def load_routing(path: Path | None = None) -> RoutingRules:
    """Routing rules; the default file is parsed once per process, explicit paths every call."""
    return _default_routing() if path is None else _parse_routing(Path(path))


@lru_cache(maxsize=1)
def _office_index() -> dict[str, Office]:
    """Municipality key -> office, built once from the default offices file."""
    return {municipality_key(m.name): office for office in load_offices() for m in office.municipalities}


def office_for_municipality(name: str) -> Office | None:
    """The CPI serving a comune, matching names case-, accent-, space-, "-" and "'"-insensitively."""
    if not name or not name.strip():
        return None
    return _office_index().get(municipality_key(name))


def organisation_by_code(code: str) -> Organisation | None:
    """A partner organisation by its code (exact, codes are canonical)."""
    return next((org for org in load_organisations() if org.code == code), None)


def organisation_codes(*kinds: OrgKind, offices: bool = False) -> list[str]:
    """The codes of the partners of these kinds (every partner when none is given), then the CPI
    offices when asked, in file order: the closed choice lists of the flows' code parameters."""
    codes = [org.code for org in load_organisations() if not kinds or org.kind in kinds]
    return codes + ([office.code for office in load_offices()] if offices else [])


@lru_cache(maxsize=1)
def _coords_index() -> dict[str, tuple[float, float]]:
    return {municipality_key(m.name): (m.lat, m.lon) for office in load_offices() for m in office.municipalities}


def municipality_coords(name: str) -> tuple[float, float] | None:
    """Approximate (lat, lon) of a comune of the province, for distance scoring."""
    if not name or not name.strip():
        return None
    return _coords_index().get(municipality_key(name))
