"""Maintenance: the safety-net sweep (anything an event missed) and the outbox drain."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows._params import AsOf
from flows._stage import stage_flow
from tasks.intake import schedule_intakes
from tasks.literacy import reassess
from tasks.mail.notify import send_outbox
from tasks.maintenance import list_pending_forms, remind_pending_forms
from tasks.runtime.steps import db_step

schedule = db_step(schedule_intakes)
reassess_due = db_step(reassess)
remind = db_step(remind_pending_forms)


@stage_flow("maintenance")
def maintenance(as_of: AsOf = None) -> dict[str, Any]:
    """The safety net: schedule accepted cases and re-assess finished courses a trigger missed,
    remind offices of forms waiting too long, send what is due in the outbox.

    Args:
        as_of: Data di riferimento; vuoto = oggi.
    """
    today = as_of or date.today()
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
