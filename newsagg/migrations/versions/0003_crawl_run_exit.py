"""crawl runs: exit status of the crawl process and which process ran it

Revision ID: 0003_crawl_run_exit
Revises: 0002_recommender_stories
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_crawl_run_exit"
down_revision = "0002_recommender_stories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exit_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_column("worker")
        batch_op.drop_column("exit_code")
