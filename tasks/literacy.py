"""Literacy stage steps: CPIA enrolment requests (with consent) and course outcomes.

A person below the Italian threshold is sent to the CPIA site serving the area where they live
(config/cpia.yaml), never to a default site: when no site serves it, the coordinators choose.
The request names the CPI office that follows the person and, where the person consented to
the CPIA, how to reach them. A course ends passed, failed (attended, not passed) or dropped
(withdrawn or abandoned, no certificate); after two courses in a row without a pass the case
goes to the coordination table instead of a third request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, or_, select

from config.cpia import CpiaSite, load_cpia_sites
from config.data import load_offices, load_routing
from config.next_steps import COORDINATORS
from models import clock
from models.cases import Assessment, Case, Enrollment, Profile
from models.enums import AssessmentSource, Cefr, ConsentPurpose, State
from models.forms import CourseOutcome, LiteracyResult
from models.people import Organisation, Person
from tasks.core.audit import audit_read
from tasks.core.consent import consenting_persons, valid_consent_clause
from tasks.core.next_steps import set_step
from tasks.core.routing import SKILLS, course_level, overall_level, route_after_assessment
from tasks.core.transitions import transition
from tasks.mail.outbox import enqueue_email
from tasks.runtime.db import in_chunks
from tasks.runtime.event_names import LITERACY_COMPLETED
from tasks.runtime.events import EventSpec, queue_event

ACTOR = "flow:literacy"

#: Next steps this stage sets itself (config/next_steps.yaml); tasks/policy/tavolo.py reads
#: LITERACY_TAVOLO by value (stage packages do not import each other).
COURSE = "literacy_course"
REASSESS = "reassess_literacy"
CHOOSE_CPIA = "choose_cpia"
LITERACY_TAVOLO = "literacy_tavolo"

#: How a course ended, as the CPIA reports it (stored in ``enrollment.outcome``), in Italian.
OUTCOME_IT: dict[str, str] = {"passed": "superato", "failed": "non superato", "dropped": "ritirato"}
#: Outcomes that are not progress: attended without passing, or left.
NO_PROGRESS: frozenset[str] = frozenset({"failed", "dropped"})
#: Courses in a row without progress after which the coordination table decides.
COURSES_WITHOUT_PROGRESS = 2

# --------------------------------------------------------------------------------------------
# Pure rules


def stalled(outcomes: Sequence[str | None], limit: int = COURSES_WITHOUT_PROGRESS) -> bool:
    """True when the last ``limit`` courses (oldest first; open ones and those closed by a
    consent withdrawal ignored) all ended without progress: failed or dropped."""
    ended = [o for o in outcomes if o in OUTCOME_IT]
    return len(ended) >= limit and all(o in NO_PROGRESS for o in ended[-limit:])


def previous_course_note(outcome: str | None, courses: int) -> str | None:
    """What the CPIA should know about the earlier courses, in Italian (None for a first course)."""
    if outcome not in OUTCOME_IT or courses == 0:
        return None
    said = {
        "passed": "ha superato il corso precedente: si chiede il livello successivo",
        "failed": "ha frequentato il corso precedente senza superarlo",
        "dropped": "si è ritirata dal corso precedente",
    }[outcome or ""]
    return f"{courses} corsi già frequentati; la persona {said}" if courses > 1 else f"la persona {said}"


def office_details(office_code: str | None) -> dict[str, str]:
    """The CPI office as the CPIA reads it: name, phone, e-mail (never the bare code)."""
    office = next((o for o in load_offices() if o.code == office_code), None)
    if office is None:
        return {"office_name": "Centro per l'Impiego non ancora assegnato", "office_phone": "", "office_email": ""}
    return {"office_name": office.name, "office_phone": office.phone, "office_email": office.email}


def readable_phone(e164: str | None) -> str:
    """A stored E.164 number as people dial it (+39 333 123 4567); as stored when unreadable."""
    if not e164:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def contact_of(person: Person | None) -> dict[str, str] | None:
    """Name, phone and e-mail of a person; None when there is nothing to reach them by."""
    if person is None or not (person.phone or person.email):
        return None
    name = " ".join(p for p in (person.given_names, person.family_name) if p)
    return {"name": name or "—", "phone": readable_phone(person.phone), "email": person.email or ""}


# --------------------------------------------------------------------------------------------
# Enrolment requests


def _closed_outcomes(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    """For each case, the outcomes of its closed courses, oldest first."""
    out: dict[int, list[str]] = defaultdict(list)
    if case_ids:
        rows = session.exec(
            select(Enrollment.case_id, Enrollment.outcome)
            .where(col(Enrollment.case_id).in_(case_ids), col(Enrollment.outcome).is_not(None))
            .order_by(col(Enrollment.id))
        ).all()
        for case_id, outcome in rows:
            out[case_id].append(str(outcome))
    return out


def request_enrolments(
    session: Session, *, case_codes: list[str] | None = None, today: date, cpia_code: str | None = None
) -> dict[str, list[str]]:
    """Ask the CPIA site serving each LITERACY case without an open course (only where the person
    consents to the CPIA) to enrol it: one request per site, with the person's contact where the
    consent covers that site. A case whose area no site serves gets the coordinators' step
    "choose the site" instead; with ``cpia_code`` (their choice) every selected case goes there.
    Cases the coordination table is deciding on are left alone. Returns the codes per site."""
    threshold = Cefr(load_routing().literacy.threshold)
    sites = load_cpia_sites()
    chosen = sites.site(cpia_code) if cpia_code else None
    if cpia_code and chosen is None:
        raise ValueError(f"sede CPIA sconosciuta: {cpia_code} (config/cpia.yaml)")
    open_course = select(Enrollment.case_id).where(col(Enrollment.outcome).is_(None))
    query = select(Case).where(
        Case.state == State.LITERACY,
        col(Case.id).not_in(open_course),
        or_(col(Case.next_step).is_(None), col(Case.next_step) != LITERACY_TAVOLO),
        valid_consent_clause(col(Case.person_key), ConsentPurpose.CPIA_ENROLMENT),
    )
    if case_codes:
        query = query.where(col(Case.code).in_(case_codes))
    # Two runs at once (a burst of routing events) take disjoint cases on PostgreSQL.
    cases = list(session.exec(query.order_by(col(Case.id)).with_for_update(skip_locked=True, of=Case)).all())
    persons = {
        p.key: p
        for chunk in in_chunks([c.person_key for c in cases])
        for p in session.exec(select(Person).where(col(Person.key).in_(chunk))).all()
    }
    history = _closed_outcomes(session, [c.id for c in cases if c.id is not None])
    per_site: dict[str, list[tuple[Case, Cefr]]] = defaultdict(list)
    for case in cases:
        person = persons.get(case.person_key)
        site = chosen or sites.site_for(person.municipality if person else None, case.office_code)
        if site is None:
            if case.next_step != CHOOSE_CPIA:  # keep the first due date: the coordinators are late
                set_step(case, CHOOSE_CPIA, today=today)
                session.add(case)
            continue
        profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
        level = course_level(profile.italian if profile else Cefr.PRE_A1, threshold)
        assert case.id is not None
        session.add(Enrollment(case_id=case.id, cpia_code=site.code, level=level))
        set_step(case, COURSE, today=today, owner=site.code)
        session.add(case)
        per_site[site.code].append((case, level))
    out: dict[str, list[str]] = {}
    for site_code, items in per_site.items():
        site = sites.site(site_code)
        assert site is not None
        _send_request(session, site, items, persons, history, today=today)
        out[site_code] = [c.code for c, _ in items]
    return out


def _send_request(
    session: Session,
    site: CpiaSite,
    items: list[tuple[Case, Cefr]],
    persons: dict[str, Person],
    history: dict[int, list[str]],
    *,
    today: date,
) -> None:
    """One request to the site: per case the level, the CPI office, the earlier courses and,
    where the person consented to this CPIA, their contact (the read is audited)."""
    org = session.get(Organisation, site.code)
    if org is None:
        raise LookupError(f"{site.code}: sede CPIA non presente tra le organizzazioni (config/organisations.yaml)")
    consenting = consenting_persons(session, (c.person_key for c, _ in items), ConsentPurpose.CPIA_ENROLMENT, site.code)
    rows: list[dict[str, Any]] = []
    for case, level in items:
        contact = contact_of(persons.get(case.person_key)) if case.person_key in consenting else None
        if contact is not None:
            audit_read(
                session,
                actor=ACTOR,
                case_code=case.code,
                action="contact_release",
                purpose=f"recapiti alla sede CPIA {site.code} per l'iscrizione al corso di italiano (consenso)",
            )
        past = history.get(case.id or 0, [])
        rows.append(
            {
                "case_code": case.code,
                "target_level": level.value,
                **office_details(case.office_code),
                "contact": contact,
                "previous": previous_course_note(past[-1] if past else None, len(past)),
            }
        )
    codes = [r["case_code"] for r in rows]
    enqueue_email(
        session,
        key=f"cpia:{site.code}:enrol:{today.isoformat()}:{codes[0]}:{len(codes)}",
        kind="cpia_enrolment_request",
        recipient=org.email,
        recipient_code=org.code,
        context={"cpia_name": org.name, "site": site.site, "cases": rows},
    )


def awaiting_cpia_choice(session: Session) -> list[str]:
    """LITERACY cases waiting for the coordinators to choose a CPIA site."""
    query = select(Case.code).where(Case.state == State.LITERACY, Case.next_step == CHOOSE_CPIA)
    return list(session.exec(query.order_by(col(Case.id))).all())


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


# --------------------------------------------------------------------------------------------
# Course outcomes and re-assessment


@dataclass
class LiteracyOutcome:
    profile_ready: list[str] = field(default_factory=list)
    re_enrolled: list[str] = field(default_factory=list)
    to_tavolo: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def course_problems(open_codes: Sequence[str], rows: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the CPIA's outcome form, in Italian: a case without an open course, a
    passed or failed course without the certified levels."""
    problems = []
    for raw in rows:
        row = LiteracyResult.model_validate(raw)
        if row.case_code not in open_codes:
            problems.append(f"{row.case_code}: nessun corso aperto per questa pratica")
        elif row.outcome is not CourseOutcome.DROPPED and any(getattr(row, s) is None for s in SKILLS):
            problems.append(
                f"{row.case_code}: corso {row.outcome.label}: indicare i livelli certificati dal CPIA "
                "in tutte e cinque le abilità (vuoti solo per chi si è ritirato)"
            )
    return problems


def record_course_outcomes(
    session: Session, rows: list[dict[str, Any]], *, today: date, flow_run_id: str | None = None
) -> list[str]:
    """Close each open course with its outcome; a passed or failed course also records the CPIA's
    certified levels (a dropped one has none: the earlier levels stand).

    Routing is the re-assessment's job (``reassess``), started by the
    ``incontro.literacy.completed`` event this step emits; meanwhile the case's next step says
    so. Returns the codes recorded."""
    results = [LiteracyResult.model_validate(r) for r in rows]
    recorded: list[str] = []
    for r in results:
        case = session.exec(select(Case).where(Case.code == r.case_code)).one()
        course = session.exec(
            select(Enrollment).where(Enrollment.case_id == case.id, col(Enrollment.outcome).is_(None))
        ).first()
        if case.state is not State.LITERACY or course is None:
            continue  # already recorded by an earlier run: idempotent
        course.outcome, course.end = r.outcome.value, today
        session.add(course)
        assert case.id is not None
        levels = {s: getattr(r, s) for s in SKILLS}
        if r.outcome is not CourseOutcome.DROPPED and all(v is not None for v in levels.values()):
            session.add(
                Assessment(case_id=case.id, source=AssessmentSource.CPIA_CERTIFICATE, assessed_on=today, **levels)
            )
        set_step(case, REASSESS, today=today)
        session.add(case)
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
    """LITERACY cases whose last course ended and was not re-assessed yet (no course open, and the
    step is still the course's or "re-assess": a case already routed is not routed again)."""
    closed = select(Enrollment.case_id).where(col(Enrollment.outcome).in_(sorted(OUTCOME_IT)))
    open_ = select(Enrollment.case_id).where(col(Enrollment.outcome).is_(None))
    return list(
        session.exec(
            select(Case.code)
            .where(
                Case.state == State.LITERACY,
                col(Case.id).in_(closed),
                col(Case.id).not_in(open_),
                or_(col(Case.next_step).in_([REASSESS, COURSE]), col(Case.next_step).is_(None)),
            )
            .order_by(col(Case.id))
        ).all()
    )


def _route_reason(outcome: str | None, level: Cefr) -> str:
    said = OUTCOME_IT.get(outcome or "", "concluso")
    return f"corso {said}, rivalutazione {level.value}"


def reassess(
    session: Session,
    *,
    case_codes: list[str] | None = None,
    today: date | None = None,
    flow_run_id: str | None = None,
) -> LiteracyOutcome:
    """Route each case after its course from the latest assessment: PROFILE_READY when the
    threshold is reached; after two courses in a row without a pass, the coordination table;
    else LITERACY again (a new enrolment is requested by the literacy flow)."""
    rules = load_routing().literacy
    threshold = Cefr(rules.threshold)
    day = today or clock.today()
    waiting = set(awaiting_reassessment(session))
    outcome = LiteracyOutcome()
    for code in case_codes if case_codes is not None else sorted(waiting):
        if code not in waiting:
            outcome.skipped.append(code)
            continue
        case = session.exec(select(Case).where(Case.code == code)).one()
        assert case.id is not None
        latest = session.exec(
            select(Assessment).where(Assessment.case_id == case.id).order_by(col(Assessment.id).desc())
        ).first()
        profile = session.exec(select(Profile).where(Profile.case_id == case.id)).first()
        if latest is not None:
            levels = {s: getattr(latest, s) for s in SKILLS}
        else:  # no assessment on record (a dropped course certifies nothing): the profile's level
            levels = dict.fromkeys(SKILLS, profile.italian if profile else Cefr.PRE_A1)
        level = overall_level(levels, rules.rule)
        if profile is not None:
            profile.italian = level
            session.add(profile)
        past = _closed_outcomes(session, [case.id])[case.id]
        reason = _route_reason(past[-1] if past else None, level)
        if route_after_assessment(levels, threshold, rules.rule) is State.PROFILE_READY:
            transition(session, case, State.PROFILE_READY, actor=ACTOR, reason=reason, flow_run_id=flow_run_id)
            outcome.profile_ready.append(code)
        elif stalled(past):
            set_step(case, LITERACY_TAVOLO, today=day, owner=COORDINATORS)
            session.add(case)
            transition(
                session,
                case,
                State.LITERACY,
                actor=ACTOR,
                reason=f"{reason}: due corsi senza progressi, decide il tavolo di coordinamento",
                flow_run_id=flow_run_id,
                keep_step=True,
            )
            outcome.to_tavolo.append(code)
        else:
            # the state's default step: the CPI's "request the enrolment", done by the literacy flow
            transition(session, case, State.LITERACY, actor=ACTOR, reason=reason, flow_run_id=flow_run_id)
            outcome.re_enrolled.append(code)
    return outcome
