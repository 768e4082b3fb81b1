"""Policy rules: config/policies.yaml as validated pydantic models, loaded once for every module."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.data import CONFIG_DIR, ConfigError, _read_yaml
from models.enums import Cefr, OrgKind
from models.policy import MeasureKind

POLICIES_FILE = CONFIG_DIR / "policies.yaml"


# --------------------------------------------------------------------------------------------
# Rules (config/policies.yaml)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PermitRules(_Rule):
    renewal_receipt_types: list[str] = []


class ProfilingClass(_Rule):
    class_: int = Field(alias="class", ge=1, le=4)
    max_points: int = Field(ge=0)


class ProfilingRules(_Rule):
    points: dict[str, int]
    classes: list[ProfilingClass] = Field(min_length=1)

    @field_validator("points")
    @classmethod
    def _known_factors(cls, v: dict[str, int]) -> dict[str, int]:
        unknown = set(v) - set(PROFILING_FACTORS)
        if unknown:
            raise ValueError(f"fattori di profilazione sconosciuti: {sorted(unknown)} (ammessi: {PROFILING_FACTORS})")
        return v


class GaranziaGiovaniRules(_Rule):
    label: str
    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)
    neet_required: bool = True
    provider: str
    duration_days: int = Field(ge=1)


GOL_PATHWAYS = ("job_placement", "upskilling", "reskilling", "work_inclusion", "collective_reskilling")


class GolRules(_Rule):
    label: str
    min_age: int = Field(ge=0)
    requires_profile: bool = True
    pathways: dict[int, str]
    collective_pathway: str
    pathway_labels: dict[str, str]
    provider: str
    duration_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _pathways_known(self) -> GolRules:
        used = {*self.pathways.values(), self.collective_pathway}
        if not used <= set(GOL_PATHWAYS):
            raise ValueError(f"percorsi GOL sconosciuti: {sorted(used - set(GOL_PATHWAYS))}")
        if set(self.pathways) != {1, 2, 3, 4}:
            raise ValueError("pathways: servono le classi di profilazione 1, 2, 3 e 4")
        if not used <= set(self.pathway_labels):
            raise ValueError("pathway_labels: manca l'etichetta di un percorso usato")
        return self


class DulRules(_Rule):
    label: str
    region: str
    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)
    bands: dict[int, str]
    success_min_contract_days: int = Field(ge=1)
    provider: str
    duration_days: int = Field(ge=1)


class TrainingRules(_Rule):
    near_occupation: float = Field(ge=0, le=1)
    skills_ok: float = Field(ge=0, le=1)
    skill_covered: int = Field(ge=0, le=100)
    min_attendance_pct: int = Field(ge=0, le=100)
    duration_days: int = Field(ge=1)


class TerritorialProject(_Rule):
    """A local project; every criterion left out does not apply."""

    code: str = Field(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)*$")
    label: str
    provider: str
    min_age: int | None = None
    max_age: int | None = None
    offices: list[str] | None = None
    referrer_kinds: list[OrgKind] | None = None
    sex: list[str] | None = None
    italian_min: Cefr | None = None
    italian_max: Cefr | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    duration_days: int = Field(90, ge=1)


class TavoloRules(_Rule):
    members: list[str] = Field(min_length=1)
    ending_within_days: int = Field(ge=0)


class PolicyRules(_Rule):
    version: str
    priority: list[MeasureKind]
    permit: PermitRules
    profiling: ProfilingRules
    garanzia_giovani: GaranziaGiovaniRules
    gol: GolRules
    dul: DulRules
    outcome_window_days: int = Field(ge=1)
    training: TrainingRules
    territorial: list[TerritorialProject] = []
    tavolo: TavoloRules

    def provider_codes(self) -> set[str]:
        return {
            self.garanzia_giovani.provider,
            self.gol.provider,
            self.dul.provider,
            *(p.provider for p in self.territorial),
            *self.tavolo.members,
        }


PROFILING_FACTORS = (
    "italian_below_a2",
    "italian_below_b1",
    "no_experience",
    "short_experience",
    "low_education",
    "title_not_recognised",
    "no_occupation",
)


def _parse_policies(path: Path) -> PolicyRules:
    try:
        rules = PolicyRules.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    from config.data import organisation_by_code

    unknown = sorted(c for c in rules.provider_codes() if organisation_by_code(c) is None)
    if unknown:
        raise ConfigError(f"{path}: enti non presenti in config/organisations.yaml: {', '.join(unknown)}")
    return rules


@lru_cache(maxsize=1)
def _default_policies() -> PolicyRules:
    return _parse_policies(POLICIES_FILE)


def load_policies(path: Path | None = None) -> PolicyRules:
    """Policy rules; the default file is parsed once per process, explicit paths every call."""
    return _default_policies() if path is None else _parse_policies(Path(path))
