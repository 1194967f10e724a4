"""related lists: each article's ranked related list, materialized at index time

Revision ID: 0005_related_lists
Revises: 0003_crawl_run_exit
"""
from alembic import op
import sqlalchemy as sa


revision = "0005_related_lists"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "related_lists",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("index_version", sa.Integer(), nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "model"),
    )


def downgrade() -> None:
    op.drop_table("related_lists")
