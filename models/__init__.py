"""Tables, enums, schemas and the (pure) case state machine.

Importing the package (or one of its small modules: ``models.clock``, ``models.enums``) loads no
table: a flow run is a new process that imports its stage module first (issue 16), and each
SQLModel table costs pydantic and SQLAlchemy work at import. A module imports the table modules
it uses (``from models.cases import Case``); each table module imports the modules its foreign
keys point to, so a flush always finds the referenced tables. The names below are still importable
from ``models`` (loaded on first use); ``import models.tables`` registers every table on
``SQLModel.metadata`` (migrations, schema checks).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.accounts import Attendance, CaseNote, DeskSession, DeskUser, LoginAttempt
    from models.cases import Assessment, Case, CaseEvent, CodeSequence, Enrollment, Profile
    from models.enums import State
    from models.exchange import CompanyLink, DispatchBatch, DispatchItem, Interest, Match, Outcome, Vacancy
    from models.ops import AuditLog, DedupReview, ImportFile, ImportRow, Outbox, OutboxAttachment
    from models.people import Consent, Organisation, Person, PersonKey, Referral
    from models.policy import PolicyEvent, PolicyMeasure, TavoloMeeting, TrainingOffer

#: Where each re-exported name lives (``from models import Case`` imports models.cases then).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("Attendance", "CaseNote", "DeskSession", "DeskUser", "LoginAttempt"), "accounts"),
    **dict.fromkeys(("Assessment", "Case", "CaseEvent", "CodeSequence", "Enrollment", "Profile"), "cases"),
    "State": "enums",
    **dict.fromkeys(
        ("CompanyLink", "DispatchBatch", "DispatchItem", "Interest", "Match", "Outcome", "Vacancy"), "exchange"
    ),
    **dict.fromkeys(("AuditLog", "DedupReview", "ImportFile", "ImportRow", "Outbox", "OutboxAttachment"), "ops"),
    **dict.fromkeys(("Consent", "Organisation", "Person", "PersonKey", "Referral"), "people"),
    **dict.fromkeys(("PolicyEvent", "PolicyMeasure", "TavoloMeeting", "TrainingOffer"), "policy"),
}

__all__ = [
    "Assessment",
    "Attendance",
    "AuditLog",
    "Case",
    "CaseEvent",
    "CaseNote",
    "CodeSequence",
    "CompanyLink",
    "Consent",
    "DedupReview",
    "DeskSession",
    "DeskUser",
    "DispatchBatch",
    "DispatchItem",
    "Enrollment",
    "ImportFile",
    "ImportRow",
    "Interest",
    "LoginAttempt",
    "Match",
    "Organisation",
    "Outbox",
    "OutboxAttachment",
    "Outcome",
    "Person",
    "PersonKey",
    "PolicyEvent",
    "PolicyMeasure",
    "Profile",
    "Referral",
    "State",
    "TavoloMeeting",
    "TrainingOffer",
    "Vacancy",
]


def __getattr__(name: str) -> Any:
    """``models.Case`` and ``from models import Case``: the table module is imported on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"models.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
