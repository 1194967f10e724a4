"""recommender stories: stories + article_stories

Revision ID: 0002_recommender_stories
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import newsagg.models


revision = "0002_recommender_stories"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("label_article_id", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("first_seen", newsagg.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", newsagg.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", newsagg.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["label_article_id"], ["articles.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stories_first_seen", "stories", ["first_seen"])
    op.create_index("ix_stories_last_seen", "stories", ["last_seen"])
    op.create_table(
        "article_stories",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id"),
    )
    op.create_index("ix_article_stories_story_id", "article_stories", ["story_id"])


def downgrade() -> None:
    op.drop_index("ix_article_stories_story_id", table_name="article_stories")
    op.drop_table("article_stories")
    op.drop_index("ix_stories_last_seen", table_name="stories")
    op.drop_index("ix_stories_first_seen", table_name="stories")
    op.drop_table("stories")
