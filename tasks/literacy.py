"""Literacy stage steps: CPIA enrolment requests (with consent) and course outcomes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from config.data import load_offices, load_routing
from models.cases import Assessment, Case, Enrollment, Profile
from models.enums import AssessmentSource, Cefr, ConsentPurpose, OrgKind, State
from models.forms import LiteracyResult
from models.people import Organisation
from tasks.core.consent import valid_consent_clause
from tasks.core.next_steps import set_step
from tasks.core.partners import org_of_kind
from tasks.core.routing import SKILLS, course_level, overall_level, route_after_assessment
from tasks.core.transitions import transition
from tasks.mail.outbox import enqueue_email
from tasks.runtime.event_names import LITERACY_COMPLETED
from tasks.runtime.events import EventSpec, queue_event

ACTOR = "flow:literacy"


def cpia_for_office(cpias: list[Organisation], office_code: str | None) -> Organisation:
    """The CPIA serving an office: the one in the same town, else the first (Bergamo)."""
    towns = {o.code: o.name.split(" di ")[-1].casefold() for o in load_offices()}
    town = towns.get(office_code or "", "")
    for cpia in cpias:
        if town and cpia.municipality and cpia.municipality.casefold() == town:
            return cpia
    return cpias[0]


def request_enrolments(session: Session, *, case_codes: list[str] | None = None, today: date) -> dict[str, list[str]]:
    """Enrol LITERACY cases without an open course, only where the person consents to the CPIA."""
    threshold = Cefr(load_routing().literacy.threshold)
    open_course = select(Enrollment.case_id).where(col(Enrollment.outcome).is_(None))
    query = select(Case).where(
        Case.state == State.LITERACY,
        col(Case.id).not_in(open_course),
        valid_consent_clause(col(Case.person_key), ConsentPurpose.CPIA_ENROLMENT),
    )
    if case_codes:
        query = query.where(col(Case.code).in_(case_codes))
    cpias = org_of_kind(session, OrgKind.CPIA)
    per_cpia: dict[str, list[tuple[Case, Cefr]]] = defaultdict(list)
    for case in session.exec(query.order_by(col(Case.id))).all():
        profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
        level = course_level(profile.italian if profile else Cefr.PRE_A1, threshold)
        cpia = cpia_for_office(cpias, case.office_code)
        assert case.id is not None
        session.add(Enrollment(case_id=case.id, cpia_code=cpia.code, level=level))
        set_step(case, "literacy_course", today=today, owner=cpia.code)
        session.add(case)
        per_cpia[cpia.code].append((case, level))
    out: dict[str, list[str]] = {}
    for cpia_code, items in per_cpia.items():
        org = session.get(Organisation, cpia_code)
        assert org is not None
        cpia = org
        codes = [c.code for c, _ in items]
        enqueue_email(
            session,
            key=f"cpia:{cpia_code}:enrol:{today.isoformat()}:{codes[0]}:{len(codes)}",
            kind="cpia_enrolment_request",
            recipient=cpia.email,
            recipient_code=cpia.code,
            context={
                "cpia_name": cpia.name,
                "cases": [
                    {"case_code": c.code, "target_level": lv.value, "office_name": c.office_code} for c, lv in items
                ],
            },
        )
        out[cpia_code] = codes
    return out


def enrolled_cases(session: Session) -> list[str]:
    """Cases in LITERACY with an open course (what the outcome form asks about)."""
    return list(
        session.exec(
            select(Case.code)
            .join(Enrollment, col(Enrollment.case_id) == col(Case.id))
            .where(Case.state == State.LITERACY, col(Enrollment.outcome).is_(None))
            .order_by(col(Case.id))
        ).all()
    )


@dataclass
class LiteracyOutcome:
    profile_ready: list[str] = field(default_factory=list)
    re_enrolled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def record_course_outcomes(
    session: Session, rows: list[dict[str, Any]], *, today: date, flow_run_id: str | None = None
) -> list[str]:
    """Close each open course with its outcome and the CPIA's certified levels.

    Routing is the re-assessment's job (``reassess``), started by the
    ``incontro.literacy.completed`` event this step emits; returns the codes recorded.
    """
    results = [LiteracyResult.model_validate(r) for r in rows]
    recorded: list[str] = []
    for r in results:
        case = session.exec(select(Case).where(Case.code == r.case_code)).one()
        course = session.exec(
            select(Enrollment).where(Enrollment.case_id == case.id, col(Enrollment.outcome).is_(None))
        ).first()
        if case.state is not State.LITERACY or course is None:
            continue  # already recorded by an earlier run: idempotent
        course.outcome, course.end = r.outcome, today
        session.add(course)
        assert case.id is not None
        levels = {s: getattr(r, s) for s in SKILLS}
        session.add(Assessment(case_id=case.id, source=AssessmentSource.CPIA_CERTIFICATE, assessed_on=today, **levels))
        recorded.append(case.code)
    if recorded:
        queue_event(
            session,
            EventSpec(
                name=LITERACY_COMPLETED,
                resource_id=f"incontro.literacy.{today.isoformat()}-{recorded[0]}",
                payload={"courses": len(recorded)},
            ),
        )
    return recorded


def awaiting_reassessment(session: Session) -> list[str]:
    """LITERACY cases whose last course is closed and none is open: ready to be re-assessed."""
    closed = select(Enrollment.case_id).where(col(Enrollment.outcome).is_not(None))
    open_ = select(Enrollment.case_id).where(col(Enrollment.outcome).is_(None))
    return list(
        session.exec(
            select(Case.code)
            .where(Case.state == State.LITERACY, col(Case.id).in_(closed), col(Case.id).not_in(open_))
            .order_by(col(Case.id))
        ).all()
    )


def reassess(
    session: Session, *, case_codes: list[str] | None = None, flow_run_id: str | None = None
) -> LiteracyOutcome:
    """Route each case after its course from the latest assessment: PROFILE_READY when the
    threshold is reached, else LITERACY again (a new enrolment is requested by the literacy flow)."""
    rules = load_routing().literacy
    threshold = Cefr(rules.threshold)
    outcome = LiteracyOutcome()
    for code in case_codes if case_codes is not None else awaiting_reassessment(session):
        case = session.exec(select(Case).where(Case.code == code)).one()
        if code not in awaiting_reassessment(session):
            outcome.skipped.append(code)
            continue
        latest = session.exec(
            select(Assessment).where(Assessment.case_id == case.id).order_by(col(Assessment.id).desc())
        ).first()
        assert latest is not None
        levels = {s: getattr(latest, s) for s in SKILLS}
        profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
        if profile is not None:
            profile.italian = overall_level(levels, rules.rule)
            session.add(profile)
        target = route_after_assessment(levels, threshold, rules.rule)
        case.next_step, case.next_due = (None, None) if target is State.PROFILE_READY else ("literacy_course", None)
        session.add(case)
        transition(
            session,
            case,
            target,
            actor=ACTOR,
            reason=f"rivalutazione {overall_level(levels, rules.rule).value}",
            flow_run_id=flow_run_id,
        )
        (outcome.profile_ready if target is State.PROFILE_READY else outcome.re_enrolled).append(case.code)
    return outcome
