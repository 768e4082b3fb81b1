"""Maintenance: the safety-net sweep (anything an event missed, imports a killed run left
halfway) and the outbox drain."""

from __future__ import annotations

from typing import Any

from flows._params import AsOf
from flows._stage import stage_flow
from flows.intake import schedule
from flows.literacy import route as reassess_due
from models import clock
from tasks.files.imports import unfinished_imports
from tasks.mail.notify import send_outbox
from tasks.maintenance import (
    ImportsNotFinished,
    list_pending_forms,
    refresh_open_steps,
    remind_consent_steps,
    remind_pending_forms,
    tell_untold_closures,
)
from tasks.referral.feedback import send_partner_digests
from tasks.runtime.answer_catchup import announce_waiting_answers
from tasks.runtime.steps import db_step

remind = db_step(remind_pending_forms)
refresh = db_step(refresh_open_steps)  # every open case keeps a next step (issue 18)
remind_consents = db_step(remind_consent_steps)
tell_closures = db_step(tell_untold_closures)
pending_imports = db_step(unfinished_imports)
announce_answers = db_step(announce_waiting_answers)  # answers whose event was lost
partner_digests = db_step(send_partner_digests)  # partners' daily/weekly news of their referrals (issue 20)


def resume_imports() -> tuple[int, list[int]]:
    """Finish every import a stopped run left halfway: each missing step once (a referral's
    dedup, acceptance, acknowledgement; any import's announcement). One failing import does
    not hold up the others nor the rest of the sweep. Returns (finished, failed import ids)."""
    resumed = 0
    failed: list[int] = []
    pending = pending_imports()
    if not pending:
        return resumed, failed
    from flows.referral import complete_import, finish  # the import machinery, only when an import waits

    for import_id, kind in pending:
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
    re-assess finished courses a trigger missed, give every open case its next step back, remind
    offices of forms waiting too long and of consents nobody asked for, tell referrers of
    closures, send what is due in the outbox.

    Args:
        as_of: Data di riferimento; vuoto = oggi.
    """
    today = as_of or clock.today()
    resumed, failed = resume_imports()
    scheduled = schedule(today=today)
    routed = reassess_due()
    answers = announce_answers()
    reminders = remind(list_pending_forms(), today=today)
    steps = refresh(today=today)
    consents = remind_consents(today=today)
    closures = tell_closures()
    digests = partner_digests()
    sent = send_outbox()
    if failed:
        raise ImportsNotFinished(failed)
    return {
        "imports_resumed": resumed,
        "scheduled": sum(len(v) for v in scheduled.values()),
        "reassessed": len(routed.profile_ready) + len(routed.re_enrolled),
        "answers_announced": answers,
        "reminders": reminders,
        "steps_refreshed": steps,
        "consent_reminders": consents,
        "closures_told": closures,
        "partner_digests": digests,
        "emails": sent,
    }
