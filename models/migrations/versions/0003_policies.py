"""policies: training offers, policy measures and their events, coordination-table meetings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tavolo_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("decisions_recorded", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tavolo_meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tavolo_meeting_held_on"), ["held_on"], unique=True)

    op.create_table(
        "training_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("body_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("occupation_codes", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("italian_min", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("italian_target", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("co_funded", sa.Boolean(), nullable=False),
        sa.Column("vacancy_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("internship", sa.Boolean(), nullable=False),
        sa.Column("allowance", sa.Boolean(), nullable=False),
        sa.Column("import_file_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_code"],
            ["organisation.code"],
        ),
        sa.ForeignKeyConstraint(
            ["import_file_id"],
            ["import_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vacancy_code"],
            ["vacancy.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_offer_body_code"), ["body_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_offer_code"), ["code"], unique=True)
        batch_op.create_index(batch_op.f("ix_training_offer_vacancy_code"), ["vacancy_code"], unique=False)

    op.create_table(
        "policy_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("gol", "dul", "garanzia_giovani", "territorial", "training", name="measurekind", native_enum=False),
            nullable=False,
        ),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pathway", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("training_offer_id", sa.Integer(), nullable=True),
        sa.Column("provider_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "chosen",
                "not_chosen",
                "started",
                "completed",
                "internship",
                "hired",
                "dropped",
                name="measurestatus",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("proposed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("expected_end", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("hours_attended", sa.Integer(), nullable=False),
        sa.Column("allowance_due", sa.Boolean(), nullable=True),
        sa.Column("internship_on", sa.Date(), nullable=True),
        sa.Column("hired_on", sa.Date(), nullable=True),
        sa.Column("contract_days", sa.Integer(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_code"],
            ["organisation.code"],
        ),
        sa.ForeignKeyConstraint(
            ["training_offer_id"],
            ["training_offer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policy_measure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_measure_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_measure_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_measure_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_measure_training_offer_id"), ["training_offer_id"], unique=False)

    op.create_table(
        "policy_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("flow_run_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["policy_measure.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policy_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_event_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_event_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_event_measure_id"), ["measure_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policy_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_event_measure_id"))
        batch_op.drop_index(batch_op.f("ix_policy_event_kind"))
        batch_op.drop_index(batch_op.f("ix_policy_event_case_id"))
        batch_op.drop_index(batch_op.f("ix_policy_event_at"))

    op.drop_table("policy_event")
    with op.batch_alter_table("policy_measure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_measure_training_offer_id"))
        batch_op.drop_index(batch_op.f("ix_policy_measure_status"))
        batch_op.drop_index(batch_op.f("ix_policy_measure_code"))
        batch_op.drop_index(batch_op.f("ix_policy_measure_case_id"))

    op.drop_table("policy_measure")
    with op.batch_alter_table("training_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_offer_vacancy_code"))
        batch_op.drop_index(batch_op.f("ix_training_offer_code"))
        batch_op.drop_index(batch_op.f("ix_training_offer_body_code"))

    op.drop_table("training_offer")
    with op.batch_alter_table("tavolo_meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tavolo_meeting_held_on"))

    op.drop_table("tavolo_meeting")
