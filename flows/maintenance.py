"""Maintenance: the safety-net sweep (anything an event missed) and the outbox drain."""

from __future__ import annotations

from typing import Any

from flows._params import AsOf
from flows._stage import stage_flow
from flows.intake import schedule
from flows.literacy import route as reassess_due
from models import clock
from tasks.mail.notify import send_outbox
from tasks.maintenance import list_pending_forms, remind_pending_forms
from tasks.runtime.steps import db_step

remind = db_step(remind_pending_forms)


@stage_flow("maintenance")
def maintenance(as_of: AsOf = None) -> dict[str, Any]:
    """The safety net: schedule accepted cases and re-assess finished courses a trigger missed,
    remind offices of forms waiting too long, send what is due in the outbox.

    Args:
        as_of: Data di riferimento; vuoto = oggi.
    """
    today = as_of or clock.today()
    scheduled = schedule(today=today)
    routed = reassess_due()
    reminders = remind(list_pending_forms(), today=today)
    sent = send_outbox()
    return {
        "scheduled": sum(len(v) for v in scheduled.values()),
        "reassessed": len(routed.profile_ready) + len(routed.re_enrolled),
        "reminders": reminders,
        "emails": sent,
    }
