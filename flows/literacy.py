"""Stage 3 – literacy: CPIA enrolment requests, then course outcomes and re-assessment."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Any

from config.cpia import load_cpia_sites
from flows._params import AsOf, CaseCodes, known, label, members
from flows._stage import stage_flow
from models import clock
from models.forms import CourseOutcome, LiteracyForm, LiteracyResult
from tasks.literacy import (
    awaiting_cpia_choice,
    course_problems,
    enrolled_cases,
    reassess,
    record_course_outcomes,
    request_enrolments,
)
from tasks.mail.notify import send_outbox
from tasks.runtime.steps import ask_until_valid, db_step

enrol = db_step(request_enrolments)
list_choices = db_step(awaiting_cpia_choice)
list_enrolled = db_step(enrolled_cases)
record = db_step(record_course_outcomes)
route = db_step(reassess)

#: The CPIA sites (config/cpia.yaml): the coordinators' choice when no site serves a person's area.
CpiaSiteCode = StrEnum("CpiaSiteCode", members(s.code for s in load_cpia_sites().sites))  # type: ignore[misc]
CpiaSite = Annotated[CpiaSiteCode | None, known(CpiaSiteCode), label("Sede CPIA")]  # type: ignore[valid-type]


@stage_flow("literacy")
def literacy(case_codes: CaseCodes = None, as_of: AsOf = None, cpia: CpiaSite = None) -> dict[str, Any]:
    """Ask the CPIA site serving each LITERACY case without a course to enrol it (consent required).

    Started when the intake routes cases to literacy, and weekly.

    Args:
        case_codes: Codici pratica; vuoto = tutte le pratiche in alfabetizzazione senza corso.
        as_of: Data della richiesta; vuoto = oggi.
        cpia: Sede CPIA scelta dal coordinamento per le pratiche indicate; vuoto = la sede della zona.
    """
    if cpia is not None and not case_codes:
        raise ValueError("la sede CPIA si sceglie per pratiche precise: indicare i codici pratica")
    site = None if cpia is None else str(getattr(cpia, "value", cpia))
    requested = enrol(case_codes=case_codes, today=as_of or clock.today(), cpia_code=site)
    waiting = list_choices()
    sent = send_outbox()
    return {"requested": {k: len(v) for k, v in requested.items()}, "choose_cpia": len(waiting), "emails": sent}


@stage_flow("literacy-outcomes")
def literacy_outcomes(case_codes: CaseCodes = None, as_of: AsOf = None) -> dict[str, Any]:
    """Record CPIA course outcomes and certified levels (the re-assessment follows by event).

    Args:
        case_codes: Codici pratica; vuoto = tutti i corsi aperti.
        as_of: Data degli esiti; vuoto = oggi.
    """
    today = as_of or clock.today()
    open_codes = list_enrolled()
    codes = [c for c in case_codes or open_codes if c in open_codes]
    if not codes:
        return {"cases": 0}
    key = "literacy-" + hashlib.sha256(",".join(sorted(codes)).encode()).hexdigest()[:12]
    initial = [LiteracyResult(case_code=c, outcome=CourseOutcome.PASSED) for c in codes]
    answers, attempts = ask_until_valid(
        LiteracyForm,
        key=key,
        description=f"**Esiti corsi CPIA** – {len(codes)} pratiche: esito del corso (superato, non superato, "
        "ritirato o abbandonato) e livelli QCER certificati per abilità (vuoti per chi si è ritirato).",
        field="results",
        initial=initial,
        check=lambda rows: course_problems(codes, rows),
    )
    recorded = record(answers, today=today)
    return {"recorded": len(recorded), "attempts": attempts}


@stage_flow("reassessment")
def reassessment(case_codes: CaseCodes = None, as_of: AsOf = None) -> dict[str, Any]:
    """Re-assess cases whose CPIA course ended: PROFILE_READY, a new course request, or the table.

    Args:
        case_codes: Codici pratica; vuoto = tutte le pratiche con corso concluso.
        as_of: Data di riferimento; vuoto = oggi.
    """
    today = as_of or clock.today()
    outcome = route(case_codes=case_codes, today=today)
    again = enrol(case_codes=outcome.re_enrolled, today=today) if outcome.re_enrolled else {}
    sent = send_outbox()
    return {
        "profile_ready": len(outcome.profile_ready),
        "re_enrolled": len(outcome.re_enrolled),
        "to_tavolo": len(outcome.to_tavolo),
        "requests": sum(len(v) for v in again.values()),
        "emails": sent,
    }
