"""The public profile: what leaves the building about a person (competences, never identifiers)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from config.data import load_taxonomy
from config.skills import load_skills
from models.cases import Case, Profile
from models.enums import Availability
from models.labels import label


class ProfilePublic(BaseModel):
    """One profile as employers, Confindustria and the portal see it: addressed by case code,
    competences only. It has no field that could carry a name, a contact or a birth date, so
    nothing built from it can leak one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile_code: str
    occupations: str
    skills: str
    experience_years: int
    italian: str
    licence: str
    education: str
    availability: str
    area: str


def public_profile(case: Case, profile: Profile) -> ProfilePublic:
    """The public profile of ``case`` (occupation labels in Italian with their ISCO codes, skills
    and languages by their Italian labels)."""
    tax = load_taxonomy().by_code
    return ProfilePublic(
        profile_code=case.code,
        occupations=", ".join(f"{tax[c].it} ({c})" if c in tax else c for c in profile.occupations),
        skills="; ".join(load_skills().labels(profile.skills)),
        experience_years=profile.experience_years,
        italian=profile.italian.value,
        licence=label(profile.licence),  # Italian words, never a stored value (models/labels.py)
        education=label(profile.education),
        availability=_availability(profile.availability, shifts=profile.shifts),
        area=profile.area or "",
    )


def _availability(stored: str, *, shifts: bool) -> str:
    """``full_time`` (or ``full_time,shifts``) and the shifts flag as one Italian phrase."""
    words = [label(part.strip(), Availability) for part in stored.split(",") if part.strip()]
    if shifts and label(Availability.SHIFTS) not in words:
        words.append(label(Availability.SHIFTS))
    return ", ".join(words) or "—"


def profile_row(case: Case, profile: Profile) -> dict[str, Any]:
    """The public profile as a spreadsheet/template row."""
    return public_profile(case, profile).model_dump()
