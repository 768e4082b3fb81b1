"""Prefect-facing notification steps: drain the outbox, alert coordinators on failures."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from config.settings import get_settings
from models.enums import ConsentPurpose
from models.ops import Outbox
from tasks.core.consent import has_consent
from tasks.mail.drain import drain_outbox
from tasks.mail.outbox import coordinator_targets, enqueue_email
from tasks.runtime.db import get_engine, session_scope


def consent_still_valid(session: Session, row: Outbox) -> bool:
    """Checked right before sending a row that carries personal data (withdrawal stops it)."""
    if not row.consent_purpose or not row.person_key:
        return True
    return has_consent(session, row.person_key, ConsentPurpose(row.consent_purpose), row.recipient_code or "*")


def drain_now(limit: int | None = None) -> dict[str, int]:
    """Send what is due over one SMTP connection; counts only (Prefect sees no keys, no addresses).

    Failed rows are reported to the coordinators by email from inside the drain (outbox alerts).
    """
    report = asyncio.run(
        drain_outbox(get_engine(), settings=get_settings(), limit=limit, consent_ok=consent_still_valid)
    )
    return {k: v for k, v in asdict(report).items() if isinstance(v, int)}


@task(name="send_outbox", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE, persist_result=False)
def send_outbox(limit: int | None = None) -> dict[str, int]:
    """Drain the outbox; the outbox key, not this retry, is what prevents duplicates."""
    return drain_now(limit)


def alert_coordinators(flow: Any, flow_run: Any, state: Any) -> None:
    """on_failure hook: email the coordinators (the OSS server has no email action)."""
    with session_scope() as session:
        for address, code in coordinator_targets(session):
            enqueue_email(
                session,
                key=f"alert:{flow_run.id}:{code}",
                kind="failure_alert",
                recipient=address,
                recipient_code=code,
                context={
                    "flow_name": flow.name,
                    "run_id": str(flow_run.id),
                    "run_name": flow_run.name,
                    "error_summary": f"{state.name}: {_error_type(state)}",
                },
            )
    drain_now()


def _error_type(state: Any) -> str:
    """Only the exception type: messages may quote data we must not copy into an email."""
    try:
        state.result(raise_on_failure=True)
    except BaseException as exc:
        return type(exc).__name__
    return "unknown"
