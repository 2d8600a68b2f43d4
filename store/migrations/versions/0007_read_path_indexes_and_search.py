"""indexes in the order of every case list, the case's creation time on its parties, title search

Revision ID: 0007
Revises: 0006

Every list is newest first (``created_at DESC, id DESC``): each filter gets an index in that
order, so a page is read from the index and stops after ``limit`` rows instead of sorting every
match. A hub's cases are found through ``caseparty``: it gets the case's ``created_at`` (set
once, never changed) and an index ``(hub_id, created_at, case_id)``.

Title search: on SQLite an FTS5 table ``case_search`` (rowid = the case's rowid) kept in step by
triggers on ``case``; on PostgreSQL a GIN index over the title's ``tsvector``, accents removed
by ``unaccent`` and punctuation turned into spaces (``dihflow_search_text``). Existing cases are
indexed here. The SQLite triggers live on the ``case`` table: a later migration that rebuilds it
(batch "move and copy") must create them again and refill ``case_search``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE case_search USING fts5("
    "title, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
    'INSERT INTO case_search (rowid, title) SELECT rowid, title FROM "case"',
    'CREATE TRIGGER case_search_insert AFTER INSERT ON "case" BEGIN '
    "INSERT INTO case_search (rowid, title) VALUES (new.rowid, new.title); END",
    'CREATE TRIGGER case_search_update AFTER UPDATE OF title ON "case" BEGIN '
    "UPDATE case_search SET title = new.title WHERE rowid = old.rowid; END",
    'CREATE TRIGGER case_search_delete AFTER DELETE ON "case" BEGIN '
    "DELETE FROM case_search WHERE rowid = old.rowid; END",
]

# unaccent is not immutable (its dictionary could change), so an index cannot call it
# directly; this wrapper names the dictionary and is declared immutable, the usual way.
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION dihflow_search_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT regexp_replace({schema}.unaccent('{schema}.unaccent'::regdictionary, value),
                        '[[:punct:]]+', ' ', 'g')
$$
"""
POSTGRES_INDEX = (
    'CREATE INDEX ix_case_title_search ON "case" '
    "USING gin (to_tsvector('simple'::regconfig, dihflow_search_text(title)))"
)

CASE_INDEXES = {
    "ix_case_created": ["created_at", "id"],
    "ix_case_state_created": ["state", "created_at", "id"],
    "ix_case_scenario_created": ["scenario", "created_at", "id"],
    "ix_case_overdue_created": ["overdue", "created_at", "id"],
}
SUPERSEDED = {  # each the leading part of a new one, or never read
    "ix_case_state_updated": ["state", "updated_at"],
    "ix_case_scenario": ["scenario"],
    "ix_case_overdue": ["overdue"],
}


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("caseparty") as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        'UPDATE caseparty SET created_at = (SELECT "case".created_at FROM "case" '
        'WHERE "case".id = caseparty.case_id)'
    )
    with op.batch_alter_table("caseparty") as batch_op:
        batch_op.alter_column(
            "created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.drop_index("ix_caseparty_hub_id")
        batch_op.create_index("ix_caseparty_hub_created", ["hub_id", "created_at", "case_id"])
    # Plain (not batch) operations: on SQLite a batch would rebuild "case", and its rowids
    # are what case_search refers to.
    for name, columns in CASE_INDEXES.items():
        op.create_index(name, "case", columns)
    for name in SUPERSEDED:
        op.drop_index(name, table_name="case")
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        schema = bind.execute(
            sa.text(
                "SELECT n.nspname FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
            )
        ).scalar_one()
        op.execute(POSTGRES_FUNCTION.format(schema=schema))
        op.execute(POSTGRES_INDEX)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("case_search_insert", "case_search_update", "case_search_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS case_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_case_title_search")
        op.execute("DROP FUNCTION IF EXISTS dihflow_search_text(text)")
    for name, columns in SUPERSEDED.items():
        op.create_index(name, "case", columns)
    for name in CASE_INDEXES:
        op.drop_index(name, table_name="case")
    with op.batch_alter_table("caseparty") as batch_op:
        batch_op.drop_index("ix_caseparty_hub_created")
        batch_op.create_index("ix_caseparty_hub_id", ["hub_id"])
        batch_op.drop_column("created_at")
