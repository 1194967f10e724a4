"""articles: ids never reused on SQLite (AUTOINCREMENT); a GIN index for the tag filter on PostgreSQL

SQLite's plain INTEGER PRIMARY KEY hands the id of a deleted newest row to the next insert, and whatever keeps
ids (the FAISS index, related lists, embeddings) would then describe the wrong article. The table is rebuilt in
batch mode with AUTOINCREMENT (newsagg.engine.migrate turns foreign keys off around migrations, so the copy
cascades nothing). PostgreSQL's serial ids are never reused; there the tag filter gets its index instead.

Revision ID: 0004
Revises: 0003
"""
from alembic import op


revision = "0004"
down_revision = "0003_crawl_run_exit"
branch_labels = None
depends_on = None

TAG_INDEX = "ix_articles_tags_gin"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        with op.batch_alter_table("articles", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}) as batch_op:
            pass
    elif dialect == "postgresql":
        # the expression must be the one Store._has_tag writes, `tags::jsonb @> …`, for the planner to use it
        op.execute(f"CREATE INDEX IF NOT EXISTS {TAG_INDEX} ON articles USING gin ((tags::jsonb) jsonb_path_ops)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        with op.batch_alter_table("articles", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": False}) as batch_op:
            pass
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TAG_INDEX}")
