"""Scoring facts built from stored rows: what matching knows of a profile and of a vacancy."""

from __future__ import annotations

from config.data import municipality_coords
from config.skills import load_skills
from models.cases import Case, Profile
from models.enums import Licence
from models.exchange import Vacancy
from tasks.matching.scoring import ProfileFacts, VacancyFacts

#: The intake's licence field, as codes of config/skills.yaml: a requirement "patente B" is met
#: by a person whose licence is B even if the skills list does not repeat it.
LICENCE_SKILL: dict[Licence, str] = {
    Licence.B: "patenti.b",
    Licence.C: "patenti.c",
    Licence.CE: "patenti.ce",
    Licence.D: "patenti.d",
    Licence.FORKLIFT: "abilitazioni.carrello-elevatore",
}


def profile_facts(case: Case, profile: Profile) -> ProfileFacts:
    """A profile's facts: its skill codes with what they imply (a CE licence covers a B), and
    their Italian labels as the text that requirements nobody could code are compared with."""
    lat, lon = municipality_coords(profile.area or "") or (None, None)
    catalogue = load_skills()
    return ProfileFacts(
        case_code=case.code,
        occupations=tuple(profile.occupations),
        skills=tuple(catalogue.labels(profile.skills)),
        italian=profile.italian,
        licence=profile.licence,
        lat=lat,
        lon=lon,
        mobility_km=profile.mobility_km,
        availability=profile.availability,
        shifts=profile.shifts,
        skill_codes=tuple(catalogue.with_implied([*profile.skills, *_licence_skill(profile.licence)])),
    )


def _licence_skill(licence: Licence) -> list[str]:
    code = LICENCE_SKILL.get(licence)
    return [code] if code else []


def vacancy_facts(v: Vacancy) -> VacancyFacts:
    """A vacancy's facts; one stored before its requirements were coded (migration 0013) is
    coded here, the way its import would code it today."""
    lat, lon = municipality_coords(v.municipality or "") or (None, None)
    codes = v.skill_codes
    if not codes and v.skills:
        from tasks.matching.skills import code_requirements  # rapidfuzz: only for such older rows

        codes = code_requirements(v.skills)
    return VacancyFacts(
        vacancy_code=v.code,
        occupation_code=v.occupation_code or "",
        skills=tuple(v.skills),
        italian_required=v.italian_required,
        licence_required=v.licence_required,
        lat=lat,
        lon=lon,
        shifts_required=False,
        skill_codes=tuple(codes),
    )
