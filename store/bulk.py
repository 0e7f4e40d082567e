"""Writing many rows at once: explicit primary keys, batched inserts, sequences put right afterwards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from store.models import (
    Address,
    ChannelIdentity,
    Customer,
    Interaction,
    Order,
    OrderLine,
    Refund,
    Return,
    Shipment,
    Ticket,
)

INTEGER_KEYED = (Customer, ChannelIdentity, Address, Order, OrderLine, Shipment, Return, Refund, Ticket, Interaction)


class IdAllocator:
    """Hands out primary keys after the highest in use, so bulk inserts need no round trip per row."""

    def __init__(self, session: Session) -> None:
        self.next = {
            model.__tablename__: int(session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1
            for model in INTEGER_KEYED
        }

    def take(self, table: str) -> int:
        """The next free id of a table."""
        value = self.next[table]
        self.next[table] = value + 1
        return value


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]], batch: int = 5000) -> int:
    """Insert rows in batches; returns how many."""
    for start in range(0, len(rows), batch):
        session.execute(model.__table__.insert(), rows[start : start + batch])
    return len(rows)


def advance_sequences(session: Session) -> None:
    """After explicit ids, PostgreSQL's id sequences must continue after the highest id."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in INTEGER_KEYED:
        table = model.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
            )
        )
