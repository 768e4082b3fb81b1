"""Enumerations shared by tables, schemas and forms (values are stable storage strings)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where a case stands in the referral-to-hire flow (docs/ARCHITECTURE.md#data)."""

    REFERRED = "referred"
    DUPLICATE = "duplicate"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INTAKE_SCHEDULED = "intake_scheduled"
    INTAKE_DONE = "intake_done"
    NO_SHOW = "no_show"
    LITERACY = "literacy"
    PROFILE_READY = "profile_ready"
    DISPATCHED = "dispatched"
    INTEREST = "interest"
    INTERVIEW = "interview"
    HIRED = "hired"
    NOT_SELECTED = "not_selected"
    POLICY = "policy"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    ERASED = "erased"


class Cefr(StrEnum):
    """Common European Framework levels, ordered; PRE_A1 for people just starting."""

    PRE_A1 = "pre-A1"
    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"

    @property
    def rank(self) -> int:
        """Position from pre-A1 (0) to C2, looked up: matching asks it hundreds of thousands of times."""
        return _CEFR_RANK[self]


_CEFR_RANK: dict[Cefr, int] = {level: position for position, level in enumerate(Cefr)}


class OrgKind(StrEnum):
    CARITAS = "caritas"
    AMBITO = "ambito"
    ASSOCIATION = "association"
    CPIA = "cpia"
    CONFINDUSTRIA = "confindustria"
    LABOUR_SERVICE = "labour_service"
    COORDINATOR = "coordinator"
    TRAINING_BODY = "training_body"
    COMPANY = "company"
    CPI = "cpi"


class ConsentPurpose(StrEnum):
    """What a consent allows; shares select only cases holding the matching consent."""

    CPI_PROCESSING = "cpi_processing"
    CPIA_ENROLMENT = "cpia_enrolment"
    PROFILE_TO_CONFINDUSTRIA = "profile_to_confindustria"
    CONTACT_TO_COMPANY = "contact_to_company"
    REFERRER_CONTACT = "referrer_contact"


class Channel(StrEnum):
    FILE = "file"
    FORM = "form"
    API = "api"


class CloseReason(StrEnum):
    """Why a case was closed (the ``case_event`` reason); Italian labels in tasks/core/closure.py."""

    NO_SHOW_REPEATED = "no_show_repeated"
    MOVED_AWAY = "moved_away"
    FOUND_JOB_ALONE = "found_job_alone"
    NOT_REACHABLE = "not_reachable"
    NOT_INTERESTED = "not_interested"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    RETENTION = "retention"
    OTHER = "other"


class AssessmentSource(StrEnum):
    UNIBG_TEST = "unibg_test"
    CPIA_CERTIFICATE = "cpia_certificate"
    SELF_REPORT = "self_report"
    OPERATOR = "operator"


class Isced(StrEnum):
    """Education level, ISCED 2011 (0 = less than primary ... 8 = doctorate)."""

    NONE = "0"
    PRIMARY = "1"
    LOWER_SECONDARY = "2"
    UPPER_SECONDARY = "3"
    POST_SECONDARY = "4"
    SHORT_TERTIARY = "5"
    BACHELOR = "6"
    MASTER = "7"
    DOCTORATE = "8"


class Recognition(StrEnum):
    NOT_NEEDED = "not_needed"
    NOT_REQUESTED = "not_requested"
    IN_PROGRESS = "in_progress"
    RECOGNISED = "recognised"


class Licence(StrEnum):
    NONE = "none"
    B = "B"
    C = "C"
    CE = "CE"
    D = "D"
    FORKLIFT = "forklift"


class Availability(StrEnum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    SHIFTS = "shifts"


class VacancyStatus(StrEnum):
    """Open positions are matched; closed ones (deadline passed) and those waiting for the
    coordinators to name their company never are."""

    OPEN = "open"
    CLOSED = "closed"
    AWAITING_COMPANY = "awaiting_company"


class InterestAnswer(StrEnum):
    INTERESTED = "interested"
    INTERVIEW = "interview"
    NO = "no"


class OutcomeKind(StrEnum):
    HIRED = "hired"
    NOT_SELECTED = "not_selected"
    POLICY = "policy"
    # the 180-day follow-up of a hire (tasks/outcomes.py): still employed, left, not found out
    EMPLOYED_180 = "employed_180"
    LEFT_180 = "left_180"
    UNKNOWN_180 = "unknown_180"


class PolicyKind(StrEnum):
    GOL = "gol"
    DUL = "dul"
    GARANZIA_GIOVANI = "garanzia_giovani"
    TRAINING = "training"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a drain, SMTP transaction in flight (see tasks/mail/outbox.py)
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Language(StrEnum):
    IT = "it"
    EN = "en"
    UK = "uk"
