"""the quality review: reviews, milestones' dates and the phases of each case

Revision ID: 0011
Revises: 0010

Rows the indicators and the network report read by SQL (``store.indicators``), written by
each step's projection (``store.quality``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _str(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "case_review",
        sa.Column("case_id", _str(40), nullable=False),
        sa.Column("reviewer", _str(64), nullable=False),
        sa.Column("subject", _str(64), nullable=False),
        sa.Column("kind", _str(10), nullable=False),
        sa.Column("scenario", _str(20), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("timeliness", sa.Integer(), nullable=True),
        sa.Column("communication", sa.Integer(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("would_recommend", sa.Boolean(), nullable=True),
        sa.Column("reliability", sa.Integer(), nullable=True),
        sa.Column("contribution", sa.Integer(), nullable=True),
        sa.Column("would_collaborate_again", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", _str(5000), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("case_id", "reviewer", "subject"),
    )
    with op.batch_alter_table("case_review", schema=None) as batch_op:
        batch_op.create_index("ix_case_review_subject", ["subject", "submitted_at"], unique=False)
    op.create_table(
        "case_milestone",
        sa.Column("case_id", _str(40), nullable=False),
        sa.Column("deliverable_id", _str(40), nullable=False),
        sa.Column("hub_id", _str(64), nullable=False),
        sa.Column("due", _str(10), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("case_id", "deliverable_id"),
    )
    with op.batch_alter_table("case_milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_milestone_hub_id"), ["hub_id"], unique=False)
    op.create_table(
        "case_phase",
        sa.Column("case_id", _str(40), nullable=False),
        sa.Column("entered_seq", sa.Integer(), nullable=False),
        sa.Column("state", _str(20), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("case_id", "entered_seq"),
    )
    with op.batch_alter_table("case_phase", schema=None) as batch_op:
        batch_op.create_index("ix_case_phase_state", ["state", "entered_at"], unique=False)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_ended", ["state_since", "state", "scenario", "outcome", "id"], unique=False
        )
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.create_index("ix_timeline_event_type", ["type", "case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_event_type")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_ended")
    for table, index in (
        ("case_phase", "ix_case_phase_state"),
        ("case_milestone", "ix_case_milestone_hub_id"),
        ("case_review", "ix_case_review_subject"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
        op.drop_table(table)
