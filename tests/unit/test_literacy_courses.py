"""Literacy: dropped is not failed, two courses without progress go to the coordination table, and
the literacy stage starts on routing and weekly (deploy/specs.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from prefect.events.schemas.events import matches
from sqlmodel import Session, col, select

from deploy.specs import DEPLOYMENTS
from models.cases import Assessment, Case, Enrollment
from models.enums import Cefr, ConsentPurpose, State
from models.forms import TavoloDecisionKind
from models.ops import Outbox
from models.policy import TavoloMeeting
from tasks.core.transitions import transition
from tasks.literacy import (
    awaiting_reassessment,
    course_problems,
    previous_course_note,
    reassess,
    record_course_outcomes,
    request_enrolments,
    stalled,
)
from tasks.policy.tavolo import open_meeting, record_tavolo_decisions, tavolo_initial, validate_tavolo
from tasks.runtime.event_names import CASE_LITERACY
from tasks.runtime.events import case_event, fan_in
from tests.factories import make_case, seed_partners
from tests.invariants import assert_no_dead_ends

SKILLS = ("listening", "reading", "interaction", "production", "writing")
CPIA = (ConsentPurpose.CPI_PROCESSING, ConsentPurpose.CPIA_ENROLMENT)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], False),
        (["failed"], False),
        (["dropped"], False),
        (["failed", "dropped"], True),
        (["dropped", "dropped"], True),
        (["failed", "passed"], False),  # a pass is progress
        (["passed", "failed"], False),  # only one without progress since
        (["passed", "failed", "dropped"], True),
        (["failed", "consent_withdrawn", "failed"], True),  # a course closed by a withdrawal is no course
        (["failed", None], False),  # the second is still open
    ],
)
def test_two_courses_in_a_row_without_a_pass_stall(outcomes: list[str | None], expected: bool) -> None:
    assert stalled(outcomes) is expected


def test_the_cpia_is_told_about_earlier_courses_in_italian() -> None:
    assert previous_course_note(None, 0) is None
    assert previous_course_note("dropped", 1) == "la persona si è ritirata dal corso precedente"
    assert previous_course_note("failed", 1) == "la persona ha frequentato il corso precedente senza superarlo"
    note = previous_course_note("passed", 2)
    assert note is not None and note.startswith("2 corsi già frequentati") and "livello successivo" in note


def test_the_outcome_form_needs_levels_except_for_who_dropped_out() -> None:
    levels = dict.fromkeys(SKILLS, "A1")
    rows: list[dict[str, Any]] = [
        {"case_code": "BG-2026-000101", "outcome": "dropped"},
        {"case_code": "BG-2026-000102", "outcome": "failed", **levels},
        {"case_code": "BG-2026-000103", "outcome": "passed"},
        {"case_code": "BG-2026-000999", "outcome": "passed", **levels},
    ]
    problems = course_problems(["BG-2026-000101", "BG-2026-000102", "BG-2026-000103"], rows)
    assert problems == [
        "BG-2026-000103: corso superato: indicare i livelli certificati dal CPIA in tutte e cinque le abilità "
        "(vuoti solo per chi si è ritirato)",
        "BG-2026-000999: nessun corso aperto per questa pratica",
    ]


def _course_of(session: Session, case: Case) -> Enrollment | None:
    return session.exec(
        select(Enrollment).where(Enrollment.case_id == case.id, col(Enrollment.outcome).is_(None))
    ).first()


def test_dropped_and_failed_are_recorded_apart_and_two_go_to_the_table(session: Session) -> None:
    seed_partners(session)
    # Mamadou lives in Romano di Lombardia: his courses are at the Romano site, not in Bergamo
    case = make_case(
        session,
        state=State.LITERACY,
        office="CPI-ROM",
        consents=CPIA,
        profile={"italian": Cefr.PRE_A1},
        family_name="Diallo",
        given_names="Mamadou",
        municipality="Romano di Lombardia",
        phone="+393331234567",
    )
    assert request_enrolments(session, today=date(2026, 9, 14)) == {"CPIA-ROM": [case.code]}
    session.commit()
    first = _course_of(session, case)
    assert first is not None and first.level is Cefr.A1

    # He leaves the course in November: no certificate, the intake levels stand
    assessments = len(session.exec(select(Assessment).where(Assessment.case_id == case.id)).all())
    assert record_course_outcomes(session, [{"case_code": case.code, "outcome": "dropped"}], today=date(2026, 11, 20))
    session.commit()
    assert len(session.exec(select(Assessment).where(Assessment.case_id == case.id)).all()) == assessments
    assert (case.next_step, case.owner) == ("reassess_literacy", "CPI-ROM")
    routed = reassess(session, today=date(2026, 11, 20))
    session.commit()
    assert routed.re_enrolled == [case.code] and routed.to_tavolo == []
    assert reassess(session, today=date(2026, 11, 21)).re_enrolled == []  # routed once, not every sweep
    assert_no_dead_ends(session)

    # The new request tells the site he dropped out of the first course
    assert request_enrolments(session, today=date(2026, 11, 23)) == {"CPIA-ROM": [case.code]}
    session.commit()
    second_request = session.exec(
        select(Outbox).where(Outbox.kind == "cpia_enrolment_request").order_by(col(Outbox.id).desc())
    ).first()
    assert second_request is not None and "si è ritirata dal corso precedente" in second_request.body_text

    # He attends the second course but does not pass: levels certified, still A1
    levels = {"listening": "A2", "reading": "A1", "interaction": "A1", "production": "A1", "writing": "pre-A1"}
    record_course_outcomes(session, [{"case_code": case.code, "outcome": "failed", **levels}], today=date(2027, 2, 26))
    session.commit()
    routed = reassess(session, today=date(2027, 2, 26))
    session.commit()
    assert routed.to_tavolo == [case.code] and routed.re_enrolled == []
    session.refresh(case)
    assert case.state is State.LITERACY
    assert (case.next_step, case.owner) == ("literacy_tavolo", "coordinators") and case.next_due is not None
    outcomes = session.exec(
        select(Enrollment.outcome).where(Enrollment.case_id == case.id).order_by(col(Enrollment.id))
    ).all()
    assert outcomes == ["dropped", "failed"]
    assert request_enrolments(session, today=date(2027, 3, 1)) == {}  # no third request: the table decides
    assert awaiting_reassessment(session) == []
    assert_no_dead_ends(session)

    # The table sees him on its agenda and decides one more course
    agenda, _ = open_meeting(session, held_on=date(2027, 3, 2))
    session.commit()
    assert [(r["case_code"], r["courses"], r["last"]) for r in agenda.literacy] == [
        (case.code, "2", "ritirato, non superato")
    ]
    rows = tavolo_initial(session, held_on=date(2027, 3, 2))
    assert {"case_code": case.code, "decision": "defer", "measure": ""} in rows
    wrong = [{"case_code": case.code, "decision": TavoloDecisionKind.BACK_TO_POOL.value, "measure": ""}]
    assert validate_tavolo(session, wrong, held_on=date(2027, 3, 2)) == [
        f"{case.code}: per chi non progredisce nei corsi di italiano: «un altro corso di italiano al CPIA», "
        "«preparare il profilo senza il livello di italiano richiesto», «rinviare al prossimo tavolo» "
        "o «chiudere la pratica»"
    ]
    again = [{"case_code": case.code, "decision": TavoloDecisionKind.NEW_COURSE.value, "measure": ""}]
    assert validate_tavolo(session, again, held_on=date(2027, 3, 2)) == []
    record_tavolo_decisions(session, again, held_on=date(2027, 3, 2))
    session.commit()
    assert session.exec(select(TavoloMeeting)).one().decisions_recorded == 1
    assert request_enrolments(session, today=date(2027, 3, 8)) == {"CPIA-ROM": [case.code]}
    session.commit()
    assert_no_dead_ends(session)


def test_a_pass_below_the_threshold_asks_the_next_level_not_the_table(session: Session) -> None:
    seed_partners(session)
    case = make_case(
        session,
        state=State.LITERACY,
        office="CPI-CLU",
        consents=CPIA,
        profile={"italian": Cefr.PRE_A1},
        municipality="Clusone",
    )
    request_enrolments(session, today=date(2026, 9, 14))
    record_course_outcomes(
        session,
        [{"case_code": case.code, "outcome": "failed", **dict.fromkeys(SKILLS, "pre-A1")}],
        today=date(2026, 12, 1),
    )
    reassess(session, today=date(2026, 12, 1))
    request_enrolments(session, today=date(2026, 12, 7))
    record_course_outcomes(
        session, [{"case_code": case.code, "outcome": "passed", **dict.fromkeys(SKILLS, "A1")}], today=date(2027, 3, 1)
    )
    routed = reassess(session, today=date(2027, 3, 1))
    session.commit()
    assert routed.re_enrolled == [case.code] and routed.to_tavolo == []
    assert request_enrolments(session, today=date(2027, 3, 8)) == {"CPIA-CLU": [case.code]}
    session.commit()
    course = _course_of(session, case)
    assert course is not None and course.level is Cefr.A2  # the next level up, at the Clusone site


# --------------------------------------------------------------------------------------------
# What starts the literacy stage


def _literacy_deployment() -> Any:
    return next(d for d in DEPLOYMENTS if d.name == "literacy")


def test_routing_to_literacy_starts_the_requests_and_a_weekly_run_catches_up(session: Session) -> None:
    spec = _literacy_deployment()
    assert [s.as_dict() for s in spec.schedules] == [{"cron": "0 8 * * 1", "timezone": "Europe/Rome"}]
    (trigger,) = spec.triggers
    assert trigger.expect == CASE_LITERACY == "incontro.case.literacy"
    # a burst of routed cases starts one run, not one per case, and the run starts after the events
    # the trigger ignored (Prefect drops them for ``within`` seconds after firing): none is lost
    assert trigger.as_dict()["within"] == 30
    assert trigger.as_dict()["schedule_after"] == trigger.as_dict()["within"]

    # the intake's routing moves a case to LITERACY: that transition queues the event the trigger waits for
    seed_partners(session)
    case = make_case(session, state=State.INTAKE_DONE, office="CPI-ZOG")
    transition(session, case, State.LITERACY, actor="flow:intake", reason="italiano A1")
    queued = session.info.get("incontro_pending_events", [])
    routed = [e for e in queued if e.name == trigger.expect]
    assert [e.resource_id for e in routed] == [f"incontro.case.{case.code}"]
    session.rollback()

    # one case's event, and the summary a bulk move sends instead, both match the trigger
    one = case_event(case.code, "CPI-ZOG", "intake_done", "literacy")
    bulk = fan_in([case_event(f"BG-2026-{n:06d}", "CPI-ZOG", "intake_done", "literacy") for n in range(5)], 2)
    assert bulk and all(e.resource_id.startswith("incontro.cases.") for e in bulk)
    for event in [one, *bulk]:
        assert event.name == trigger.expect and matches(trigger.resource, event.resource_id)
    assert not matches(trigger.resource, "incontro.import.12")


def test_the_coordinators_choose_a_site_from_a_closed_list() -> None:
    """The site chosen for a case with no site of its own is a drop-down of config/cpia.yaml: the
    server refuses a name or a padded code before storing the run."""
    from prefect.utilities.schema_tools import validate

    from config.cpia import load_cpia_sites
    from deploy.serve import build

    schema = build(_literacy_deployment())._parameter_openapi_schema.model_dump_for_openapi()
    prop = schema["properties"]["cpia"]
    assert prop["title"] == "Sede CPIA" and prop["default"] is None
    (ref,) = [p["$ref"] for p in prop["anyOf"] if "$ref" in p]
    choices = schema["definitions"][ref.rsplit("/", 1)[-1]]["enum"]
    assert choices == [s.code for s in load_cpia_sites().sites]
    assert validate({"cpia": "CPIA-ZOG"}, schema, ignore_required=True) == []
    for bad in ("Olena Kovalenko", "CPIA-ZOG\n", "CPIA-XX"):
        assert validate({"cpia": bad}, schema, ignore_required=True) != [], bad


def test_the_table_may_send_a_stalled_learner_on_to_the_job_profile(session: Session) -> None:
    from tasks.core.next_steps import set_step

    seed_partners(session)
    stuck = make_case(session, state=State.LITERACY, office="CPI-LOV", consents=CPIA, profile={"italian": Cefr.A1})
    for outcome in ("failed", "failed"):
        session.add(Enrollment(case_id=stuck.id or 0, cpia_code="CPIA-LOV", level=Cefr.A2, outcome=outcome))
    set_step(stuck, "literacy_tavolo", today=date(2027, 1, 11), owner="coordinators")
    session.add(stuck)
    learner = make_case(session, state=State.LITERACY, office="CPI-LOV", consents=CPIA, profile={})
    session.commit()
    held_on = date(2027, 2, 2)
    agenda, _ = open_meeting(session, held_on=held_on)
    session.commit()
    assert [r["case_code"] for r in agenda.literacy] == [stuck.code]  # not the learner with no course yet
    not_on_agenda = [{"case_code": learner.code, "decision": "new_course", "measure": ""}]
    assert validate_tavolo(session, not_on_agenda, held_on=held_on) == [
        f"{learner.code}: pratica non all'ordine del giorno"
    ]
    record_tavolo_decisions(session, [{"case_code": stuck.code, "decision": "profile", "measure": ""}], held_on=held_on)
    session.commit()
    session.refresh(stuck)
    assert stuck.state is State.PROFILE_READY and stuck.next_step is not None
    assert_no_dead_ends(session)
