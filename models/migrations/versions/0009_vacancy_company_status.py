"""vacancy: the company as written, how it was found, and the status (open, closed, awaiting company)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-14 16:00:00

Vacancy files name companies as their senders know them (a legal name in any spelling, a
partita IVA), no longer only by our internal code. The import finds the company in the member
registry and keeps how (``company_match``, ``company_confidence``, ``company_reason``) next to
what the file said (``company_written``, ``company_vat``). A company it cannot find no longer
refuses the row: the position is stored with ``company_code`` NULL and status
``awaiting_company`` until a coordinator assigns it (``incontro assign-company``). A position
past its deadline is stored ``closed`` and never matched. Existing vacancies were all imported
by code: they are ``open`` and matched "by code".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = sa.Enum("open", "closed", "awaiting_company", name="vacancystatus", native_enum=False, length=16)


def upgrade() -> None:
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.alter_column("company_code", existing_type=sqltypes.AutoString(), nullable=True)
        batch_op.add_column(sa.Column("company_written", sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("company_vat", sqltypes.AutoString(length=11), nullable=True))
        batch_op.add_column(sa.Column("company_match", sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column("company_confidence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("company_reason", sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("status", STATUS, nullable=False, server_default="open"))
        batch_op.create_index(batch_op.f("ix_vacancy_status"), ["status"], unique=False)
    op.execute("UPDATE vacancy SET company_match = 'code', company_confidence = 100")
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=STATUS, server_default=None)


def downgrade() -> None:
    op.execute("DELETE FROM vacancy WHERE company_code IS NULL")
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vacancy_status"))
        batch_op.drop_column("status")
        batch_op.drop_column("company_reason")
        batch_op.drop_column("company_confidence")
        batch_op.drop_column("company_match")
        batch_op.drop_column("company_vat")
        batch_op.drop_column("company_written")
        batch_op.alter_column("company_code", existing_type=sqltypes.AutoString(), nullable=False)
