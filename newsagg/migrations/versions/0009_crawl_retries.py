"""crawl retries: transient download failures waiting for a later crawl (attempts, next try)

Revision ID: 0009_crawl_retries
Revises: 0003_crawl_run_exit
"""
from alembic import op
import sqlalchemy as sa

from newsagg.models import UTCDateTime

revision = "0009_crawl_retries"
down_revision = "0008_article_entities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_retries",
        sa.Column("url", sa.String(length=2000), primary_key=True),
        sa.Column("source", sa.String(length=100), nullable=False, server_default=""),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("first_failed_at", UTCDateTime(), nullable=False),
        sa.Column("last_failed_at", UTCDateTime(), nullable=False),
        sa.Column("next_try_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_crawl_retries_source", "crawl_retries", ["source"])
    op.create_index("ix_crawl_retries_next_try_at", "crawl_retries", ["next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_crawl_retries_next_try_at", table_name="crawl_retries")
    op.drop_index("ix_crawl_retries_source", table_name="crawl_retries")
    op.drop_table("crawl_retries")
