"""Maintenance: the safety-net sweep (anything an event missed, imports a killed run left
halfway) and the outbox drain."""

from __future__ import annotations

from typing import Any

from flows._params import AsOf
from flows._stage import stage_flow
from flows.intake import schedule
from flows.literacy import route as reassess_due
from flows.referral import complete_import, finish
from models import clock
from tasks.files.imports import unfinished_imports
from tasks.mail.notify import send_outbox
from tasks.maintenance import ImportsNotFinished, list_pending_forms, remind_pending_forms
from tasks.runtime.steps import db_step

remind = db_step(remind_pending_forms)
pending_imports = db_step(unfinished_imports)


def resume_imports() -> tuple[int, list[int]]:
    """Finish every import a stopped run left halfway: each missing step once (a referral's
    dedup, acceptance, acknowledgement; any import's announcement). One failing import does
    not hold up the others nor the rest of the sweep. Returns (finished, failed import ids)."""
    resumed, failed = 0, []
    for import_id, kind in pending_imports():
        try:
            if kind == "referral":
                complete_import(import_id)
            else:
                finish(import_id)
        except Exception:
            failed.append(import_id)  # its task run is failed in Prefect, with the error type
            continue
        resumed += 1
    return resumed, failed


@stage_flow("maintenance")
def maintenance(as_of: AsOf = None) -> dict[str, Any]:
    """The safety net: finish imports a stopped run left halfway, schedule accepted cases and
    re-assess finished courses a trigger missed, remind offices of forms waiting too long, send
    what is due in the outbox.

    Args:
        as_of: Data di riferimento; vuoto = oggi.
    """
    today = as_of or clock.today()
    resumed, failed = resume_imports()
    scheduled = schedule(today=today)
    routed = reassess_due()
    reminders = remind(list_pending_forms(), today=today)
    sent = send_outbox()
    if failed:
        raise ImportsNotFinished(failed)
    return {
        "imports_resumed": resumed,
        "scheduled": sum(len(v) for v in scheduled.values()),
        "reassessed": len(routed.profile_ready) + len(routed.re_enrolled),
        "reminders": reminders,
        "emails": sent,
    }
