"""partners: each referring organisation's choice of feedback digest (issue 20)

Revision ID: 0015
Revises: 0014

``organisation.digest_frequency`` (daily | weekly, weekly by default), the watermark of the
last case event told (``digest_last_event_id``: each news once) and when the last digest went;
an index on ``referral (referrer_code, case_id)`` for a partner's status page (10,000 referrals).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("digest_frequency", sa.String(length=10), nullable=False, server_default="weekly"))
        batch.add_column(sa.Column("digest_last_event_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("digest_sent_at", sa.DateTime(), nullable=True))
    op.create_index("ix_referral_referrer_case", "referral", ["referrer_code", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_referral_referrer_case", table_name="referral")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("digest_sent_at")
        batch.drop_column("digest_last_event_id")
        batch.drop_column("digest_frequency")
