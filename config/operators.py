"""Typed loader of ``config/operators.yaml``: the accredited labour operators, their sites and capacity.

Checked on load, so an operator that is not an organisation (it could never be emailed), a site in
a comune outside the province (no distance to measure) or a measure no operator takes fails
loudly, naming the file and the entry.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.data import CONFIG_DIR, ConfigError, Email, _read_yaml, load_organisations, municipality_coords
from models.enums import OrgKind
from models.policy import MeasureKind

OPERATORS_FILE: Path = CONFIG_DIR / "operators.yaml"

#: The programmes an accredited labour operator takes up (courses and territorial projects
#: name their own provider in config/policies.yaml and the training offers).
OPERATOR_MEASURES: tuple[MeasureKind, ...] = (MeasureKind.DUL, MeasureKind.GARANZIA_GIOVANI, MeasureKind.GOL)
#: The organisation kinds an operator may be (tasks/policy/register.py accepts them as providers).
OPERATOR_KINDS: tuple[OrgKind, ...] = (OrgKind.TRAINING_BODY, OrgKind.LABOUR_SERVICE)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class OperatorSite(_Strict):
    """A site of an operator: its comune (for the distance), address and contacts."""

    municipality: str = Field(min_length=1)
    address: str = Field(min_length=5)
    email: Email
    phone: str = Field(pattern=r"^\+39[0-9 ]{6,16}$")


class Operator(_Strict):
    """An accredited operator: organisation code, people it can follow per measure, sites."""

    code: str = Field(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)*$")
    capacity: dict[MeasureKind, int]
    sites: tuple[OperatorSite, ...] = Field(min_length=1)


class OperatorRegistry(_Strict):
    """Every accredited operator, in file order."""

    version: str = Field(min_length=1)
    operators: tuple[Operator, ...] = Field(min_length=1)

    def by_code(self, code: str | None) -> Operator | None:
        return next((o for o in self.operators if o.code == code), None)


def _check(path: Path, registry: OperatorRegistry) -> None:
    """Cross-file rules: known organisations of an operator's kind, comuni of the province,
    only the programmes operators take, every programme taken by someone, no code twice."""
    orgs = {o.code: o for o in load_organisations()}
    seen: set[str] = set()
    for index, op in enumerate(registry.operators):
        where = f"{path}: operators[{index}] (code={op.code!r})"
        if op.code in seen:
            raise ConfigError(f"{where}: operator listed twice")
        seen.add(op.code)
        org = orgs.get(op.code)
        if org is None:
            raise ConfigError(f"{where}: not an organisation of config/organisations.yaml")
        if org.kind not in OPERATOR_KINDS:
            raise ConfigError(f"{where}: organisation of kind {org.kind.value!r}, not an accredited body")
        wrong = sorted(k.value for k in op.capacity if k not in OPERATOR_MEASURES)
        if wrong:
            raise ConfigError(
                f"{where}: capacity for {wrong}: operators take only {[k.value for k in OPERATOR_MEASURES]}"
            )
        if any(n < 0 for n in op.capacity.values()):
            raise ConfigError(f"{where}: a capacity cannot be negative")
        for number, site in enumerate(op.sites):
            if municipality_coords(site.municipality) is None:
                raise ConfigError(f"{where}: sites[{number}]: comune {site.municipality!r} not in config/offices.yaml")
    missing = sorted(k.value for k in OPERATOR_MEASURES if not any(k in o.capacity for o in registry.operators))
    if missing:
        raise ConfigError(f"{path}: no operator takes {missing}")


def _parse(path: Path) -> OperatorRegistry:
    data: dict[str, Any] = _read_yaml(path)
    entries = data.get("operators")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: 'operators' must be a non-empty list")
    parsed = []
    for index, entry in enumerate(entries):
        try:
            parsed.append(Operator.model_validate(entry))
        except ValidationError as exc:
            code = entry.get("code") if isinstance(entry, dict) else None
            raise ConfigError(f"{path}: operators[{index}] (code={code!r}): {exc}") from exc
    try:
        registry = OperatorRegistry.model_validate({**data, "operators": parsed})
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    _check(path, registry)
    return registry


@lru_cache(maxsize=1)
def _default() -> OperatorRegistry:
    return _parse(OPERATORS_FILE)


def load_operators(path: Path | None = None) -> OperatorRegistry:
    """The registry of ``path`` (default ``config/operators.yaml``, read once per process)."""
    return _parse(path) if path is not None else _default()
