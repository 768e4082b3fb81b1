"""case: who acts on the next step (owner), and every open case given a next step

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14 12:00:00

Every open case has a next step, an owner and a due date (docs/ARCHITECTURE.md#data). This
adds ``owner`` (an office or organisation code, or "coordinators") and fills the existing open
cases: a case without a step gets its state's default as config/next_steps.yaml has it at this
revision (frozen below: a migration never reads configuration that may change later), due that
many business days after the migration; a step without a due date gets its step's delay; older
"misura …" steps become "policy_measure"; every open case gets its step's owner. Closed cases
are left as they are.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

from models.clock import today
from tasks.core.calendar import add_business_days

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = (
    "referred",
    "accepted",
    "intake_scheduled",
    "intake_done",
    "no_show",
    "literacy",
    "profile_ready",
    "dispatched",
    "interest",
    "interview",
    "not_selected",
    "policy",
)
#: step code → (owner kind, business days), as in config/next_steps.yaml at this revision.
STEPS: dict[str, tuple[str, int]] = {
    "review_referral": ("coordinator", 2),
    "assign_office": ("coordinator", 2),
    "schedule_intake": ("office", 2),
    "intake": ("office", 10),
    "route_after_intake": ("office", 1),
    "reschedule_intake": ("office", 3),
    "ask_consent_cpia": ("office", 5),
    "request_enrolment": ("office", 5),
    "literacy_course": ("cpia", 60),
    "ask_consent_confindustria": ("office", 5),
    "dispatch_profile": ("coordinator", 5),
    "await_interest": ("coordinator", 22),
    "arrange_interview": ("company", 10),
    "interview_outcome": ("company", 15),
    "repropose_profile": ("coordinator", 10),
    "choose_measure": ("office", 10),
    "policy_measure": ("operator", 10),
}
#: state → rows (condition or None, step), first match wins.
DEFAULTS: dict[str, list[tuple[str | None, str]]] = {
    "referred": [(None, "review_referral")],
    "accepted": [(None, "schedule_intake")],
    "intake_scheduled": [(None, "intake")],
    "intake_done": [(None, "route_after_intake")],
    "no_show": [(None, "reschedule_intake")],
    "literacy": [
        ("no_consent_cpia", "ask_consent_cpia"),
        ("course_open", "literacy_course"),
        (None, "request_enrolment"),
    ],
    "profile_ready": [("no_consent_confindustria", "ask_consent_confindustria"), (None, "dispatch_profile")],
    "dispatched": [(None, "await_interest")],
    "interest": [(None, "arrange_interview")],
    "interview": [(None, "interview_outcome")],
    "not_selected": [(None, "repropose_profile")],
    "policy": [(None, "choose_measure")],
}

case = sa.table(
    "case",
    sa.column("id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("person_key", sa.String),
    sa.column("office_code", sa.String),
    sa.column("next_step", sa.String),
    sa.column("next_due", sa.Date),
    sa.column("owner", sa.String),
)
consent = sa.table(
    "consent",
    sa.column("person_key", sa.String),
    sa.column("purpose", sa.String),
    sa.column("recipient_code", sa.String),
    sa.column("withdrawn_at", sa.DateTime),
    sa.column("expires_at", sa.DateTime),
)
enrollment = sa.table("enrollment", sa.column("id"), sa.column("case_id"), sa.column("cpia_code"), sa.column("outcome"))
interest = sa.table("interest", sa.column("id"), sa.column("case_id"), sa.column("company_code"), sa.column("answer"))
measure = sa.table(
    "policy_measure", sa.column("id"), sa.column("case_id"), sa.column("provider_code"), sa.column("status")
)
referral = sa.table("referral", sa.column("id"), sa.column("case_id"), sa.column("referrer_code"))


def _consents(purpose: str) -> sa.ColumnElement[bool]:
    now = datetime.now(UTC)
    return sa.exists(
        sa.select(sa.literal(1)).where(
            consent.c.person_key == case.c.person_key,
            consent.c.purpose == purpose,
            consent.c.recipient_code == "*",
            consent.c.withdrawn_at.is_(None),
            sa.or_(consent.c.expires_at.is_(None), consent.c.expires_at > now),
        )
    )


def _condition(name: str | None) -> sa.ColumnElement[bool]:
    if name is None:
        return sa.true()
    if name == "no_consent_cpia":
        return ~_consents("cpia_enrolment")
    if name == "no_consent_confindustria":
        return ~_consents("profile_to_confindustria")
    assert name == "course_open"
    return sa.exists(sa.select(sa.literal(1)).where(enrollment.c.case_id == case.c.id, enrollment.c.outcome.is_(None)))


def _latest(table: sa.TableClause, value: str, *where: sa.ColumnElement[bool], first: bool = False) -> sa.ScalarSelect:
    order = table.c.id.asc() if first else table.c.id.desc()
    return (
        sa.select(table.c[value])
        .where(table.c.case_id == case.c.id, table.c[value].is_not(None), *where)
        .order_by(order)
        .limit(1)
        .scalar_subquery()
    )


def _owner(kind: str) -> sa.ColumnElement[str]:
    office = sa.func.coalesce(case.c.office_code, "coordinators")
    if kind == "coordinator":
        return sa.literal("coordinators")
    if kind == "office":
        return office
    org = {
        "partner": _latest(referral, "referrer_code", first=True),
        "company": _latest(interest, "company_code", interest.c.answer != "no"),
        "cpia": _latest(enrollment, "cpia_code", enrollment.c.outcome.is_(None)),
        "operator": _latest(measure, "provider_code", measure.c.status.in_(["chosen", "started"])),
    }[kind]
    return sa.func.coalesce(org, case.c.office_code, "coordinators")


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_owner"), ["owner"], unique=False)
    is_open = case.c.state.in_(OPEN)
    day = today()
    op.execute(case.update().where(is_open, case.c.next_step.like("misura %")).values(next_step="policy_measure"))
    for state, rows in DEFAULTS.items():
        for condition, step in rows:
            op.execute(
                case.update()
                .where(case.c.state == state, case.c.next_step.is_(None), _condition(condition))
                .values(next_step=step, next_due=add_business_days(day, STEPS[step][1]))
            )
    for step, (kind, days) in STEPS.items():
        mine = sa.and_(is_open, case.c.next_step == step)
        op.execute(case.update().where(mine, case.c.next_due.is_(None)).values(next_due=add_business_days(day, days)))
        op.execute(case.update().where(mine).values(owner=_owner(kind)))
    known = case.c.next_step.in_(list(STEPS))
    op.execute(
        case.update().where(is_open, ~known, case.c.next_due.is_(None)).values(next_due=add_business_days(day, 10))
    )
    op.execute(case.update().where(is_open, ~known).values(owner=sa.func.coalesce(case.c.office_code, "coordinators")))


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_owner"))
        batch_op.drop_column("owner")
