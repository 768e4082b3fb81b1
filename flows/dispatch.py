"""Stage 4 – dispatch: consenting PROFILE_READY profiles go to Confindustria in one batch."""

from __future__ import annotations

from typing import Any

from flows._params import AsOf, BatchCode, CaseCodes
from flows._stage import stage_flow
from models import clock
from tasks.dispatch import dispatch_profiles
from tasks.mail.notify import send_outbox
from tasks.runtime.steps import db_step

build_batches = db_step(dispatch_profiles)


@stage_flow("dispatch")
def dispatch(batch_code: BatchCode = None, case_codes: CaseCodes = None, as_of: AsOf = None) -> dict[str, Any]:
    """Send Confindustria each batch's summary, sheet and one link to the batch page (from which it
    sends each member company its profiles) and record the batches.

    A backlog larger than INCONTRO_DISPATCH_MAX_PROFILES goes out as several batches, one email each.

    Args:
        batch_code: Codice dell'invio; vuoto = DSP-<aaaammgg>-<n> (lotti seguenti: <codice>-02, ...).
        case_codes: Solo queste pratiche; vuoto = tutti i profili pronti con consenso.
        as_of: Data dell'invio; vuoto = oggi.
    """
    summary = build_batches(today=as_of or clock.today(), batch_code=batch_code, case_codes=case_codes)
    sent = send_outbox()
    return {"batch_codes": summary.batch_codes, "profiles": len(summary.case_codes), "emails": sent}
