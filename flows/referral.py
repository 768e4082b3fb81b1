"""Stage 1 – referral: a partner's file becomes validated, deduplicated, accepted cases."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flows._params import FilePath, ReferrerCode
from flows._stage import stage_flow
from models.forms import DedupForm
from tasks.core.partners import sync_organisations
from tasks.files.imports import finish_import
from tasks.mail.notify import send_outbox
from tasks.referral.ingest import accept_import, acknowledge_import, deduplicate_import, ingest_referral_file
from tasks.referral.review import pending_reviews, resolve_reviews, validate_decisions
from tasks.runtime.steps import ask_until_valid, db_step

sync_partners = db_step(sync_organisations)
ingest = db_step(ingest_referral_file, retries=0)
deduplicate = db_step(deduplicate_import)
accept = db_step(accept_import)
acknowledge = db_step(acknowledge_import)
finish = db_step(finish_import)


def complete_import(import_id: int) -> dict[str, int]:
    """Every step after the ingest; each runs once per import (recorded with its work), so a
    rerun of the file and the maintenance sweep finish what a killed run left."""
    dedup = deduplicate(import_id)
    accepted = accept(import_id)
    acknowledge(import_id)
    finish(import_id)  # announces review form and intake: docs/ARCHITECTURE.md#chaining
    return {"merged": len(dedup.merged), "review": len(dedup.review), **accepted}


@stage_flow("referral")
def referral(file_path: FilePath, referrer_code: ReferrerCode) -> dict[str, Any]:
    """Ingest one partner file: validate rows, dedup, assign the CPI office, acknowledge.

    The same file again finishes what an earlier, stopped run left undone (each step once), and
    changes nothing once its import is finished.

    Args:
        file_path: Percorso del file ricevuto dal partner (CSV, XLSX o JSON).
        referrer_code: Codice dell'ente segnalante (config/organisations.yaml), es. CARITAS-BG.
    """
    sync_partners()
    summary = ingest(Path(file_path), referrer_code)
    if summary.finished:
        return {"import_id": summary.import_id, "already_imported": True}
    steps = complete_import(summary.import_id)
    sent = send_outbox()
    return {
        "import_id": summary.import_id,
        "rows_accepted": summary.accepted_rows,
        "rows_rejected": summary.rejected_rows,
        **steps,
        "emails": sent,
        **({"resumed": True} if summary.already_imported else {}),
    }


list_reviews = db_step(pending_reviews)
check_decisions = db_step(validate_decisions)
resolve = db_step(resolve_reviews)


@stage_flow("dedup-review")
def dedup_review() -> dict[str, Any]:
    """Ask an operator about grey-band duplicates, then merge or accept each referral."""
    rows = list_reviews()
    if not rows:
        return {"reviews": 0}
    key = "dedup-" + hashlib.sha256(",".join(str(r["review_id"]) for r in rows).encode()).hexdigest()[:12]
    description = (
        f"**Possibili duplicati – {len(rows)} segnalazioni**\n\nPer ogni riga indicare se la nuova pratica "
        "riguarda la stessa persona della pratica esistente (confrontare i dati nel gestionale, non qui)."
    )
    answers, _ = ask_until_valid(
        DedupForm, key=key, description=description, field="decisions", initial=rows, check=check_decisions
    )
    outcome = resolve(answers)
    sent = send_outbox()
    return {"merged": len(outcome.merged), "separate": len(outcome.separate), "emails": sent}
