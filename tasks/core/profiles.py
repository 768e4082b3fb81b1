"""The public profile: what leaves the building about a person (competences, never identifiers)."""

from __future__ import annotations

from typing import Any

from config.data import load_taxonomy
from models.cases import Case, Profile


def profile_row(case: Case, profile: Profile) -> dict[str, Any]:
    """What an employer sees of one person: competences only, addressed by case code."""
    tax = load_taxonomy().by_code
    return {
        "profile_code": case.code,
        "occupations": ", ".join(f"{tax[c].it} ({c})" if c in tax else c for c in profile.occupations),
        "experience_years": profile.experience_years,
        "italian": profile.italian.value,
        "licence": profile.licence.value,
        "education": f"ISCED {profile.education.value}",
        "availability": profile.availability + (", turni" if profile.shifts else ""),
        "area": profile.area or "",
    }
