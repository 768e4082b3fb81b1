"""The sweep's duties: reminders for operator forms left unanswered for N business days (Italian
calendar); every open case keeps a next step, and the CPI is reminded of consents nobody asked
for; closures whose referrer was not told yet are told (issue 18)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from config.data import load_offices, load_routing
from config.next_steps import load_next_steps
from config.reminders import load_reminders
from models import clock
from models.cases import Case
from models.enums import OrgKind
from models.ops import Outbox
from models.people import Organisation
from models.state_machine import OPEN
from tasks.core.calendar import business_days_between
from tasks.core.consent_steps import consent_label, overdue_consent_steps
from tasks.core.next_steps import missing_step, refresh_steps
from tasks.core.partners import the_org
from tasks.mail.closure_notice import tell_referrers, untold_closures
from tasks.mail.outbox import enqueue_email
from tasks.runtime.db import in_chunks

FORM_LABELS = {
    "intake-form": "esiti dei colloqui",
    "literacy-outcomes": "esiti dei corsi CPIA",
    "dedup-review": "possibili duplicati",
    "matching": "approvazione graduatorie",
    "policy": "scelta delle politiche attive",
    "tavolo": "decisioni del tavolo",
    "follow-up": "verifiche a 180 giorni dall'assunzione",
}


def form_url(run_id: str) -> str:
    """The paused run's page in the Prefect UI, where the office answers the form."""
    from prefect.settings import PREFECT_UI_URL

    from config.settings import get_settings

    base = PREFECT_UI_URL.value() or get_settings().prefect_api_url.removesuffix("/api")
    return f"{str(base).rstrip('/')}/runs/flow-run/{run_id}"


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
        since = clock.in_rome(run.state.timestamp if run.state else run.created).date()
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
                "form_label": FORM_LABELS.get(kind, "modulo da compilare"),
                "case_codes": f["case_codes"],
                "waiting_since": since,
                "office_name": office.name if office else None,
                "form_url": form_url(str(f["run_id"])),
            },
        ):
            queued += 1
    return queued


# --------------------------------------------------------------------------------------------
# No dead ends (issue 18)

#: How far back the sweep looks for closures whose referrer was not told (a desk closure, a run
#: stopped between the closure and its email); older closures predate the notice.
CLOSURE_LOOKBACK = timedelta(days=7)


def refresh_open_steps(session: Session, *, today: date) -> int:
    """Give every open case its step back: those without a step, owner or due date, and those
    whose default step depends on facts that may have changed (a consent given or withdrawn
    later, a course opened) are re-evaluated by ``next_steps.refresh_steps``; explicit steps
    stay. Returns how many cases changed."""
    table = load_next_steps()
    conditional = sorted(state for state, rows in table.states.items() if any(row.when for row in rows))
    ids = list(
        session.exec(
            select(Case.id)
            .where(col(Case.state).in_(sorted(OPEN)), or_(missing_step(), col(Case.state).in_(conditional)))
            .order_by(col(Case.id))
        ).all()
    )
    changed = 0
    for chunk in in_chunks(ids):
        cases = list(session.exec(select(Case).where(col(Case.id).in_(chunk))).all())
        changed += refresh_steps(session, cases, today=today)
    return changed


def remind_consent_steps(session: Session, *, today: date) -> int:
    """Email each CPI office the cases waiting for a consent it has not asked for yet (overdue
    "ask for the consent" steps), one digest per office, again every
    ``remind_every_business_days`` while any stays overdue. Returns emails queued."""
    rules = load_reminders().consent
    by_office: dict[str, list[Case]] = defaultdict(list)
    for case in overdue_consent_steps(session, today):
        by_office[case.owner or case.office_code or ""].append(case)
    offices = {o.code: o for o in load_offices()}
    queued = 0
    for code, cases in sorted(by_office.items()):
        office = offices.get(code)
        recipient = session.get(Organisation, code) if office else the_org(session, OrgKind.COORDINATOR)
        if recipient is None:
            continue
        last = session.exec(
            select(func.max(Outbox.created_at)).where(
                Outbox.kind == "consent_to_ask", Outbox.recipient_code == recipient.code
            )
        ).one()
        if (
            last is not None
            and business_days_between(clock.in_rome(last).date(), today) < rules.remind_every_business_days
        ):
            continue
        if enqueue_email(
            session,
            key=f"consent-ask:{recipient.code}:{today.isoformat()}",
            kind="consent_to_ask",
            recipient=recipient.email,
            recipient_code=recipient.code,
            context={
                "office_name": office.name if office else None,
                "cases": [
                    {"case_code": c.code, "consent": consent_label(c.next_step), "due": c.next_due} for c in cases
                ],
                "agenda_after": rules.agenda_after_business_days,
            },
        ):
            queued += 1
    return queued


def tell_untold_closures(session: Session) -> int:
    """Queue the referrers' emails of recent closures nobody told them about (a closure from the
    desk, or a run stopped in between); returns emails queued."""
    return tell_referrers(session, untold_closures(session, since=clock.utcnow() - CLOSURE_LOOKBACK))
