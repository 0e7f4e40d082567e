"""the conversation list filtered by channel reads its page in order from an index (bench-console)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 15:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # without it a channel's conversations are all fetched and sorted by last activity for every page
    op.create_index(
        "ix_console_conversations_channel_last_event", "console_conversations", ["channel", "last_event_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_console_conversations_channel_last_event", table_name="console_conversations")
