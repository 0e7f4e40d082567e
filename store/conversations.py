"""Rasa's stored conversations (the tracker store's `events` table), for privacy operations only.

Rasa writes this table; we read it to export a customer's conversations and delete from it to
erase a customer or apply retention. It lives in its own database (SQLite file or PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, MetaData, Table, delete, inspect, select

from store.database import create_shop_engine


class ConversationStore:
    """The `events` table of Rasa's SQL tracker store."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_shop_engine(url)

    def _events(self) -> Table | None:
        if not inspect(self.engine).has_table("events"):
            return None  # Rasa has not stored a conversation yet
        return Table("events", MetaData(), autoload_with=self.engine)

    def events_of(self, sender_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Every stored event of these conversations, oldest first."""
        events, senders = self._events(), list(sender_ids)
        if events is None or not senders:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(events.c.sender_id, events.c.data)
                .where(events.c.sender_id.in_(senders))
                .order_by(events.c.timestamp)
            )
            return [{"sender_id": row.sender_id, **json.loads(row.data)} for row in rows]

    def delete_conversations(self, sender_ids: Iterable[str]) -> int:
        """Delete every event of these conversations; returns how many."""
        events, senders = self._events(), list(sender_ids)
        if events is None or not senders:
            return 0
        with self.engine.begin() as connection:
            return int(connection.execute(delete(events).where(events.c.sender_id.in_(senders))).rowcount)

    def delete_older_than(self, epoch_seconds: float) -> int:
        """Delete every event stored before this time; returns how many."""
        events = self._events()
        if events is None:
            return 0
        with self.engine.begin() as connection:
            return int(connection.execute(delete(events).where(events.c.timestamp < epoch_seconds)).rowcount)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
