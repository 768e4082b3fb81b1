"""Intake stage steps: schedule appointments, record the operator's intake results."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from config.data import Office, load_offices, load_routing
from config.hours import closed_days, load_appointment_rules
from models.cases import Assessment, Case, CaseEvent, Profile
from models.clock import ROME, day_start
from models.enums import AssessmentSource, Cefr, ConsentPurpose, Language, State
from models.forms import IntakeResult
from models.people import Organisation, Person, Referral
from tasks.core.audit import audit_read
from tasks.core.calendar import add_business_days, allocate_slots
from tasks.core.consent import CONSENT_TO_COLLECT, consenting_persons, grant_consents
from tasks.core.next_steps import set_step
from tasks.core.partners import referrers_by_case
from tasks.core.people import municipalities_of
from tasks.core.routing import SKILLS, overall_level, route_after_assessment
from tasks.core.transitions import transition_many
from tasks.mail.outbox import EmailSpec, enqueue_emails
from tasks.runtime.db import in_chunks

if TYPE_CHECKING:
    from tasks.matching.occupations import Coding

ACTOR = "flow:intake"


#: Steps of a case that missed more appointments than config/offices.yaml allows.
REACH_PERSON, PROPOSE_CLOSURE = "referrer_reach_person", "propose_closure"


def _eligible(session: Session, office: str | None, case_codes: list[str] | None, today: date) -> list[Case]:
    """ACCEPTED cases and NO_SHOW ones with something to do today: not those waiting for the
    referrer's news (step not yet due) or for the CPI's closure proposal. A case named in
    ``case_codes`` is always picked: the operator asks for a new appointment."""
    query = select(Case).where(col(Case.state).in_([State.ACCEPTED, State.NO_SHOW]))
    if office:
        query = query.where(Case.office_code == office)
    if case_codes:
        query = query.where(col(Case.code).in_(case_codes))
    else:
        due = or_(col(Case.next_due).is_(None), col(Case.next_due) < today)
        query = query.where(
            or_(
                col(Case.state) == State.ACCEPTED,
                col(Case.next_step).is_(None),
                col(Case.next_step).not_in([REACH_PERSON, PROPOSE_CLOSURE]),
                and_(col(Case.next_step) == REACH_PERSON, due),  # no news from the referrer: propose closing
            )
        )
    return list(session.exec(query.order_by(col(Case.id))).all())


def _missed_counts(session: Session, cases: list[Case]) -> dict[int, int]:
    """Missed appointments per case id, counted from its NO_SHOW moves (case_event)."""
    out: dict[int, int] = {}
    for chunk in in_chunks([c.id for c in cases if c.id is not None]):
        rows = session.exec(
            select(CaseEvent.case_id, func.count())
            .where(col(CaseEvent.case_id).in_(chunk), CaseEvent.to_state == State.NO_SHOW)
            .group_by(col(CaseEvent.case_id))
        ).all()
        out.update({case_id: n for case_id, n in rows})
    return out


def schedule_intakes(
    session: Session,
    *,
    office: str | None = None,
    case_codes: list[str] | None = None,
    today: date,
    flow_run_id: str | None = None,
) -> dict[str, list[str]]:
    """Give every eligible case the earliest free slot at its office; returns codes per office.

    Slots lie inside the office's opening blocks, at most ``desks`` at once, never on a holiday
    or a closure (config/offices.yaml). A case that missed more appointments than
    ``max_reschedules`` gets none: its referrer is asked to reach the person, then the CPI is
    asked to propose closing the case (unless an operator names it in ``case_codes``).
    Idempotent: only ACCEPTED (or NO_SHOW, to reschedule) cases are picked, so a case reached
    by both a trigger and a sweep is scheduled once.
    """
    cases = _eligible(session, office, case_codes, today)
    missed = _missed_counts(session, [c for c in cases if c.state is State.NO_SHOW])
    rules = load_appointment_rules()
    named = set(case_codes or ())
    exhausted = {c.code for c in cases if missed.get(c.id or 0, 0) > rules.max_reschedules and c.code not in named}
    offices = {o.code: o for o in load_offices()}
    _follow_up_no_shows(session, [c for c in cases if c.code in exhausted], offices, missed, today=today)
    first_day = add_business_days(today, load_routing().intake.days_ahead_min)
    by_office: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        if case.office_code and case.code not in exhausted:
            by_office[case.office_code].append(case)
    scheduled: dict[str, list[str]] = {}
    for code, group in by_office.items():
        spec = offices[code]
        booked = session.exec(
            select(Case.intake_at).where(
                Case.office_code == code,
                Case.state == State.INTAKE_SCHEDULED,
                col(Case.intake_at) >= datetime.combine(first_day, time(0), tzinfo=ROME),
            )
        ).all()
        slots = allocate_slots(
            count=len(group),
            first_day=first_day,
            hours=spec.hours.by_weekday(),
            slot_minutes=spec.slot_minutes,
            desks=spec.desks,
            closed=rules.closed_days() | closed_days(spec.closures),
            booked=[b for b in booked if b is not None],
        )
        rescheduled = {c.code for c in group if c.state is State.NO_SHOW}
        consenting = consenting_persons(session, (c.person_key for c in group), ConsentPurpose.CPI_PROCESSING)
        for case, slot in zip(group, slots, strict=True):
            case.intake_at = slot
            # no consent yet (a file without consent columns): the office collects it at this intake
            reason = None if case.person_key in consenting else CONSENT_TO_COLLECT
            set_step(case, "intake", due=slot.date(), reason=reason)
            session.add(case)
        moves = [(case, f"slot:{slot:%Y-%m-%dT%H:%M}") for case, slot in zip(group, slots, strict=True)]
        transition_many(session, moves, State.INTAKE_SCHEDULED, actor=ACTOR, flow_run_id=flow_run_id, keep_step=True)
        _notify_appointments(session, list(zip(group, slots, strict=True)), spec, rescheduled)
        scheduled[code] = [c.code for c in group]
    return scheduled


def _follow_up_no_shows(
    session: Session, cases: list[Case], offices: dict[str, Office], missed: dict[int, int], *, today: date
) -> None:
    """Cases past their reschedules: the referrer (when the person let it be told) is asked to
    reach the person, one email per referrer and office; without a referrer, or once its step is
    due, the CPI is asked to propose the closure."""
    referrers = referrers_by_case(session, [c.id for c in cases if c.next_step != REACH_PERSON and c.id])
    asked: dict[tuple[str, str], tuple[Organisation, list[Case]]] = {}
    for case in cases:
        found = referrers.get(case.id or 0, [])
        if case.next_step == REACH_PERSON or not found or not case.office_code:
            set_step(case, PROPOSE_CLOSURE, today=today)
        else:
            set_step(case, REACH_PERSON, today=today, owner=found[0].code)
            for referrer in found:
                asked.setdefault((case.office_code, referrer.code), (referrer, []))[1].append(case)
        session.add(case)
    specs = []
    for (office_code, code), (referrer, group) in asked.items():
        office = offices[office_code]
        digest = hashlib.sha256(",".join(f"{c.code}#{missed.get(c.id or 0)}" for c in group).encode()).hexdigest()
        specs.append(
            EmailSpec(
                key=f"no-show:{office_code}:referrer:{code}:{digest[:16]}",
                kind="intake_no_show_referrer",
                recipient=referrer.email,
                recipient_code=code,
                case_code=group[0].code if len(group) == 1 else None,
                reply_to=office.email,
                context={
                    "cases": [
                        {"case_code": c.code, "missed": missed.get(c.id or 0, 0), "last_appointment": c.intake_at}
                        for c in group
                    ],
                    "reply_by": group[0].next_due,
                    "office_name": office.name,
                    "office_phone": office.phone,
                    "office_email": office.email,
                    "referrer_name": referrer.name,
                },
            )
        )
    enqueue_emails(session, specs)


def _notify_appointments(
    session: Session, appointments: list[tuple[Case, datetime]], office: Office, rescheduled: set[str]
) -> None:
    """Tell each candidate (when they gave an email) the date, and each referrer, in one digest,
    the dates of the people it referred (with their consent to the referrer being told), which
    are new appointments after an absence and who has no email, so the volunteer tells them.

    Batched: the people, referrers and already-queued keys of the whole office in a few
    queries, the emails in one multi-row INSERT.
    """
    keys = sorted({case.person_key for case, _ in appointments})
    people: dict[str, tuple[str | None, str]] = {}
    for chunk in in_chunks(keys):
        rows = session.exec(
            select(Person.key, Person.email, Person.preferred_language).where(col(Person.key).in_(chunk))
        ).all()
        people.update({key: (email, Language(language).value) for key, email, language in rows})
    referrers = referrers_by_case(session, [case.id for case, _ in appointments if case.id is not None])
    specs: list[EmailSpec] = []
    by_referrer: dict[str, tuple[Organisation, list[dict[str, Any]]]] = {}
    for case, slot in appointments:
        context = {
            "case_code": case.code,
            "office_name": office.name,
            "office_address": office.address,
            "office_phone": office.phone,
            "office_email": office.email,
            "appointment_at": slot,
            "rescheduled": case.code in rescheduled,  # "a new appointment", not "a first meeting"
        }
        stamp = f"{slot:%Y%m%d%H%M}"
        email, language = people.get(case.person_key, (None, "it"))
        if email:
            audit_read(session, actor=ACTOR, case_code=case.code, purpose="avviso di appuntamento al candidato")
            specs.append(
                EmailSpec(
                    key=f"case:{case.code}:intake-scheduled:{stamp}:candidate",
                    kind="intake_appointment_candidate",
                    recipient=email,
                    language=language,
                    case_code=case.code,
                    person_key=case.person_key,
                    reply_to=office.email,
                    context=context,
                )
            )
        for referrer in referrers.get(case.id or 0, []):
            by_referrer.setdefault(referrer.code, (referrer, []))[1].append(
                {
                    "case_code": case.code,
                    "appointment_at": slot,
                    "rescheduled": case.code in rescheduled,
                    "without_email": not email,  # the referrer tells the person
                }
            )
    for code, (referrer, items) in by_referrer.items():
        # One digest per referrer and office; the key is the set of appointments, so a rerun
        # adds nothing and a later run with other cases sends its own digest.
        digest = hashlib.sha256(
            ",".join(f"{a['case_code']}@{a['appointment_at']:%Y%m%d%H%M}" for a in items).encode()
        ).hexdigest()[:16]
        specs.append(
            EmailSpec(
                key=f"intake-scheduled:{office.code}:referrer:{code}:{digest}",
                kind="intake_appointment_referrer",
                recipient=referrer.email,
                recipient_code=code,
                case_code=items[0]["case_code"] if len(items) == 1 else None,
                reply_to=office.email,
                context={
                    "appointments": items,
                    "office_name": office.name,
                    "office_address": office.address,
                    "office_phone": office.phone,
                    "referrer_name": referrer.name,
                },
            )
        )
    enqueue_emails(session, specs)


def scheduled_cases(session: Session, office: str, up_to: date) -> list[str]:
    """Codes of the office's cases with an intake appointment on or before ``up_to``."""
    rows = session.exec(
        select(Case.code)
        .where(
            Case.office_code == office,
            Case.state == State.INTAKE_SCHEDULED,
            col(Case.intake_at) < day_start(up_to + timedelta(days=1)),
        )
        .order_by(col(Case.intake_at), col(Case.code))  # a stable form: same slot, same order
    ).all()
    return list(rows)


def suggested_results(session: Session, case_codes: list[str]) -> list[IntakeResult]:
    """Pre-filled form rows: the occupations the coder is sure of in the referral's text (an
    unsure one is left to the operator: :func:`occupations_to_choose`), self-reported Italian,
    skills and languages read in what the referrer wrote (codes of config/skills.yaml only)."""
    from tasks.matching.skills import suggested_skills

    out = []
    for code in case_codes:
        case = session.exec(select(Case).where(Case.code == code)).one()
        ref = session.exec(select(Referral).where(Referral.case_id == case.id).order_by(col(Referral.id))).first()
        spoken = session.exec(select(Person.languages).where(Person.key == case.person_key)).first() or []
        texts = [ref.experiences_text, ref.licence_text] if ref else []
        skills, languages = suggested_skills([*texts, ", ".join(spoken)])
        level = Cefr(ref.self_italian_level) if ref and ref.self_italian_level else Cefr.PRE_A1
        codings = _occupation_codings(ref.experiences_text if ref else None)
        occupations = list(dict.fromkeys(c.code for c in codings if c.code))[:3]
        out.append(
            IntakeResult(
                case_code=code,
                listening=level,
                reading=level,
                interaction=level,
                production=level,
                writing=level,
                occupations=occupations,
                skills=skills,
                languages=languages,
            )
        )
    return out


def _occupation_codings(text: str | None) -> list[Coding]:
    """One coding per job the text lists ("saldatore, carpentiere"), else one for the whole text."""
    from tasks.matching.occupations import default_coder, split_titles

    if not text:
        return []
    titles = split_titles(text)
    return default_coder().suggest_many(titles if len(titles) > 1 else [text])


def occupations_to_choose(session: Session, case_codes: list[str]) -> dict[str, list[list[tuple[str, str]]]]:
    """Per case, the jobs of the referral the coder is unsure of, each as its top 3 (code,
    Italian label): for the operator to choose from where the form is shown. Codes only, no text."""
    from tasks.matching.occupations import default_coder

    coder = default_coder()
    out: dict[str, list[list[tuple[str, str]]]] = {}
    rows = session.exec(
        select(Case.code, Referral.experiences_text)
        .join(Referral, col(Referral.case_id) == col(Case.id))
        .where(col(Case.code).in_(case_codes))
        .order_by(col(Case.code), col(Referral.id))
    ).all()
    for code, text in rows:
        if code in out:
            continue  # the first referral, as the pre-filled row
        unsure = [c for c in _occupation_codings(text) if c.to_confirm and c.candidates]
        out[code] = [[(c, coder.label(c)) for c, _ in coding.candidates] for coding in unsure]
    return {code: choices for code, choices in out.items() if choices}


def occupation_hints(session: Session, case_codes: list[str]) -> str:
    """The form's note on jobs the coder is unsure of: per case, the three codes to choose from
    with their Italian names (case and job codes only, so Prefect may store it); "" if none."""
    choices = occupations_to_choose(session, case_codes)
    if not choices:
        return ""
    lines = ["**Mansioni da scegliere al colloquio** (la segnalazione non basta per essere sicuri):"]
    for code, jobs in sorted(choices.items()):
        options = "; ".join(" oppure ".join(f"{c} {label}" for c, label in job) for job in jobs)
        lines.append(f"- {code}: {options}")
    return "\n".join(lines)


@dataclass
class IntakeOutcome:
    done: list[str] = field(default_factory=list)
    literacy: list[str] = field(default_factory=list)
    profile_ready: list[str] = field(default_factory=list)
    no_show: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    consent_refused: list[str] = field(default_factory=list)


def validate_intake(session: Session, expected: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """Problems with a submitted form, in Italian (empty = acceptable)."""
    from config.data import load_taxonomy
    from tasks.matching.skills import form_problems

    results = [IntakeResult.model_validate(r) for r in rows]
    problems = []
    given = [r.case_code for r in results]
    if sorted(set(given)) != sorted(set(expected)):
        missing = sorted(set(expected) - set(given))
        extra = sorted(set(given) - set(expected))
        if missing:
            problems.append("mancano gli esiti delle pratiche: " + ", ".join(missing))
        if extra:
            problems.append("pratiche non previste in questo modulo: " + ", ".join(extra))
    if len(given) != len(set(given)):
        problems.append("una pratica compare più volte")
    known = load_taxonomy().by_code
    for r in results:
        unknown = [c for c in r.occupations if c not in known]
        if unknown:
            problems.append(f"{r.case_code}: codici ISCO non presenti nella tassonomia: {', '.join(unknown)}")
        if r.present and not r.occupations:
            problems.append(f"{r.case_code}: indicare almeno una mansione")
        problems += [f"{r.case_code}: {p}" for p in form_problems(r.skills, r.languages)]
    for code in _without_consent(session, [r.case_code for r in results if r.present and r.consent_privacy is None]):
        problems.append(
            f"{code}: consenso al trattamento dei dati da raccogliere (segnalazione senza consenso): "
            "indicare Sì se la persona lo ha dato, No se lo ha rifiutato"
        )
    return problems


def _without_consent(session: Session, codes: list[str]) -> list[str]:
    """Which of the cases ``codes`` have no consent to processing yet (to collect at the intake)."""
    rows: list[tuple[str, str]] = []
    for chunk in in_chunks(sorted(set(codes))):
        rows += list(session.exec(select(Case.code, Case.person_key).where(col(Case.code).in_(chunk))).all())
    consenting = consenting_persons(session, (key for _, key in rows), ConsentPurpose.CPI_PROCESSING)
    return [code for code, key in rows if key not in consenting]


def record_intake(
    session: Session, rows: list[dict[str, Any]], *, today: date, flow_run_id: str | None = None
) -> IntakeOutcome:
    """Store assessments and profiles, move each case to INTAKE_DONE and route it onwards.

    Takes plain dicts (what the form submitted) and validates them again here.
    """
    from config.skills import load_skills
    from tasks.matching.skills import profile_skill_codes

    results = [IntakeResult.model_validate(r) for r in rows]
    rules = load_routing().literacy
    threshold = Cefr(rules.threshold)
    catalogue = load_skills()
    outcome = IntakeOutcome()
    cases = _cases_by_code(session, [r.case_code for r in results])
    towns = municipalities_of(session, cases.values())
    profiles: dict[int, Profile] = {}
    for chunk in in_chunks([c.id for c in cases.values() if c.id is not None]):
        profiles.update(
            {p.case_id: p for p in session.exec(select(Profile).where(col(Profile.case_id).in_(chunk))).all()}
        )
    no_show: list[tuple[Case, str | None]] = []
    refused: list[tuple[Case, str | None]] = []
    done: list[tuple[Case, str | None]] = []
    missing = set(_without_consent(session, [r.case_code for r in results if r.present]))
    routed: dict[State, list[tuple[Case, str | None]]] = defaultdict(list)
    consents: dict[ConsentPurpose, list[str]] = defaultdict(list)
    for r in results:
        case = cases[r.case_code]
        if case.state is not State.INTAKE_SCHEDULED:
            outcome.skipped.append(case.code)  # already recorded by an earlier run: idempotent
            continue
        if not r.present:
            no_show.append((case, "assente"))
            outcome.no_show.append(case.code)
            continue
        if case.code in missing:  # referred without consent: recorded (or refused) at this intake
            if r.consent_privacy is None:
                outcome.skipped.append(case.code)  # the form check asks for it
                continue
            if not r.consent_privacy:
                refused.append((case, "no_consent"))
                outcome.consent_refused.append(case.code)
                continue
            consents[ConsentPurpose.CPI_PROCESSING].append(case.person_key)
            consents[ConsentPurpose.REFERRER_CONTACT].append(case.person_key)
        levels = {s: getattr(r, s) for s in SKILLS}
        assert case.id is not None
        session.add(Assessment(case_id=case.id, source=AssessmentSource.UNIBG_TEST, assessed_on=today, **levels))
        profile = profiles.get(case.id) or Profile(case_id=case.id)
        profile.occupations, profile.experience_years = list(r.occupations), r.experience_years
        profile.education, profile.recognition, profile.licence = r.education, r.recognition, r.licence
        profile.availability, profile.shifts, profile.mobility_km = r.availability.value, r.shifts, r.mobility_km
        profile.italian, profile.area = overall_level(levels, rules.rule), towns.get(case.person_key)
        profile.skills = profile_skill_codes(r.skills, r.languages, catalogue)
        session.add(profile)
        if r.consent_confindustria:
            consents[ConsentPurpose.PROFILE_TO_CONFINDUSTRIA].append(case.person_key)
        if r.consent_cpia:
            consents[ConsentPurpose.CPIA_ENROLMENT].append(case.person_key)
        case.next_step, case.next_due = None, None
        session.add(case)
        done.append((case, "colloquio"))
        target = route_after_assessment(levels, threshold, rules.rule)
        routed[target].append((case, f"italiano {profile.italian.value} vs {threshold.value}"))
        outcome.done.append(case.code)
        (outcome.literacy if target is State.LITERACY else outcome.profile_ready).append(case.code)
    for purpose, keys in consents.items():
        grant_consents(session, keys, purpose, source="intake")
    transition_many(session, no_show, State.NO_SHOW, actor=ACTOR, flow_run_id=flow_run_id)
    transition_many(session, refused, State.WITHDRAWN, actor=ACTOR, flow_run_id=flow_run_id)
    transition_many(session, done, State.INTAKE_DONE, actor=ACTOR, flow_run_id=flow_run_id)
    for target, moves in routed.items():
        transition_many(session, moves, target, actor=ACTOR, flow_run_id=flow_run_id)
    return outcome


def _cases_by_code(session: Session, codes: list[str]) -> dict[str, Case]:
    """The cases of ``codes`` in one query per 1,000; an unknown code is a clear error."""
    found: dict[str, Case] = {}
    unique = sorted(set(codes))
    for chunk in in_chunks(unique):
        for case in session.exec(select(Case).where(col(Case.code).in_(chunk))).all():
            found[case.code] = case
    missing = [c for c in unique if c not in found]
    if missing:
        raise ValueError(f"pratiche sconosciute: {', '.join(missing[:10])}")
    return found
