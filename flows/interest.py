"""Stage 5 – interest: company answers move cases; contacts released only with consent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows._params import CONFINDUSTRIA, EmployerSenderCode, OptionalFilePath
from flows._stage import stage_flow
from tasks.files.imports import finish_file
from tasks.interest import ingest_interest_file, process_answers, release_contacts
from tasks.mail.notify import send_outbox
from tasks.runtime.steps import db_step

ingest = db_step(ingest_interest_file, retries=0)
process = db_step(process_answers)
release = db_step(release_contacts)
finish = db_step(finish_file)


@stage_flow("interest")
def interest(file_path: OptionalFilePath = None, sender_code: EmployerSenderCode = CONFINDUSTRIA) -> dict[str, Any]:
    """Record company answers, move the cases, notify CPI and referrer, release consented contacts.

    Args:
        file_path: File delle risposte (CSV/XLSX di Confindustria); vuoto = risposte già registrate.
        sender_code: Codice dell'ente che ha inviato il file.
    """
    imported = ingest(Path(file_path), sender_code) if file_path else {}
    moved = process()  # also the answers of a file whose earlier run was killed after its ingest
    released = release()
    if file_path:
        finish(Path(file_path))
    sent = send_outbox()
    return {
        "imported": imported,
        **{k: len(v) for k, v in moved.items()},
        "contacts_released": len(released),
        "emails": sent,
    }
