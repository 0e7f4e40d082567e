"""customer satisfaction ratings of web chats (store/feedback.py)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "csat_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_csat_ratings_score"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "session_id", name="uq_csat_ratings_chat"),
    )


def downgrade() -> None:
    op.drop_table("csat_ratings")
