"""Scoring facts built from stored rows: what matching knows of a profile and of a vacancy."""

from __future__ import annotations

from config.data import municipality_coords
from models.cases import Case, Profile
from models.exchange import Vacancy
from tasks.matching.scoring import ProfileFacts, VacancyFacts


def profile_facts(case: Case, profile: Profile) -> ProfileFacts:
    lat, lon = municipality_coords(profile.area or "") or (None, None)
    return ProfileFacts(
        case_code=case.code,
        occupations=tuple(profile.occupations),
        skills=tuple(profile.skills),
        italian=profile.italian,
        licence=profile.licence,
        lat=lat,
        lon=lon,
        mobility_km=profile.mobility_km,
        availability=profile.availability,
        shifts=profile.shifts,
    )


def vacancy_facts(v: Vacancy) -> VacancyFacts:
    lat, lon = municipality_coords(v.municipality or "") or (None, None)
    return VacancyFacts(
        vacancy_code=v.code,
        occupation_code=v.occupation_code or "",
        skills=tuple(v.skills),
        italian_required=v.italian_required,
        licence_required=v.licence_required,
        lat=lat,
        lon=lon,
        shifts_required=False,
    )
