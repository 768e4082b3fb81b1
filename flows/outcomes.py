"""Outcomes and policy: hires from the CPI's file; unpicked profiles to an active-policy route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows._params import AsOf, OptionalFilePath, OutcomeSenderCode
from flows._stage import stage_flow
from models import clock
from tasks.files.imports import finish_file
from tasks.mail.notify import send_outbox
from tasks.outcomes import record_outcome_file
from tasks.policy.routing import route_to_policy
from tasks.runtime.steps import db_step

record_file = db_step(record_outcome_file, retries=0)
to_policy = db_step(route_to_policy)
finish = db_step(finish_file)


@stage_flow("outcomes")
def outcomes(
    file_path: OptionalFilePath = None, sender_code: OutcomeSenderCode = None, as_of: AsOf = None
) -> dict[str, Any]:
    """Record hires and non-selections, then route profiles nobody picked to a policy measure.

    Args:
        file_path: File degli esiti dei colloqui (assunto / non selezionato); vuoto = solo controllo politiche.
        sender_code: Codice dell'ente mittente (CPI o servizio provinciale).
        as_of: Data di riferimento per i giorni senza interesse; vuoto = oggi.
    """
    recorded = record_file(Path(file_path), sender_code or "PROV-LAVORO") if file_path else {}
    if file_path:
        finish(Path(file_path))
    policy = to_policy(as_of=as_of or clock.today())
    sent = send_outbox()
    return {"recorded": recorded, "policy": {k: len(v) for k, v in policy.items()}, "emails": sent}
