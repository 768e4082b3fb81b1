"""Stage 2 – intake: schedule appointments, then record the operator's intake form."""

from __future__ import annotations

import hashlib
from typing import Any

from flows._params import AsOf, CaseCodes, FormOffice, Office, UpTo
from flows._stage import stage_flow
from models import clock
from models.forms import IntakeForm
from tasks.intake import (
    occupation_hints,
    record_intake,
    schedule_intakes,
    scheduled_cases,
    suggested_results,
    validate_intake,
)
from tasks.mail.notify import send_outbox
from tasks.runtime.steps import ask_until_valid, db_step

schedule = db_step(schedule_intakes)
list_scheduled = db_step(scheduled_cases)
suggest = db_step(suggested_results)
hints = db_step(occupation_hints)
check_form = db_step(validate_intake)
record = db_step(record_intake)


def _office_name(code: str) -> str:
    """The office as its operators call it (the form's heading), not its code."""
    from config.data import load_offices

    return next((o.name for o in load_offices() if o.code == code), code)


@stage_flow("intake")
def intake(office: Office = None, case_codes: CaseCodes = None, as_of: AsOf = None) -> dict[str, Any]:
    """Give accepted cases an appointment at their CPI and tell the candidate and the referrer.

    Args:
        office: Centro per l'Impiego; vuoto = tutti i CPI.
        case_codes: Codici pratica (es. BG-2026-000123); vuoto = tutte le pratiche accettate.
        as_of: Data di riferimento per il calendario; vuoto = oggi.
    """
    today = as_of or clock.today()
    scheduled = schedule(office=office.value if office else None, case_codes=case_codes, today=today)
    sent = send_outbox()
    return {"scheduled": {k: len(v) for k, v in scheduled.items()}, "emails": sent}


@stage_flow("intake-form")
def intake_form(office: FormOffice, up_to: UpTo = None, case_codes: CaseCodes = None) -> dict[str, Any]:
    """Wait for the office's intake results (one row per appointment), then route each case.

    Args:
        office: Centro per l'Impiego del modulo.
        up_to: Colloqui fino a questa data compresa; vuoto = oggi.
        case_codes: Solo queste pratiche; vuoto = tutti i colloqui programmati fino alla data.
    """
    day = up_to or clock.today()
    codes = case_codes or list_scheduled(office.value, day)
    if not codes:
        return {"cases": 0}
    key = "intake-" + hashlib.sha256(",".join(sorted(codes)).encode()).hexdigest()[:12]
    initial = suggest(codes)
    description = (
        f"**Colloqui di presa in carico – {_office_name(office.value)}**\n\nCompilare una riga per pratica "
        f"({len(codes)}): livelli di italiano (QCER) per abilità, titolo di studio, mansioni, "
        "patente, disponibilità e consensi. Solo campi strutturati: niente nomi né note libere."
    )
    if to_choose := hints(codes):
        description += "\n\n" + to_choose
    from tasks.matching.skills import intake_lists  # here: the scheduling flow starts without rapidfuzz

    answers, attempts = ask_until_valid(
        IntakeForm.listing(**intake_lists()),  # skills and languages listed by their Italian words
        key=key,
        description=description,
        field="results",
        initial=initial,
        check=lambda rows: check_form(codes, rows),
    )
    outcome = record(answers, today=day)
    sent = send_outbox()
    return {
        "done": len(outcome.done),
        "literacy": len(outcome.literacy),
        "profile_ready": len(outcome.profile_ready),
        "no_show": len(outcome.no_show),
        "attempts": attempts,
        "emails": sent,
    }
