"""Privacy flows: erasure, access export, rectification, consent withdrawal and retention.

Parameters are case codes (and a consent purpose): no identifier ever becomes a Prefect
parameter, log line or result. Whatever personal data a request needs (a rectification's new
values) waits in a file under ``var/private/`` that the flow reads and removes.
"""

from __future__ import annotations

from typing import Annotated, Any

from flows._params import EVERY_RECIPIENT, AsOf, CaseCode, RecipientCode, label
from flows._stage import stage_flow
from models import clock
from models.enums import ConsentPurpose
from tasks.mail.notify import send_outbox
from tasks.privacy.erasure import anonymise_closed_cases, erase_person
from tasks.privacy.export import access_export as export_personal_data
from tasks.privacy.rectification import apply_rectification_request, delete_rectification_request
from tasks.privacy.withdrawal import cancel_for_expired_consents, withdraw_consent
from tasks.runtime.steps import db_step

erase = db_step(erase_person, retries=1)
export = db_step(export_personal_data, retries=1)
anonymise = db_step(anonymise_closed_cases, retries=1)
expire = db_step(cancel_for_expired_consents)
withdraw = db_step(withdraw_consent, retries=1)
rectify = db_step(apply_rectification_request, retries=0)

Purpose = Annotated[ConsentPurpose, label("Finalità del consenso")]


@stage_flow("erasure")
def erasure(case_code: CaseCode) -> dict[str, Any]:
    """Art. 17: blank the person's identifiers, keep the key, history and counts; record the request.

    Args:
        case_code: Codice pratica (BG-AAAA-NNNNNN) della persona che chiede la cancellazione dei dati.
    """
    result = erase(case_code)
    return {"case_code": case_code.strip().upper(), **result.counts()}


@stage_flow("access-export")
def access_export(case_code: CaseCode) -> dict[str, Any]:
    """Art. 15: write the person's data as JSON and a readable HTML page under var/private/exports.

    Args:
        case_code: Codice pratica (BG-AAAA-NNNNNN) della persona che chiede copia dei propri dati.
    """
    result = export(case_code)
    return {"files": [result.json_path.name, result.html_path.name], "sections": result.sections}


@stage_flow("rectification")
def rectification(case_code: CaseCode) -> dict[str, Any]:
    """Art. 16: apply the operator's correction stored for this case (values never enter Prefect).

    Args:
        case_code: Codice pratica (BG-AAAA-NNNNNN); la correzione va registrata prima in var/private/requests.
    """
    changed = rectify(case_code)
    delete_rectification_request(case_code)
    return {"fields_changed": len(changed)}


@stage_flow("consent-withdrawal")
def consent_withdrawal(
    case_code: CaseCode, purpose: Purpose, recipient_code: RecipientCode = EVERY_RECIPIENT
) -> dict[str, Any]:
    """Withdraw a consent: pending shares that depend on it stop (emails cancelled or re-issued).

    Args:
        case_code: Codice pratica (BG-AAAA-NNNNNN) della persona che revoca il consenso.
        purpose: Finalità del consenso revocato (trattamento CPI, CPIA, Confindustria, azienda, segnalante).
        recipient_code: Codice dell'ente destinatario (es. l'azienda); * = tutti i destinatari di questa finalità.
    """
    result = withdraw(case_code, purpose, recipient_code)
    sent = send_outbox()
    return {
        "case_code": case_code.strip().upper(),
        "purpose": ConsentPurpose(purpose).value,
        **vars(result),
        "emails": sent,
    }


@stage_flow("retention")
def retention(as_of: AsOf = None) -> dict[str, Any]:
    """Anonymise people whose cases all closed longer ago than the retention period; drop expired shares.

    Args:
        as_of: Data di riferimento per il periodo di conservazione; vuoto = oggi.
    """
    result = anonymise(as_of=as_of or clock.today())
    cancelled = expire()
    return {**result.counts(), "cutoff": result.cutoff, "expired_shares_cancelled": cancelled}
