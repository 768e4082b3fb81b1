"""Which accredited operator takes up a programme for a case (config/operators.yaml).

Pure rules first: among the operators that take the measure and still have room, the one whose
site is nearest to the person's comune (kilometres as the crow flies); when the comune is not
known, a site in the area of the case's CPI; when neither is known, or nobody has room, nobody:
the measure waits for the coordinators. Then the database side: how many people each operator
already follows per measure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from config.data import municipality_coords, office_for_municipality
from config.operators import OPERATOR_MEASURES, Operator, OperatorRegistry, OperatorSite
from models.policy import OPEN_MEASURE, MeasureKind, MeasureStatus, PolicyMeasure

#: Measures that hold an operator's place: proposed (until another is chosen), chosen, under way.
HOLDING: tuple[MeasureStatus, ...] = (MeasureStatus.PROPOSED, *OPEN_MEASURE)

Load = Mapping[tuple[str, MeasureKind], int]


@dataclass(frozen=True)
class OperatorChoice:
    """The operator chosen for a measure, the site the person goes to, and why (Italian)."""

    operator: Operator
    site: OperatorSite
    km: float | None
    reason: str

    @property
    def code(self) -> str:
        return self.operator.code


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _room(op: Operator, measure: MeasureKind, load: Load) -> int:
    return op.capacity.get(measure, 0) - load.get((op.code, measure), 0)


def nearest_site(op: Operator, place: tuple[float, float]) -> tuple[OperatorSite, float]:
    """The operator's site nearest to ``place`` and how far it is."""
    sites = []
    for site in op.sites:
        coords = municipality_coords(site.municipality)
        assert coords is not None  # config/operators.py checks every site's comune on load
        sites.append((distance_km(place, coords), site.municipality, site))
    km, _name, site = min(sites, key=lambda s: (s[0], s[1]))
    return site, km


def choose_operator(
    registry: OperatorRegistry,
    measure: MeasureKind,
    *,
    municipality: str | None,
    office_code: str | None,
    load: Load,
) -> OperatorChoice | None:
    """The operator with room for ``measure`` nearest to the person (None: the coordinators choose).

    ``municipality`` is the person's comune (coarse location), ``office_code`` the case's CPI;
    ``load`` how many people each (operator, measure) already follows."""
    if measure not in OPERATOR_MEASURES:
        return None
    free = [op for op in registry.operators if measure in op.capacity and _room(op, measure, load) > 0]
    if not free:
        return None
    place = municipality_coords(municipality) if municipality else None
    if place is not None:
        ranked = []
        for op in free:
            site, km = nearest_site(op, place)
            ranked.append((round(km, 1), -_room(op, measure, load), op.code, op, site))
        km, _room_left, _code, op, site = min(ranked, key=lambda r: r[:3])
        return OperatorChoice(op, site, km, f"sede più vicina al comune della persona ({_km(km)})")
    if office_code:
        local = [
            (-_room(op, measure, load), op.code, op, site)
            for op in free
            for site in op.sites
            if (office := office_for_municipality(site.municipality)) is not None and office.code == office_code
        ]
        if local:
            _room_left, _code, op, site = min(local, key=lambda r: r[:2])
            return OperatorChoice(op, site, None, "sede nel territorio del Centro per l'Impiego della pratica")
    return None


def _km(km: float) -> str:
    return "stesso comune" if km < 0.5 else f"{km:.0f} km".replace(".", ",")


def operator_load(session: Session) -> Counter[tuple[str, MeasureKind]]:
    """How many cases each operator holds per measure (proposed, chosen or under way)."""
    rows = session.exec(
        select(PolicyMeasure.provider_code, PolicyMeasure.kind, func.count(func.distinct(PolicyMeasure.case_id)))
        .where(
            col(PolicyMeasure.provider_code).is_not(None),
            col(PolicyMeasure.kind).in_(OPERATOR_MEASURES),
            col(PolicyMeasure.status).in_(HOLDING),
        )
        .group_by(col(PolicyMeasure.provider_code), col(PolicyMeasure.kind))
    ).all()
    return Counter({(str(code), MeasureKind(kind)): int(n) for code, kind, n in rows})
