"""A customer's rights over their data: export everything, erase everything; and data retention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, select, update
from sqlalchemy.orm import Session, selectinload

from store.conversations import ConversationStore
from store.errors import CustomerNotFound
from store.models import (
    Address,
    ChannelIdentity,
    CsatRating,
    Customer,
    Interaction,
    LoginCode,
    Order,
    OutboxMessage,
    Return,
    Ticket,
    utcnow,
)

ERASED = "[erased]"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: Any, *skip: str) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in skip}


def _affected(session: Session, statement: Executable) -> int:
    """Run a bulk UPDATE/DELETE; how many rows it touched."""
    result = session.execute(statement)
    return int(cast(CursorResult[Any], result).rowcount)


def _sender_ids(session: Session, customer_id: int) -> set[str]:
    """Conversation ids of the customer: channel user ids, and conversations their tickets came from."""
    senders = set(
        session.scalars(select(ChannelIdentity.channel_user_id).where(ChannelIdentity.customer_id == customer_id))
    )
    senders |= {
        c for c in session.scalars(select(Ticket.conversation_id).where(Ticket.customer_id == customer_id)) if c
    }
    return senders


def export_customer(
    session: Session, customer_id: int, conversations: ConversationStore | None = None
) -> dict[str, Any]:
    """Everything held about one customer, as JSON-ready data."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    orders = session.scalars(
        select(Order)
        .where(Order.customer_id == customer_id)
        .options(selectinload(Order.lines), selectinload(Order.shipments))
        .order_by(Order.placed_at)
    ).all()
    line_ids = [line.id for order in orders for line in order.lines]
    returns = session.scalars(select(Return).where(Return.order_line_id.in_(line_ids))).all() if line_ids else []
    senders = _sender_ids(session, customer_id)
    return {
        "exported_at": utcnow().isoformat(),
        "customer": _row(customer),
        "channel_identities": [_row(i) for i in customer.identities],
        "addresses": [_row(a) for a in customer.addresses],
        "orders": [
            {**_row(o), "lines": [_row(line) for line in o.lines], "shipments": [_row(s) for s in o.shipments]}
            for o in orders
        ],
        "returns": [_row(r) for r in returns],
        "tickets": [_row(t) for t in session.scalars(select(Ticket).where(Ticket.customer_id == customer_id))],
        "interactions": [
            _row(i) for i in session.scalars(select(Interaction).where(Interaction.customer_id == customer_id))
        ],
        "chat_ratings": [
            _row(r) for r in session.scalars(select(CsatRating).where(CsatRating.session_id.in_(senders)))
        ],
        "conversations": conversations.events_of(sorted(senders)) if conversations else [],
    }


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed or anonymised."""

    customer_id: int
    identities: int
    addresses: int
    interactions: int
    tickets_scrubbed: int
    orders_anonymised: int
    conversation_events: int


def erase_customer(session: Session, customer_id: int, conversations: ConversationStore | None = None) -> ErasureReport:
    """Erase a customer: profile, identities, addresses, interactions, ticket text, rating comments and conversations.

    Orders are kept, because a shop must keep its sales records, but anonymised: they no longer
    point at anyone and their address is gone. Conversation events are deleted last, once the
    store's own transaction is ready; run it again if that step failed: it is idempotent.
    """
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    senders = _sender_ids(session, customer_id)
    orders = _affected(
        session,
        update(Order).where(Order.customer_id == customer_id).values(customer_id=None, shipping_address_id=None),
    )
    tickets = _affected(
        session,
        update(Ticket)
        .where(Ticket.customer_id == customer_id)
        .values(customer_id=None, subject=ERASED, description="", resolution=None, conversation_id=None),
    )
    interactions = _affected(session, delete(Interaction).where(Interaction.customer_id == customer_id))
    addresses = _affected(session, delete(Address).where(Address.customer_id == customer_id))
    identities = _affected(session, delete(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id))
    session.execute(delete(LoginCode).where(LoginCode.customer_id == customer_id))
    session.execute(delete(OutboxMessage).where(OutboxMessage.customer_id == customer_id))
    # a chat's score stays in the shop's statistics; the customer's words and the chat's id go
    for rating in session.scalars(select(CsatRating).where(CsatRating.session_id.in_(senders))):
        rating.comment, rating.session_id = None, f"erased-{rating.id}"
    session.execute(delete(Customer).where(Customer.id == customer_id))
    session.flush()
    events = conversations.delete_conversations(senders) if conversations else 0
    return ErasureReport(customer_id, identities, addresses, interactions, tickets, orders, events)


@dataclass(frozen=True)
class RetentionReport:
    """What a retention run removed."""

    cutoff: dt.datetime
    interactions: int
    conversation_events: int


def apply_retention(
    session: Session,
    older_than: dt.timedelta,
    conversations: ConversationStore | None = None,
    now: dt.datetime | None = None,
) -> RetentionReport:
    """Delete interactions and stored conversation events older than `older_than`."""
    cutoff = (now or utcnow()) - older_than
    interactions = _affected(session, delete(Interaction).where(Interaction.occurred_at < cutoff))
    events = conversations.delete_older_than(cutoff.timestamp()) if conversations else 0
    return RetentionReport(cutoff, interactions, events)
