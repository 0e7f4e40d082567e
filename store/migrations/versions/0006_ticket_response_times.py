"""when an agent claimed a handed-off conversation and first answered it (console queue, analytics)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("claimed_at", store.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_response_at", store.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("first_response_at")
        batch.drop_column("claimed_at")
