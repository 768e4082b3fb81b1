"""vacancy: the requirements coded to the skills list (config/skills.yaml)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:00:00

Profiles and vacancies are compared skill by skill on the codes of config/skills.yaml: a
profile's ``skills`` hold the codes the intake form records (the column exists and was always
empty), a vacancy keeps its requirements as written in ``skills`` and, from now on, their codes
in ``skill_codes``. Existing vacancies start with no codes (a migration never reads configuration
that may change later): matching compares their written requirements as before, and their next
import codes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skill_codes", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.alter_column("skill_codes", existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.drop_column("skill_codes")
