"""The public profile carries competences and the case code, never a field of the person table."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from models.cases import Case, Profile
from models.enums import Cefr, Licence
from models.people import Person
from tasks.core.profiles import ProfilePublic, public_profile


def test_no_person_field_can_travel_in_a_public_profile() -> None:
    identity = set(Person.model_fields) - {"id", "key"}
    assert identity, "the person table has identifying fields"
    assert not identity & set(ProfilePublic.model_fields)


def test_a_public_profile_refuses_extra_fields() -> None:
    profile = public_profile(
        Case(code="BG-2026-000001", person_key="k", office="CPI-BG"),
        Profile(case_id=1, occupations=["7212"], italian=Cefr.B1, licence=Licence.B, experience_years=4),
    )
    assert profile.profile_code == "BG-2026-000001"
    assert "(7212)" in profile.occupations
    with pytest.raises(ValidationError):
        ProfilePublic(**profile.model_dump(), family_name="Rossi")
