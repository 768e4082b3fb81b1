"""person: the desk's search key (the name folded across transliterations), second phone indexed

Revision ID: 0017
Revises: 0016

The operators' desk finds a person by name whichever way it was spelt: "Olga Shevchenko" finds
"Шевченко Ольга" (stored ``shevchenko olha``). ``person.name_key`` holds ``name_norm`` with each
word folded as ``tasks.files.normalize.name_key`` folds it (``shevcenko olga``), indexed, so the
search is one SQL pass instead of folding every name in Python at each search. Existing people
are filled here, with the fold of the code being installed: a search key must agree with the
code that folds what operators type (a later change of the fold rules refills the column the
same way). An empty key means "not folded yet": the desk folds those names itself.

The second phone is indexed like the first: the desk finds a person by either number.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

from tasks.files.normalize import name_key

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5_000


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sqltypes.AutoString(), nullable=False, server_default=""))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sqltypes.AutoString(), server_default=None)
        batch_op.create_index(batch_op.f("ix_person_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_phone_secondary"), ["phone_secondary"], unique=False)
    _fill()


def _fill() -> None:
    """Every person with a name gets its key, a chunk of rows per statement (by id)."""
    conn = op.get_bind()
    person = sa.table("person", sa.column("id", sa.Integer), sa.column("name_norm"), sa.column("name_key"))
    update = person.update().where(person.c.id == sa.bindparam("pid")).values(name_key=sa.bindparam("key"))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(person.c.id, person.c.name_norm)
            .where(person.c.id > last, person.c.name_norm != "")
            .order_by(person.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        conn.execute(update, [{"pid": pid, "key": name_key(norm)} for pid, norm in rows])
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_phone_secondary"))
        batch_op.drop_index(batch_op.f("ix_person_name_key"))
        batch_op.drop_column("name_key")
