"""person: each phone as written and whether it was verified

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-14 17:00:00

A phone no longer refuses a referral: it is read in the most likely region (Italian first, then
the regions the row's citizenship, birth place and languages suggest), and the person keeps what
the partner wrote (``phone_raw``, ``phone_secondary_raw``: notes such as "ore pasti" included),
the E.164 form (``phone``, ``phone_secondary``, as before) and whether that form is a valid number
of its region (``phone_verified``, ``phone_secondary_verified``) rather than only of a possible
length. Existing rows were imported when only verified Italian or prefixed numbers were kept:
their numbers are marked verified, with nothing as written. All four are blanked on erasure.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

person = sa.table(
    "person",
    sa.column("phone", sa.String),
    sa.column("phone_verified", sa.Boolean),
    sa.column("phone_secondary", sa.String),
    sa.column("phone_secondary_verified", sa.Boolean),
)


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_raw", sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("phone_verified", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("phone_secondary_raw", sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("phone_secondary_verified", sa.Boolean(), nullable=True))
    op.execute(person.update().where(person.c.phone.is_not(None)).values(phone_verified=True))
    op.execute(person.update().where(person.c.phone_secondary.is_not(None)).values(phone_secondary_verified=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("phone_secondary_verified")
        batch_op.drop_column("phone_secondary_raw")
        batch_op.drop_column("phone_verified")
        batch_op.drop_column("phone_raw")
