"""desk: operators' accounts, sessions, login attempts, case notes and attendance marks

Revision ID: 0012
Revises: 0011

The operators' desk (portal/desk, docs/DESK.md) signs people in with Argon2-hashed passwords,
keeps server-side sessions (the token's hash and the CSRF token), counts login attempts to
throttle guessing, and stores the notes and present/absent marks operators write on cases.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("operator", "coordinator", "privacy_officer")


def upgrade() -> None:
    op.create_table(
        "desk_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("full_name", sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sa.Enum(*ROLES, name="role", native_enum=False, length=15), nullable=False),
        sa.Column("office_code", sqltypes.AutoString(length=20), nullable=True),
        sa.Column("password_hash", sqltypes.AutoString(length=512), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_desk_user_username"), "desk_user", ["username"], unique=True)
    op.create_table(
        "desk_session",
        sa.Column("token_hash", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["desk_user.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_desk_session_user_id"), "desk_session", ["user_id"], unique=False)
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_login_attempt_username"), "login_attempt", ["username"], unique=False)
    op.create_index(op.f("ix_login_attempt_client"), "login_attempt", ["client"], unique=False)
    op.create_index(op.f("ix_login_attempt_at"), "login_attempt", ["at"], unique=False)
    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_note_case_id"), "case_note", ["case_id"], unique=False)
    op.create_table(
        "desk_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("actor", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "day", name="uq_attendance_case_day"),
    )
    op.create_index(op.f("ix_desk_attendance_case_id"), "desk_attendance", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_desk_attendance_case_id"), table_name="desk_attendance")
    op.drop_table("desk_attendance")
    op.drop_index(op.f("ix_case_note_case_id"), table_name="case_note")
    op.drop_table("case_note")
    for column in ("at", "client", "username"):
        op.drop_index(op.f(f"ix_login_attempt_{column}"), table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_index(op.f("ix_desk_session_user_id"), table_name="desk_session")
    op.drop_table("desk_session")
    op.drop_index(op.f("ix_desk_user_username"), table_name="desk_user")
    op.drop_table("desk_user")
