"""case_summary and case_hub_summary: one narrow row per ended case and one per hub of it,
the figures the indicators and the network report add up

Revision ID: 0014
Revises: 0013

Filled here from the cases already in an ending, by the function the projection writes them
with (``store.summary.rebuild_summaries``), so an upgraded store's indicators are those it
gave before the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the columns as this revision made them (the module's names may grow later)
SURVEY = ("quality", "timeliness", "communication", "value", "rating")
PHASES = (
    "requested",
    "partnering",
    "matching",
    "introducing",
    "meeting",
    "drafting",
    "legal_review",
    "signing",
    "delivery",
    "development",
    "pilot",
    "follow_up",
    "review",
)
SETBACKS = (
    "invitation_declined",
    "invitation_lapsed",
    "consent_declined",
    "signature_declined",
    "changes_requested",
    "deliverable_rejected",
    "deliverable_overdue",
)
HUB_FIGURES = (
    "peer_reliability",
    "peer_contribution",
    "peer_again",
    "peer_n",
    "on_time",
    "on_time_n",
    "invitations_accepted",
    "invitations_n",
    "response_days",
    "responses_n",
)


def _figure(name: str) -> sa.Column:  # type: ignore[type-arg]
    kind = sa.Float() if name.endswith("_days") else sa.Integer()
    return sa.Column(name, kind, nullable=False, server_default="0")


def upgrade() -> None:
    survey = [f"{s}_{part}" for s in SURVEY for part in ("sum", "n")]
    phases = [f"{p}_{part}" for p in PHASES for part in ("days", "n")]
    case_figures = (
        ["multi_hub", "cross_border", *survey, "recommend_yes", "recommend_n"]
        + list(HUB_FIGURES)
        + phases
        + [f"{t}_n" for t in SETBACKS]
    )
    op.create_table(
        "case_summary",
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scenario", sa.String(20), nullable=False),
        sa.Column("ending", sa.String(20), nullable=False),
        sa.Column("lead_hub_id", sa.String(64), nullable=False),
        sa.Column("end_reason", sa.String(500), nullable=False, server_default=""),
        *(_figure(name) for name in case_figures),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_case_summary_period", "case_summary", ["ended_at", "scenario", "ending"])
    op.create_table(
        "case_hub_summary",
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("hub_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scenario", sa.String(20), nullable=False),
        sa.Column("lead_hub_id", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2), nullable=False, server_default=""),
        sa.Column("lead_country", sa.String(2), nullable=False, server_default=""),
        *(_figure(name) for name in HUB_FIGURES),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("case_id", "hub_id"),
    )
    op.create_index(
        "ix_case_hub_summary_period",
        "case_hub_summary",
        ["ended_at", "role", "scenario", "lead_hub_id", "hub_id", "lead_country", "country"],
    )
    op.create_index("ix_case_hub_summary_hub", "case_hub_summary", ["hub_id", "ended_at"])
    op.create_index("ix_case_hub_summary_lead", "case_hub_summary", ["lead_hub_id", "ended_at"])

    # Filled by today's ``store.summary``: a later migration that changes the summaries'
    # columns must summarise again itself, and this call must then go (a store upgraded from
    # before 0014 would otherwise be filled with columns this revision does not have).
    from store.summary import rebuild_summaries

    rebuild_summaries(op.get_bind())


def downgrade() -> None:
    op.drop_table("case_hub_summary")  # and its indexes
    op.drop_table("case_summary")
