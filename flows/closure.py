"""Closing cases from Prefect: the coordinators' form of case codes and reasons (issue 18).

The form holds case codes and a reason chosen from a closed list, shown in Italian; the reason
"altro motivo" needs a note, and a note may describe the person, so it is not offered here:
Prefect stores form answers in plain text (docs/ARCHITECTURE.md#privacy). It is closed from the
desk or with ``incontro close --reason other --note ...``.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from flows._params import CaseCodes
from flows._stage import stage_flow
from models.enums import CloseReason
from models.form_choices import Choices, FormRow, ItalianForm
from models.forms import CASE_CODE
from tasks.core.closure import CLOSURE_LABELS, OPERATOR_REASONS, check_closures
from tasks.mail.closure_notice import close_and_tell
from tasks.mail.notify import send_outbox
from tasks.runtime.steps import ask_until_valid, db_step

#: Who closed, for the case history: the form's answerer is not known to the application (an
#: answer given with ``incontro answer`` is audited under the operator's name).
ACTOR = "coordinatori (modulo di chiusura)"

#: The reasons of the form, by their Italian words (the UI's drop-down shows the values).
FormReason = StrEnum(  # type: ignore[misc]
    "FormReason", {r.name: CLOSURE_LABELS[r] for r in OPERATOR_REASONS if r is not CloseReason.OTHER}
)

#: Listed inline in the schema (a drop-down titled as the field, not as the enum's class).
ReasonChoice = Annotated[FormReason, Choices.of(FormReason, {r.value: r.value for r in FormReason})]  # type: ignore[valid-type]


class ClosureRow(FormRow):
    """Una pratica da chiudere e il motivo."""

    model_config = ConfigDict(title="Pratica da chiudere")

    case_code: str = Field(pattern=CASE_CODE, title="Pratica", description="Codice pratica (es. BG-2026-000123)")
    reason: ReasonChoice | None = Field(  # type: ignore[valid-type]
        None,
        title="Motivo della chiusura",
        description="Per «altro motivo» (con una nota) usare lo sportello o incontro close",
    )


class ClosureForm(ItalianForm):
    """Pratiche da chiudere: una riga per pratica, con il motivo."""

    model_config = ConfigDict(title="Chiusura di pratiche")

    closures: list[ClosureRow] = Field(title="Pratiche da chiudere")


check = db_step(check_closures)
close = db_step(close_and_tell)


@stage_flow("close-cases")
def close_cases(case_codes: CaseCodes = None) -> dict[str, Any]:
    """Ask the coordinators which cases to close and why, close them and tell the referrers.

    Args:
        case_codes: Pratiche da proporre nel modulo; vuoto = il modulo parte con una riga da compilare.
    """
    codes = case_codes or []
    initial = [{"case_code": code, "reason": None} for code in codes]  # empty: the coordinator adds rows
    key = "close-" + hashlib.sha256(",".join(sorted(codes)).encode()).hexdigest()[:12]
    description = (
        "**Chiusura di pratiche**\n\nUna riga per pratica: il codice e il motivo. L'ente che ha segnalato "
        "la persona riceve un avviso. Solo codici: niente nomi né note (per «altro motivo» usare lo "
        "sportello o `incontro close --reason other --note ...`)."
    )
    rows, attempts = ask_until_valid(
        ClosureForm, key=key, description=description, field="closures", initial=initial, check=check
    )
    closed = close([{"case_code": r["case_code"], "reason": r["reason"]} for r in rows], actor=ACTOR)
    sent = send_outbox()
    return {"closed": len(closed), "attempts": attempts, "emails": sent}
