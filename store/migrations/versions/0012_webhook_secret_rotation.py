"""webhook secrets sealed at rest, and rotated with an overlap window

Revision ID: 0012
Revises: 0011

``secret`` holds the secret sealed with the payload key ring (longer than the raw one);
``previous_secret`` and ``previous_until`` keep the secret a rotation replaced, still signing
deliveries beside the new one until then.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.alter_column(
            "secret",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=80),
            type_=sqlmodel.sql.sqltypes.AutoString(length=300),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column(
                "previous_secret", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True
            )
        )
        batch_op.add_column(sa.Column("previous_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_column("previous_until")
        batch_op.drop_column("previous_secret")
        batch_op.alter_column(
            "secret",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=300),
            type_=sqlmodel.sql.sqltypes.AutoString(length=80),
            existing_nullable=False,
        )
