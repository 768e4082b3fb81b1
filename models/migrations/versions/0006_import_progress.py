"""import_file: how far each import got (steps done, events to announce, finished)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:00:00

An import killed between its steps used to be "already imported" for ever. Each step now records
itself with its work; a rerun of the file or the maintenance sweep finishes what is missing.
Existing referral imports left "ingested" (never acknowledged) are exactly those: they resume
after the ingest step. Every other existing import is marked finished as it stands.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_steps", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("pending_events", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("finished_at", sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_import_file_finished_at"), ["finished_at"], unique=False)
    op.execute(
        "UPDATE import_file SET completed_steps = '[\"ingest\"]' WHERE kind = 'referral' AND status = 'ingested'"
    )
    op.execute("UPDATE import_file SET finished_at = received_at WHERE NOT (kind = 'referral' AND status = 'ingested')")


def downgrade() -> None:
    with op.batch_alter_table("import_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_file_finished_at"))
        batch_op.drop_column("finished_at")
        batch_op.drop_column("pending_events")
        batch_op.drop_column("completed_steps")
