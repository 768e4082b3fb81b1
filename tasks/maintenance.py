"""Reminders for operator forms left unanswered for N business days (Italian calendar)."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from config.data import load_routing
from models.enums import OrgKind
from models.people import Organisation
from tasks.core.calendar import business_days_between
from tasks.core.partners import the_org
from tasks.mail.outbox import enqueue_email

FORM_LABELS = {
    "intake-form": "esiti dei colloqui",
    "literacy-outcomes": "esiti dei corsi CPIA",
    "dedup-review": "possibili duplicati",
    "matching": "approvazione graduatorie",
}


class ImportsNotFinished(RuntimeError):
    """The sweep could not finish some imports (the coordinators are alerted by the failed run)."""

    def __init__(self, import_ids: list[int]) -> None:
        ids = ", ".join(str(i) for i in import_ids)
        super().__init__(
            f"importazioni non completate: {ids}; la manutenzione riproverà al prossimo passaggio "
            "(dettagli in var/logs/app.log)"
        )
        self.import_ids = import_ids


@task(name="list_pending_forms", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE, persist_result=False)
def list_pending_forms() -> list[dict[str, Any]]:
    """Suspended runs waiting for an operator: run id, form kind, office, since, case codes."""
    from prefect import get_client

    from tasks.runtime.prefect_api import FormNotReady, form_inputs, paused_runs

    forms = []
    names: dict[Any, str] = {}
    for run in paused_runs():
        if run.deployment_id and run.deployment_id not in names:
            with get_client(sync_client=True) as client:
                names[run.deployment_id] = client.read_deployment(run.deployment_id).name
        kind = names.get(run.deployment_id, "modulo")
        rows = []
        try:
            rows = form_inputs(run.id, timeout=5)
        except (KeyError, TypeError):
            rows = []  # a form without case rows (e.g. approvals by vacancy)
        except FormNotReady:
            rows = []  # paused this instant, schema not saved yet: its codes come at the next sweep
        since = (run.state.timestamp if run.state else run.created).date()
        forms.append(
            {
                "run_id": str(run.id),
                "form": kind,
                "office": (run.parameters or {}).get("office"),
                "since": since.isoformat(),
                "case_codes": [r.get("case_code") for r in rows if isinstance(r, dict) and r.get("case_code")],
            }
        )
    return forms


def remind_pending_forms(session: Session, forms: list[dict[str, Any]], *, today: date) -> int:
    """Email the office (or the coordinators) about each form waiting ≥ N business days; one
    reminder per form per day (outbox key)."""
    days = load_routing().intake.reminder_business_days
    queued = 0
    for f in forms:
        since = date.fromisoformat(f["since"])
        if business_days_between(since, today) < days:
            continue
        office = session.get(Organisation, f["office"]) if f.get("office") else None
        recipient = office or the_org(session, OrgKind.COORDINATOR)
        kind = str(f.get("form", ""))
        if enqueue_email(
            session,
            key=f"form:{f['run_id']}:reminder:{today.isoformat()}",
            kind="form_reminder",
            recipient=recipient.email,
            recipient_code=recipient.code,
            context={
                "form_kind": kind,
                "form_label": FORM_LABELS.get(kind, kind),
                "case_codes": f["case_codes"],
                "waiting_since": since,
                "office_name": office.name if office else None,
            },
        ):
            queued += 1
    return queued
