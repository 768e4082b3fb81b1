"""followup: the 180-day check of every hire (outcome.observed_on; hires given their step)

Revision ID: 0014
Revises: 0013

A hire is checked 180 days after it started: still employed, left, or not found out
(``outcome.kind`` employed_180 / left_180 / unknown_180, the day in the new ``observed_on``).
Hired cases that exist get the step "follow_up_180", owned by their CPI, due on the first
business day from the 180th day after the hire's start (or its recording); a hire already
checked, or a case that has a step, is left as it is.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from tasks.core.calendar import add_business_days

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As config/next_steps.yaml and tasks/core/next_steps.py have it at this revision (frozen here).
STEP, DAYS = "follow_up_180", 180
CHECKED = ("employed_180", "left_180", "unknown_180")

case = sa.table(
    "case",
    sa.column("id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("office_code", sa.String),
    sa.column("next_step", sa.String),
    sa.column("next_due", sa.Date),
    sa.column("owner", sa.String),
)
outcome = sa.table(
    "outcome",
    sa.column("case_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("start", sa.Date),
    sa.column("recorded_at", sa.DateTime),
)


def _day(value: object) -> date | None:
    """A DATE or DATETIME as SQLite or PostgreSQL hands it back."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.add_column(sa.Column("observed_on", sa.Date(), nullable=True))
    conn = op.get_bind()
    checked = {row[0] for row in conn.execute(sa.select(outcome.c.case_id).where(outcome.c.kind.in_(CHECKED)))}
    hires = conn.execute(
        sa.select(case.c.id, case.c.office_code, outcome.c.start, outcome.c.recorded_at)
        .join(outcome, outcome.c.case_id == case.c.id)
        .where(case.c.state == "hired", case.c.next_step.is_(None), outcome.c.kind == "hired")
    ).all()
    for case_id, office, start, recorded in hires:
        began = _day(start) or _day(recorded)
        if case_id in checked or began is None:
            continue
        conn.execute(
            case.update()
            .where(case.c.id == case_id)
            .values(
                next_step=STEP,
                owner=office or "coordinators",
                next_due=add_business_days(began + timedelta(days=DAYS), 0),
            )
        )


def downgrade() -> None:
    op.execute(case.update().where(case.c.next_step == STEP).values(next_step=None, owner=None, next_due=None))
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.drop_column("observed_on")
