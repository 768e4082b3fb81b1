"""Case facts from the database: the one place the rule inputs of a case are read."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models.cases import Case, Enrollment, Profile
from models.enums import Cefr, Isced, OrgKind, OutcomeKind, Recognition
from models.exchange import Outcome
from models.people import Organisation, Person, Referral
from models.policy import MeasureKind, MeasureStatus, PolicyMeasure
from tasks.files.places import resolve_municipality
from tasks.policy.measures import CaseFacts

# --------------------------------------------------------------------------------------------
# Facts from the database


def case_facts(session: Session, case: Case) -> CaseFacts:
    """Gather the rule inputs of one case (person row read here, never returned to Prefect)."""
    person = session.exec(select(Person).where(Person.key == case.person_key)).first()
    profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
    hired = session.exec(
        select(Outcome.id).where(Outcome.case_id == case.id, Outcome.kind == OutcomeKind.HIRED)
    ).first()
    in_course = (
        session.exec(
            select(Enrollment.id).where(Enrollment.case_id == case.id, col(Enrollment.outcome).is_(None))
        ).first()
        or session.exec(
            select(PolicyMeasure.id).where(
                PolicyMeasure.case_id == case.id,
                PolicyMeasure.kind == MeasureKind.TRAINING,
                col(PolicyMeasure.status).in_([MeasureStatus.STARTED]),
            )
        ).first()
    )
    kinds = session.exec(
        select(Organisation.kind)
        .join(Referral, col(Referral.referrer_code) == col(Organisation.code))
        .where(Referral.case_id == case.id)
    ).all()
    municipality = (person.municipality if person else None) or (profile.area if profile else None) or ""
    return CaseFacts(
        case_code=case.code,
        birth_date=person.birth_date if person else None,
        sex=person.sex if person else None,
        employed=hired is not None,
        in_education=in_course is not None,
        has_profile=profile is not None,
        italian=profile.italian if profile else Cefr.PRE_A1,
        experience_years=profile.experience_years if profile else 0,
        education=profile.education if profile else Isced.LOWER_SECONDARY,
        recognition=profile.recognition if profile else Recognition.NOT_NEEDED,
        occupations=tuple(profile.occupations) if profile else (),
        region=_region(municipality),
        office_code=case.office_code,
        referrer_kinds=tuple(sorted({OrgKind(k).value for k in kinds})),
        permit_type=person.permit_type if person else None,
        permit_expiry=person.permit_expiry if person else None,
    )


def _region(municipality: str) -> str | None:
    """Lombardia when the comune written ("Dalmine (BG)", "Romano di Lomb.", a frazione) is
    served by a CPI of the province: read like the referral's comune (tasks/files/places.py),
    not matched letter by letter; None when it names no CPI (unknown, empty, out of province)."""
    return "Lombardia" if resolve_municipality(municipality).resolved else None
