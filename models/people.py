"""People, partners, referrals and consents: the only place identifiers live."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint, event
from sqlalchemy.orm.attributes import get_history
from sqlmodel import Field, SQLModel

from models import cases, ops  # noqa: F401  (its foreign keys' tables, registered before any flush)
from models.base import enum_column, json_column, new_token
from models.clock import utcnow
from models.enums import Channel, ConsentPurpose, Language, OrgKind


class PersonKey(SQLModel, table=True):
    """The pseudonymous handle every other table uses; survives erasure."""

    __tablename__ = "person_key"
    token: str = Field(default_factory=new_token, primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    erased_at: datetime | None = None


class Person(SQLModel, table=True):
    """Direct identifiers of one person; blanked on erasure (the key stays)."""

    __tablename__ = "person"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(foreign_key="person_key.token", unique=True, index=True, max_length=32)
    family_name: str = ""
    given_names: str = ""
    native_family_name: str = ""
    native_given_names: str = ""
    name_norm: str = Field(default="", index=True, description="normalised full name for dedup")
    #: The desk's search key: each word of ``name_norm`` folded across transliterations
    #: (``tasks.files.normalize.name_key(name_norm)``: Olha/Olga, Serhii/Sergey meet). Empty means
    #: "not folded yet" and the desk folds that name when it searches (portal/desk/cases.py).
    name_key: str = Field(default="", index=True, description="name_norm folded for the desk's search")
    birth_date: date | None = Field(default=None, index=True)
    sex: str | None = None
    birth_place: str | None = None
    citizenship: str | None = None
    codice_fiscale: str | None = Field(default=None, index=True)
    phone: str | None = Field(default=None, index=True, description="E.164")
    phone_raw: str | None = Field(default=None, max_length=200, description="the phone as the partner wrote it")
    phone_verified: bool | None = Field(default=None, description="a valid number of its region, not just possible")
    phone_secondary: str | None = Field(
        default=None, index=True, description="a second number, E.164 (the family's landline)"
    )
    phone_secondary_raw: str | None = Field(default=None, max_length=200, description="as written")
    phone_secondary_verified: bool | None = Field(default=None, description="a valid number of its region")
    email: str | None = Field(default=None, index=True)
    municipality: str | None = None
    permit_type: str | None = None
    permit_expiry: date | None = None
    languages: list[str] = Field(default_factory=list, sa_column=json_column())
    preferred_language: Language = Field(default=Language.IT, sa_column=enum_column(Language))
    created_at: datetime = Field(default_factory=utcnow)


@event.listens_for(Person, "before_update")
def _name_key_follows_name(_mapper: object, _connection: object, person: Person) -> None:
    """A name changed without its search key (erasure blanks it, a rectification corrects it):
    the old key goes too, so no trace of the old name stays and the desk folds the new one."""
    if get_history(person, "name_norm").has_changes() and not get_history(person, "name_key").has_changes():
        person.name_key = ""


class Organisation(SQLModel, table=True):
    """A partner: referrer, CPI office, CPIA, Confindustria, company, training body."""

    __tablename__ = "organisation"
    code: str = Field(primary_key=True, max_length=64)
    kind: OrgKind = Field(sa_column=enum_column(OrgKind, index=True))
    name: str
    email: str
    language: Language = Field(default=Language.IT, sa_column=enum_column(Language))
    municipality: str | None = None
    address: str | None = None
    #: How often a referring partner wants the digest of its referrals' news (portal/partners).
    digest_frequency: str = Field(default="weekly", max_length=10, description="daily | weekly")
    #: The last case_event already told in a digest (a watermark: each news once).
    digest_last_event_id: int | None = None
    digest_sent_at: datetime | None = None


class Referral(SQLModel, table=True):
    """Who referred whom, when and how; several referrals may point to one case."""

    __tablename__ = "referral"
    #: A partner's referrals by person (portal/partners status page: newest referral of each case).
    __table_args__ = (Index("ix_referral_referrer_case", "referrer_code", "case_id"),)
    id: int | None = Field(default=None, primary_key=True)
    person_key: str = Field(foreign_key="person_key.token", index=True, max_length=32)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    referrer_code: str = Field(foreign_key="organisation.code", index=True)
    channel: Channel = Field(default=Channel.FILE, sa_column=enum_column(Channel))
    import_file_id: int | None = Field(default=None, foreign_key="import_file.id", index=True)
    row_number: int | None = None
    experiences_text: str = Field(default="", description="job titles as the referrer typed them")
    self_italian_level: str | None = None
    education_text: str | None = None
    licence_text: str | None = None
    received_at: datetime = Field(default_factory=utcnow)


class Consent(SQLModel, table=True):
    """A recorded consent for one purpose (and recipient); shares join on a valid one."""

    __tablename__ = "consent"
    __table_args__ = (UniqueConstraint("person_key", "purpose", "recipient_code", name="uq_consent_scope"),)
    id: int | None = Field(default=None, primary_key=True)
    person_key: str = Field(foreign_key="person_key.token", index=True, max_length=32)
    purpose: ConsentPurpose = Field(sa_column=enum_column(ConsentPurpose))
    recipient_code: str = Field(default="*", description="organisation code, or * for the purpose's usual recipient")
    source: str = Field(default="referral_form")
    given_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    withdrawn_at: datetime | None = None
