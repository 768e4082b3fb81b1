"""Stage 3 – literacy: CPIA enrolment requests, then course outcomes and re-assessment."""

from __future__ import annotations

import hashlib
from typing import Any

from flows._params import AsOf, CaseCodes
from flows._stage import stage_flow
from models import clock
from models.enums import Cefr
from models.forms import LiteracyForm, LiteracyResult
from tasks.literacy import enrolled_cases, reassess, record_course_outcomes, request_enrolments
from tasks.mail.notify import send_outbox
from tasks.runtime.steps import ask_operator, db_step

enrol = db_step(request_enrolments)
list_enrolled = db_step(enrolled_cases)
record = db_step(record_course_outcomes)
route = db_step(reassess)


@stage_flow("literacy")
def literacy(case_codes: CaseCodes = None, as_of: AsOf = None) -> dict[str, Any]:
    """Ask the CPIA to enrol every LITERACY case that has no open course (consent required).

    Args:
        case_codes: Codici pratica; vuoto = tutte le pratiche in alfabetizzazione senza corso.
        as_of: Data della richiesta; vuoto = oggi.
    """
    requested = enrol(case_codes=case_codes, today=as_of or clock.today())
    sent = send_outbox()
    return {"requested": {k: len(v) for k, v in requested.items()}, "emails": sent}


@stage_flow("literacy-outcomes")
def literacy_outcomes(case_codes: CaseCodes = None, as_of: AsOf = None) -> dict[str, Any]:
    """Record CPIA course outcomes and certified levels (the re-assessment follows by event).

    Args:
        case_codes: Codici pratica; vuoto = tutti i corsi aperti.
        as_of: Data degli esiti; vuoto = oggi.
    """
    today = as_of or clock.today()
    codes = case_codes or list_enrolled()
    if not codes:
        return {"cases": 0}
    key = "literacy-" + hashlib.sha256(",".join(sorted(codes)).encode()).hexdigest()[:12]
    initial = [
        LiteracyResult(
            case_code=c,
            outcome="passed",
            listening=Cefr.A2,
            reading=Cefr.A2,
            interaction=Cefr.A2,
            production=Cefr.A2,
            writing=Cefr.A2,
        )
        for c in codes
    ]
    form = ask_operator(
        LiteracyForm,
        key=key,
        initial={"results": initial},
        description=f"**Esiti corsi CPIA** – {len(codes)} pratiche: esito e livelli QCER per abilità.",
    )
    recorded = record([r.model_dump(mode="json") for r in form.results if r.case_code in codes], today=today)
    return {"recorded": len(recorded)}


@stage_flow("reassessment")
def reassessment(case_codes: CaseCodes = None, as_of: AsOf = None) -> dict[str, Any]:
    """Re-assess cases whose CPIA course ended: PROFILE_READY, or a new course request.

    Args:
        case_codes: Codici pratica; vuoto = tutte le pratiche con corso concluso.
        as_of: Data di riferimento; vuoto = oggi.
    """
    outcome = route(case_codes=case_codes)
    again = enrol(case_codes=outcome.re_enrolled, today=as_of or clock.today()) if outcome.re_enrolled else {}
    sent = send_outbox()
    return {
        "profile_ready": len(outcome.profile_ready),
        "re_enrolled": len(outcome.re_enrolled),
        "requests": sum(len(v) for v in again.values()),
        "emails": sent,
    }
