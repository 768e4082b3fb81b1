"""mail_relay: the SMTP relay's outage (start, backoff, once-only coordinator alert)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00

A relay outage no longer counts against each message's attempts; the drain backs off as a whole
and alerts coordinators once, which must survive restarts: hence a row per relay (host:port).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_relay",
        sa.Column("relay", sqltypes.AutoString(length=300), nullable=False),
        sa.Column("down_since", sqltypes.UTCDateTime(), nullable=True),
        sa.Column("failed_probes", sa.Integer(), nullable=False),
        sa.Column("next_probe_at", sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqltypes.AutoString(), nullable=True),
        sa.Column("alerted_at", sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("relay"),
    )


def downgrade() -> None:
    op.drop_table("mail_relay")
