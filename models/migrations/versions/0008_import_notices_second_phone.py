"""import_file.notices and person.phone_secondary: nothing a partner sends is dropped silently

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14 15:00:00

A referral file told its sender nothing about the columns the importer did not use, and a file
without consent columns had every case rejected without a word. ``import_file.notices`` keeps,
for the acknowledgement and for the coordinators, the columns not used (headers as written)
and the file-level warnings (codes: "consent_columns_missing" lets the cases of such a file
wait for the consent to be collected at the CPI instead of being rejected). A header repeated
for one field ("Telefono" twice: mobile and family landline) now keeps the second number in
``person.phone_secondary`` (E.164), blanked on erasure like every identifier.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notices", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_secondary", sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("phone_secondary")
    with op.batch_alter_table("import_file", schema=None) as batch_op:
        batch_op.drop_column("notices")
