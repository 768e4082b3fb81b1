"""case: why a case waits at its next step (e.g. "assign_office": unresolved comune)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 12:00:00

A municipality no longer refuses a referral row: a case whose comune names no CPI (unresolved,
empty, outside the province) stays REFERRED with next_step "assign_office" for the coordinators,
and this column keeps the reason as a code (no personal data). Existing cases have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_step_reason", sqltypes.AutoString(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("next_step_reason")
