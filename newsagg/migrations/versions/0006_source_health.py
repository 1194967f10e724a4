"""source health: per crawl run and source, extraction figures and skips (crawler/health.py)

Revision ID: 0006_source_health
Revises: 0003_crawl_run_exit
"""
from alembic import op
import sqlalchemy as sa


revision = "0006_source_health"
down_revision = "0005_related_lists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_health",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("missing_body", sa.Integer(), nullable=False),
        sa.Column("missing_title", sa.Integer(), nullable=False),
        sa.Column("missing_date", sa.Integer(), nullable=False),
        sa.Column("missing_author", sa.Integer(), nullable=False),
        sa.Column("median_body_words", sa.Integer(), nullable=False),
        sa.Column("skips", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "source"),
    )
    op.create_index("ix_source_health_source", "source_health", ["source"])


def downgrade() -> None:
    op.drop_index("ix_source_health_source", table_name="source_health")
    op.drop_table("source_health")
