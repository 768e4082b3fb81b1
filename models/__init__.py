"""Tables, enums, schemas and the (pure) case state machine."""

from models.accounts import Attendance, CaseNote, DeskSession, DeskUser, LoginAttempt
from models.cases import Assessment, Case, CaseEvent, CodeSequence, Enrollment, Profile
from models.enums import State
from models.exchange import (
    CompanyLink,
    DispatchBatch,
    DispatchItem,
    Interest,
    Match,
    Outcome,
    Vacancy,
)
from models.ops import (
    AuditLog,
    DedupReview,
    ImportFile,
    ImportRow,
    Outbox,
    OutboxAttachment,
)
from models.people import Consent, Organisation, Person, PersonKey, Referral
from models.policy import PolicyEvent, PolicyMeasure, TavoloMeeting, TrainingOffer

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
