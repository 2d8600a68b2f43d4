"""staff accounts, their sessions and failed sign-ins; when a case entered its state

Revision ID: 0008
Revises: 0007

``case.state_since`` is added in place (``ALTER TABLE ... ADD COLUMN``, no batch rebuild, so
the SQLite search triggers of 0007 stay) and filled for existing cases with their last
update, a close enough start of the state they are in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_account",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("username", sa.String(length=80), nullable=False, unique=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_sign_in_at", TS, nullable=True),
    )
    op.create_table(
        "staff_session",
        sa.Column("id_hash", sa.String(length=64), primary_key=True),
        sa.Column(
            "account_id", sa.String(length=40), sa.ForeignKey("staff_account.id"), nullable=False
        ),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_staff_session_account_id", "staff_session", ["account_id"])
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_sign_in_failure_username_at", "sign_in_failure", ["username", "at"])
    op.create_index("ix_sign_in_failure_address_at", "sign_in_failure", ["address", "at"])
    op.add_column("case", sa.Column("state_since", TS, nullable=True))
    op.execute('UPDATE "case" SET state_since = updated_at WHERE state_since IS NULL')


def downgrade() -> None:
    with op.batch_alter_table("case", recreate="never") as batch_op:
        batch_op.drop_column("state_since")
    op.drop_table("sign_in_failure")
    op.drop_table("staff_session")
    op.drop_table("staff_account")
