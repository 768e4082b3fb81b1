"""Outcomes and policy: hires from the CPI's file; unpicked profiles to an active-policy route;
the 180-day check of every hire (still employed, left, not found out) by the CPI's form."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flows._params import AsOf, Office, OptionalFilePath, OutcomeSenderCode
from flows._stage import stage_flow
from models import clock
from models.forms import FollowUpAnswer, FollowUpForm
from tasks.files.imports import finish_file
from tasks.mail.notify import send_outbox
from tasks.outcomes import follow_ups_due, record_follow_up_rows, record_outcome_file, validate_follow_ups
from tasks.policy.routing import route_to_policy
from tasks.runtime.steps import ask_until_valid, db_step

record_file = db_step(record_outcome_file, retries=0)
to_policy = db_step(route_to_policy)
finish = db_step(finish_file)
due_checks = db_step(follow_ups_due)
check_follow_ups = db_step(validate_follow_ups)
record_follow_ups = db_step(record_follow_up_rows)


@stage_flow("outcomes")
def outcomes(
    file_path: OptionalFilePath = None, sender_code: OutcomeSenderCode = None, as_of: AsOf = None
) -> dict[str, Any]:
    """Record hires, non-selections and 180-day checks, then route profiles nobody picked to a
    policy measure.

    Args:
        file_path: File degli esiti (assunto / non selezionato; a 180 giorni: ancora occupato / cessato /
            non rintracciabile, con la data della verifica); vuoto = solo controllo politiche.
        sender_code: Codice dell'ente mittente (CPI o servizio provinciale).
        as_of: Data di riferimento per i giorni senza interesse; vuoto = oggi.
    """
    recorded = record_file(Path(file_path), sender_code or "PROV-LAVORO") if file_path else {}
    if file_path:
        finish(Path(file_path))
    policy = to_policy(as_of=as_of or clock.today())
    sent = send_outbox()
    return {"recorded": recorded, "policy": {k: len(v) for k, v in policy.items()}, "emails": sent}


@stage_flow("follow-up")
def follow_up(office: Office = None, as_of: AsOf = None) -> dict[str, Any]:
    """Ask the CPI for the 180-day check of the hires that reached it: still employed, left
    or not found out, with the day; the answers feed the retention KPI.

    Args:
        office: Solo le assunzioni seguite da questo CPI; vuoto = tutti.
        as_of: Verifiche scadute entro questa data; vuoto = oggi.
    """
    day = as_of or clock.today()
    due = due_checks(as_of=day, office=office.value if office else None)
    if not due:
        return {"due": 0, "recorded": {}, "attempts": 0}
    codes = [d.case_code for d in due]
    key = "follow-up-" + hashlib.sha256(",".join(codes).encode()).hexdigest()[:12]
    description = (
        f"**Verifiche a 180 giorni dall'assunzione – {len(codes)} pratiche**\n\n"
        "Per ogni pratica indicare se la persona è ancora occupata, non più occupata (con il giorno in cui "
        "il rapporto si è concluso) o non verificabile (persona non rintracciata). «Da verificare» lascia "
        "la verifica in sospeso. Solo codici pratica."
    )
    initial = [{"case_code": c, "outcome": FollowUpAnswer.PENDING.value, "observed_on": None} for c in codes]
    rows, attempts = ask_until_valid(
        FollowUpForm, key=key, description=description, field="follow_ups", initial=initial, check=check_follow_ups
    )
    recorded = record_follow_ups(rows, actor="form:follow-up")
    return {"due": len(codes), "recorded": recorded, "attempts": attempts}
