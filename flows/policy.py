"""Active policies and funded training: course offers in, measures proposed and chosen, the
provider's register, and the monthly coordination table ("tavolo Sistema Lavoro")."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows._params import LABOUR_SERVICE, AsOf, CaseCodes, FilePath, TrainingSenderCode
from flows._stage import stage_flow
from flows.outcomes import to_policy
from models import clock
from models.forms import PolicyDecisionForm, TavoloDecisionForm
from tasks.files.imports import finish_file, finish_import
from tasks.mail.notify import send_outbox
from tasks.policy.progress import record_progress_file
from tasks.policy.register import pending_decisions, propose_measures, record_decisions, validate_decisions
from tasks.policy.tavolo import (
    agenda_markdown,
    form_measures,
    open_meeting,
    record_tavolo_decisions,
    tavolo_initial,
    validate_tavolo,
)
from tasks.policy.training import ingest_training_file
from tasks.runtime.steps import ask_until_valid, db_step

ingest_offers = db_step(ingest_training_file, retries=0)
propose = db_step(propose_measures)
pending = db_step(pending_decisions)
check_decisions = db_step(validate_decisions)
record = db_step(record_decisions)
record_register = db_step(record_progress_file, retries=0)
finish_offers = db_step(finish_import)
finish_register = db_step(finish_file)
meeting = db_step(open_meeting)
tavolo_rows = db_step(tavolo_initial)
check_tavolo = db_step(validate_tavolo)
record_tavolo = db_step(record_tavolo_decisions)
measure_names = db_step(form_measures)


@task(name="publish_proposals", cache_policy=NO_CACHE, persist_result=False)
def publish_proposals(proposed: dict[str, list[str]]) -> int:
    """A table artifact of this run's proposals: case code and measure codes only."""
    rows = [{"pratica": code, "misure proposte": ", ".join(ms) or "nessuna"} for code, ms in proposed.items()]
    create_table_artifact(
        table=rows or [{"pratica": "—", "misure proposte": "nessuna nuova pratica"}],
        key="policy-proposals",
        description="Misure di politica attiva proposte in questa esecuzione (solo codici)",
    )
    return len(rows)


@task(name="publish_agenda", cache_policy=NO_CACHE, persist_result=False)
def publish_agenda(markdown: str) -> str:
    create_markdown_artifact(markdown=markdown, key="tavolo-agenda", description="Ordine del giorno del tavolo mensile")
    return "tavolo-agenda"


@stage_flow("training-offers")
def training_offers(file_path: FilePath, sender_code: TrainingSenderCode = LABOUR_SERVICE) -> dict[str, Any]:
    """Ingest a file of courses from accredited training bodies (like the vacancies).

    Args:
        file_path: File dei corsi (XLSX/CSV): ente, titolo, codici ISCO, ore, posti, inizio, posizione collegata.
        sender_code: Codice dell'ente che ha inviato il file.
    """
    import_id, counts = ingest_offers(Path(file_path), sender_code)
    if import_id is not None:
        finish_offers(import_id)
    sent = send_outbox()
    return {"import_id": import_id, **counts, "emails": sent}


@stage_flow("policy")
def policy(case_codes: CaseCodes = None, as_of: AsOf = None) -> dict[str, Any]:
    """Propose active-policy measures to cases nobody picked, let the operator choose, notify
    the accredited operator or training body.

    Args:
        case_codes: Solo queste pratiche; vuoto = tutte le pratiche in politica attiva.
        as_of: Data di riferimento (giorni senza interesse, età, scadenze); vuoto = oggi.
    """
    day = as_of or clock.today()
    routed = to_policy(as_of=day)
    proposed = propose(as_of=day, case_codes=case_codes)
    publish_proposals(proposed)
    initial = pending(case_codes)
    decided: dict[str, int] = {}
    attempts = 0
    if initial:
        codes = sorted(r["case_code"] for r in initial)
        key = "policy-" + hashlib.sha256(",".join(codes).encode()).hexdigest()[:12]
        description = (
            f"**Politiche attive – {len(codes)} pratiche**\n\nPer ogni pratica scegliere una delle misure proposte "
            "(preselezionata la prima: i corsi che colmano il divario con una posizione vengono per primi). "
            "«Nessuna: decide il tavolo» la lascia al tavolo mensile. Ente attuatore: vuoto = quello previsto. "
            "Solo codici pratica: niente nomi né note."
        )
        rows, attempts = ask_until_valid(
            PolicyDecisionForm.naming(measure_names(codes)),  # the measures by name, stored by code
            key=key,
            description=description,
            field="decisions",
            initial=initial,
            check=check_decisions,
        )
        decided = record(rows, as_of=day)
    sent = send_outbox()
    return {
        "routed": {k: len(v) for k, v in routed.items()},
        "proposed": len(proposed),
        "decided": decided,
        "attempts": attempts,
        "emails": sent,
    }


@stage_flow("policy-progress")
def policy_progress(file_path: FilePath, sender_code: TrainingSenderCode) -> dict[str, Any]:
    """Record a provider's register: enrolment, attendance, completion, internship, hire.

    Args:
        file_path: Registro dell'ente (codice pratica, codice misura, evento, data, ore, azienda, contratto, durata).
        sender_code: Codice dell'ente di formazione o dell'operatore accreditato.
    """
    counts = record_register(Path(file_path), sender_code)
    finish_register(Path(file_path))
    sent = send_outbox()
    return {**counts, "emails": sent}


@stage_flow("tavolo")
def tavolo(as_of: AsOf = None) -> dict[str, Any]:
    """Monthly coordination table: agenda (artifact + email to the members, case codes only),
    then the decisions taken, recorded as case events.

    Args:
        as_of: Data della riunione del tavolo; vuoto = oggi.
    """
    day = as_of or clock.today()
    agenda, queued = meeting(held_on=day)
    publish_agenda(agenda_markdown(agenda))
    sent = send_outbox()
    initial = tavolo_rows(held_on=day)
    decisions: dict[str, int] = {}
    if initial:
        description = (
            f"**Decisioni del tavolo del {day:%d/%m/%Y}**\n\nPer ogni pratica in attesa: assegnare una delle misure "
            "proposte (indicandola), riproporre il profilo alle aziende, rinviare al prossimo tavolo oppure chiudere "
            "la pratica. Solo codici pratica: niente nomi né note."
        )
        rows, _ = ask_until_valid(
            TavoloDecisionForm.naming(measure_names([r["case_code"] for r in initial])),
            key=f"tavolo-{day.isoformat()}",
            description=description,
            field="decisions",
            initial=initial,
            check=lambda answers: check_tavolo(answers, held_on=day),
        )
        decisions = record_tavolo(rows, held_on=day)
        sent = {**sent, **{f"after_{k}": v for k, v in send_outbox().items()}}
    return {
        "agenda": {k: len(v) for k, v in agenda.codes().items()},
        "emails_queued": queued,
        "decisions": decisions,
        "emails": sent,
    }
