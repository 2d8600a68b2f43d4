"""idempotency keys name any created resource (cases, hubs, webhooks)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_key") as batch_op:
        batch_op.alter_column(
            "case_id",
            new_column_name="resource_id",
            existing_type=sa.String(length=40),
            type_=sa.String(length=80),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column("route", sa.String(length=80), nullable=False, server_default="cases")
        )


def downgrade() -> None:
    with op.batch_alter_table("idempotency_key") as batch_op:
        batch_op.drop_column("route")
        batch_op.alter_column(
            "resource_id",
            new_column_name="case_id",
            existing_type=sa.String(length=80),
            type_=sa.String(length=40),
            existing_nullable=False,
        )
