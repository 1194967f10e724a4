"""articles: the companies an article mentions (entities), kept apart from the tags of what it is about

Revision ID: 0008_article_entities
Revises: 0003_crawl_run_exit
"""
from alembic import op
import sqlalchemy as sa


revision = "0008_article_entities"
down_revision = "0006_source_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows get an empty list; `newsagg retag` fills it (and recomputes their tags) from the stored text.
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entities", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("entities")
