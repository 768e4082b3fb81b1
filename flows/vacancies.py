"""Stage 6 – vacancies: Confindustria's positions in; matching and the explained shortlist."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from flows._params import CONFINDUSTRIA, AsOf, EmployerSenderCode, FilePath, label
from flows._stage import stage_flow
from models import clock
from models.forms import MatchApprovalForm
from tasks.files.imports import finish_import
from tasks.mail.notify import send_outbox
from tasks.runtime.steps import ask_until_valid, db_step
from tasks.vacancies import (
    ingest_vacancy_file,
    match_vacancies,
    proposed_approvals,
    send_shortlists,
    validate_approvals,
)

ingest = db_step(ingest_vacancy_file, retries=0)
finish = db_step(finish_import)
match = db_step(match_vacancies)
propose = db_step(proposed_approvals)
check = db_step(validate_approvals)
approve_and_send = db_step(send_shortlists)


ImportId = Annotated[int, label("Numero dell'importazione")]


@stage_flow("vacancies")
def vacancies(file_path: FilePath, sender_code: EmployerSenderCode = CONFINDUSTRIA) -> dict[str, Any]:
    """Ingest a vacancy file (rejected rows reported to the sender); the
    ``incontro.vacancy.received`` event starts the matching.

    Args:
        file_path: File delle posizioni aperte (XLSX/CSV di Confindustria).
        sender_code: Codice dell'ente che ha inviato il file.
    """
    import_id, counts = ingest(Path(file_path), sender_code)
    if import_id is not None:
        finish(import_id)  # announces the matching, also for a rerun after a killed run
    sent = send_outbox()  # the error report of rejected rows, to the sender
    return {"import_id": import_id, **counts, "emails": sent}


@stage_flow("matching")
def matching(import_id: ImportId, as_of: AsOf = None) -> dict[str, Any]:
    """Score the pool against the imported vacancies; an operator approves before anything is sent.

    Args:
        import_id: Numero dell'importazione del file posizioni (dall'evento incontro.vacancy.received).
        as_of: Data di riferimento; vuoto = oggi.
    """
    result = match(import_id, today=as_of or clock.today())
    initial = propose(import_id)
    description = (
        f"**Graduatorie posizioni–profili (import {import_id})**\n\nPer ogni posizione lasciare le pratiche da "
        "proporre (proposte: le prime 3 della graduatoria; motivazioni nella mail e nell'artifact)."
    )
    answers, _ = ask_until_valid(
        MatchApprovalForm,
        key=f"match-{import_id}",
        description=description,
        field="vacancies",
        initial=initial,
        check=lambda rows: check(import_id, rows),
    )
    shortlists = approve_and_send(import_id, answers)
    sent = send_outbox()
    return {**result, "shortlists": shortlists, "emails": sent}
