"""the framework agreement: editions, clauses, comments, amendments, votes, register, events

Revision ID: 0010
Revises: 0009

The read model of the framework agreement workflow (see ``store.framework``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _s(length: int | None = None) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "framework_edition",
        sa.Column("id", _s(40), nullable=False),
        sa.Column("label", _s(40), nullable=False),
        sa.Column("state", _s(20), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("opened_at", _ts(), nullable=False),
        sa.Column("deadline", _ts(), nullable=False),
        sa.Column("draft_sha256", _s(64), nullable=False),
        sa.Column("final_sha256", _s(64), nullable=True),
        sa.Column("final_document_id", _s(80), nullable=True),
        sa.Column("in_force_at", _ts(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_framework_edition_state", "framework_edition", ["state"])
    op.create_table(
        "framework_clause",
        sa.Column("edition_id", _s(40), nullable=False),
        sa.Column("version", _s(10), nullable=False),
        sa.Column("number", _s(10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", _s(200), nullable=False),
        sa.Column("text", _s(), nullable=False),
        sa.Column("sha256", _s(64), nullable=False),
        sa.PrimaryKeyConstraint("edition_id", "version", "number"),
    )
    op.create_table(
        "framework_comment",
        sa.Column("edition_id", _s(40), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clause", _s(10), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("hub_id", _s(64), nullable=False),
        sa.Column("text", _s(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("edition_id", "id"),
    )
    op.create_index("ix_framework_comment_clause", "framework_comment", ["clause"])
    op.create_table(
        "framework_amendment",
        sa.Column("edition_id", _s(40), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clause", _s(10), nullable=False),
        sa.Column("hub_id", _s(64), nullable=False),
        sa.Column("text", _s(), nullable=False),
        sa.Column("rationale", _s(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("votes_against", sa.Integer(), nullable=False),
        sa.Column("votes_abstain", sa.Integer(), nullable=False),
        sa.Column("decision", _s(10), nullable=True),
        sa.Column("reason", _s(), nullable=False),
        sa.Column("decided_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("edition_id", "id"),
    )
    op.create_table(
        "framework_vote",
        sa.Column("edition_id", _s(40), nullable=False),
        sa.Column("amendment_id", sa.Integer(), nullable=False),
        sa.Column("hub_id", _s(64), nullable=False),
        sa.Column("choice", _s(10), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("edition_id", "amendment_id", "hub_id"),
    )
    op.create_table(
        "framework_party",
        sa.Column("edition_id", _s(40), nullable=False),
        sa.Column("hub_id", _s(64), nullable=False),
        sa.Column("kind", _s(12), nullable=False),
        sa.Column("signed_at", _ts(), nullable=False),
        sa.Column("sha256", _s(64), nullable=False),
        sa.Column("representative_id", _s(64), nullable=False),
        sa.Column("signer_name", _s(200), nullable=False),
        sa.Column("notice_at", _ts(), nullable=True),
        sa.Column("withdrawal_at", _ts(), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("edition_id", "hub_id"),
    )
    op.create_table(
        "framework_event",
        sa.Column("edition_id", _s(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", _s(40), nullable=False),
        sa.Column("actor", _s(80), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev", _s(64), nullable=False),
        sa.Column("hash", _s(64), nullable=False),
        sa.PrimaryKeyConstraint("edition_id", "seq"),
    )


def downgrade() -> None:
    for table in (
        "framework_event",
        "framework_party",
        "framework_vote",
        "framework_amendment",
        "framework_comment",
        "framework_clause",
    ):
        op.drop_table(table)
    op.drop_index("ix_framework_edition_state", "framework_edition")
    op.drop_table("framework_edition")
