"""outbox: in-flight claim, failure category and coordinator alert columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00

The new ``sending`` status needs no DDL: the status column is a non-native enum (VARCHAR(9), no
CHECK constraint) and "sending" fits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sending_at", sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failure", sqltypes.AutoString(length=24), nullable=True))
        batch_op.add_column(sa.Column("alerted_at", sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_alerted_at"), ["alerted_at"], unique=False)


def downgrade() -> None:
    # Rows caught in flight cannot be represented without the new columns: mark them failed.
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'sending'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_alerted_at"))
        batch_op.drop_column("alerted_at")
        batch_op.drop_column("failure")
        batch_op.drop_column("sending_at")
