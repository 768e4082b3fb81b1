"""company_links: what went to which member company, interview days, hires per vacancy

Revision ID: 0016
Revises: 0015

Confindustria sends each member company its own signed page from a batch page, and an approved
shortlist goes to the vacancy's company the same way (portal/companies): ``company_link``
records each send (kind, batch or vacancy code, company, the profiles shown, when, by whom).
The company's shortlist page records the interview day (``interest.interview_on``) and the
hire or non-selection for that position (``outcome.vacancy_code``: per-vacancy funnel and
time-to-fill).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "company_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subject_code", sqltypes.AutoString(length=32), nullable=False),
        sa.Column("company_code", sqltypes.AutoString(), nullable=False),
        sa.Column("case_codes", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("sent_by", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("outbox_key", sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(["company_code"], ["organisation.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject_code", "company_code", name="uq_company_link"),
    )
    op.create_index(op.f("ix_company_link_subject_code"), "company_link", ["subject_code"], unique=False)
    op.create_index(op.f("ix_company_link_company_code"), "company_link", ["company_code"], unique=False)
    with op.batch_alter_table("interest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interview_on", sa.Date(), nullable=True))
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vacancy_code", sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_outcome_vacancy_code"), ["vacancy_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_vacancy_code"))
        batch_op.drop_column("vacancy_code")
    with op.batch_alter_table("interest", schema=None) as batch_op:
        batch_op.drop_column("interview_on")
    op.drop_index(op.f("ix_company_link_company_code"), table_name="company_link")
    op.drop_index(op.f("ix_company_link_subject_code"), table_name="company_link")
    op.drop_table("company_link")
