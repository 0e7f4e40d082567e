"""Reading Rasa's SQL tracker store (its `events` table: SQLite in the embedded profile, PostgreSQL in production).

Rasa writes the table; the console only reads it, apart from adding the index on `sender_id` when
the table has none (transcripts and erasure checks look conversations up by sender).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, MetaData, Select, Table, inspect, select, text

from store.database import create_shop_engine

logger = logging.getLogger(__name__)
SENDER_INDEX = "ix_events_sender_id"


@dataclass(frozen=True)
class TrackerEvent:
    """One stored Rasa event: its row id, conversation, type and the event's JSON."""

    id: int
    sender_id: str
    type_name: str
    timestamp: float
    data: dict[str, Any]


def mapping(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one: events written by other versions may lack fields."""
    return value if isinstance(value, dict) else {}


def _parse(row: Any) -> TrackerEvent | None:
    try:
        data = json.loads(row.data) if row.data else {}
    except (TypeError, ValueError):
        logger.warning("tracker event %s of %s is not JSON; skipped", row.id, row.sender_id)
        return None
    if not isinstance(data, dict):
        return None
    return TrackerEvent(int(row.id), str(row.sender_id), str(row.type_name), float(row.timestamp or 0.0), data)


def _columns(events: Table) -> Select[Any]:
    """The event columns every read here takes (what `_parse` needs)."""
    return select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)


class TrackerReader:
    """Reads events from the tracker database at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_shop_engine(url)
        self._table: Table | None = None

    def events_table(self) -> Table | None:
        """The `events` table, or None before Rasa has stored anything."""
        if self._table is None:
            if not inspect(self.engine).has_table("events"):
                return None
            self._table = Table("events", MetaData(), autoload_with=self.engine)
            self.ensure_sender_index()
        return self._table

    def ensure_sender_index(self) -> bool:
        """Create the index on `events.sender_id` if no index covers it; True when one was created."""
        indexes = inspect(self.engine).get_indexes("events")
        if any(list(index.get("column_names") or [])[:1] == ["sender_id"] for index in indexes):
            return False
        with self.engine.begin() as connection:
            connection.execute(text(f"CREATE INDEX IF NOT EXISTS {SENDER_INDEX} ON events (sender_id)"))
        logger.info("created index %s on the tracker store's events table", SENDER_INDEX)
        return True

    def events_after(self, last_id: int, limit: int) -> list[TrackerEvent]:
        """Up to `limit` events with an id above `last_id`, in id order (the order Rasa stored them)."""
        events = self.events_table()
        if events is None:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(_columns(events).where(events.c.id > last_id).order_by(events.c.id).limit(limit))
            return [event for row in rows if (event := _parse(row)) is not None]

    def recent_user_messages(self, limit: int) -> list[TrackerEvent]:
        """The latest `limit` customer messages (user events), newest first."""
        events = self.events_table()
        if events is None:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(
                _columns(events).where(events.c.type_name == "user").order_by(events.c.id.desc()).limit(limit)
            )
            return [event for row in rows if (event := _parse(row)) is not None]

    def event(self, event_id: int) -> TrackerEvent | None:
        """One event by its id."""
        events = self.events_table()
        if events is None:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(_columns(events).where(events.c.id == event_id)).first()
            return _parse(row) if row is not None else None

    def conversation(self, sender_id: str) -> list[TrackerEvent]:
        """Every event of one conversation, in the order stored."""
        events = self.events_table()
        if events is None:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(_columns(events).where(events.c.sender_id == sender_id).order_by(events.c.id))
            return [event for row in rows if (event := _parse(row)) is not None]

    def existing_senders(self, sender_ids: Sequence[str]) -> set[str]:
        """Which of these conversations still have events (erasure and retention delete them)."""
        events = self.events_table()
        if events is None or not sender_ids:
            return set()
        with self.engine.connect() as connection:
            found = connection.scalars(select(events.c.sender_id).where(events.c.sender_id.in_(sender_ids)).distinct())
            return set(found)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def chunks(items: Iterable[str], size: int) -> Iterable[list[str]]:
    """The items in lists of at most `size`."""
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
