"""overdue flag on cases, subject on link tokens

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch_op:
        batch_op.add_column(
            sa.Column("overdue", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_case_overdue", ["overdue"], unique=False)
    with op.batch_alter_table("linktoken") as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch_op.alter_column(
            "purpose", existing_type=sa.String(length=80), type_=sa.String(length=120)
        )


def downgrade() -> None:
    with op.batch_alter_table("linktoken") as batch_op:
        batch_op.alter_column(
            "purpose", existing_type=sa.String(length=120), type_=sa.String(length=80)
        )
        batch_op.drop_column("subject")
    with op.batch_alter_table("case") as batch_op:
        batch_op.drop_index("ix_case_overdue")
        batch_op.drop_column("overdue")
