"""Support tickets: what goes to people, how urgent it is, and by when it must be answered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.errors import CustomerNotFound, OrderNotFound, TicketNotFound
from store.models import Customer, Order, Ticket, utcnow
from store.validation import clean_text, one_of

PRIORITIES = ("low", "normal", "high", "urgent")
SLA = {"urgent": dt.timedelta(hours=4), "high": dt.timedelta(hours=8), "normal": dt.timedelta(hours=24),
       "low": dt.timedelta(hours=72)}  # fmt: skip
# Starting priority by what the ticket is about.
CATEGORY_PRIORITY = {
    "lost_parcel": "high",
    "damaged_item": "high",
    "payment": "high",
    "billing": "high",
    "product_quality": "normal",
    "service": "normal",
    "complaint": "normal",
    "handoff": "normal",  # a conversation waiting for a person (the staff queue)
    "return": "normal",
    "delivery": "normal",
    "question": "low",
    "other": "low",
}
SENTIMENTS = frozenset({"positive", "neutral", "negative", "very_negative"})
OPEN_STATES = ("open", "pending")
# this many tickets from the same customer in REPEAT_WINDOW make the next one more urgent
REPEAT_CONTACTS = 2
REPEAT_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class TicketSummary:
    """A ticket as the assistant and the console report it."""

    id: int
    category: str
    priority: str
    status: str
    subject: str
    sla_due: dt.datetime
    conversation_id: str | None


def ticket_priority(
    category: str, sentiment: str = "neutral", segment: str | None = None, earlier_contacts: int = 0
) -> str:
    """Priority: by category, one step up for a very unhappy customer, one for a customer who has
    contacted us repeatedly of late, one for a VIP."""
    level = PRIORITIES.index(CATEGORY_PRIORITY[one_of("category", category, frozenset(CATEGORY_PRIORITY))])
    one_of("sentiment", sentiment, SENTIMENTS)
    if sentiment == "very_negative" or (sentiment == "negative" and category == "complaint"):
        level += 1
    if earlier_contacts >= REPEAT_CONTACTS:
        level += 1
    if segment == "vip":
        level += 1
    return PRIORITIES[min(level, len(PRIORITIES) - 1)]


def _summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary(
        ticket.id,
        ticket.category,
        ticket.priority,
        ticket.status,
        ticket.subject,
        ticket.sla_due,
        ticket.conversation_id,
    )


def open_ticket(
    session: Session,
    *,
    category: str,
    subject: str,
    description: str = "",
    customer_id: int | None = None,
    conversation_id: str | None = None,
    order_number: str | None = None,
    sentiment: str = "neutral",
    now: dt.datetime | None = None,
) -> TicketSummary:
    """Open a ticket with its priority and SLA due time set by the rules above."""
    now = now or utcnow()
    segment = None
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise CustomerNotFound(f"no customer {customer_id}")
        segment = customer.segment
    order_id = None
    if order_number:
        order_id = session.scalars(
            select(Order.id).where(Order.number == order_number.strip().upper(), Order.customer_id == customer_id)
        ).first()
        if order_id is None:
            raise OrderNotFound(f"no order {order_number!r} for this customer")
    earlier = 0
    if customer_id is not None:
        earlier = (
            session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.customer_id == customer_id, Ticket.created_at >= now - REPEAT_WINDOW
                )
            )
            or 0
        )
    priority = ticket_priority(category, sentiment, segment, earlier)
    ticket = Ticket(
        customer_id=customer_id,
        order_id=order_id,
        category=category,
        priority=priority,
        status="open",
        conversation_id=clean_text("conversation id", conversation_id, 255, required=False),
        subject=clean_text("subject", subject, 300) or "",
        description=clean_text("description", description, 20_000, required=False) or "",
        created_at=now,
        sla_due=now + SLA[priority],
    )
    session.add(ticket)
    session.flush()
    return _summary(ticket)


def open_tickets(session: Session, customer_id: int) -> list[TicketSummary]:
    """The customer's tickets that are not resolved, most urgent first."""
    tickets = session.scalars(
        select(Ticket).where(Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_STATES)).order_by(Ticket.sla_due)
    ).all()
    return [_summary(t) for t in tickets]


def resolve_ticket(session: Session, ticket_id: int, resolution: str, now: dt.datetime | None = None) -> TicketSummary:
    """Close a ticket with what was done."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    ticket.status = "resolved"
    ticket.resolution = clean_text("resolution", resolution, 20_000)
    ticket.resolved_at = now or utcnow()
    return _summary(ticket)


def waiting_for_people(session: Session) -> list[TicketSummary]:
    """The staff queue: conversations handed to a person and not yet taken, most urgent first."""
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.category == "handoff", Ticket.status == "open", Ticket.assignee.is_(None))
        .order_by(Ticket.sla_due, Ticket.id)
    ).all()
    return [_summary(t) for t in tickets]


def open_handoff(session: Session, conversation_id: str) -> TicketSummary | None:
    """This conversation's handoff that is still open, if any."""
    ticket = session.scalars(
        select(Ticket).where(
            Ticket.category == "handoff", Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN_STATES)
        )
    ).first()
    return _summary(ticket) if ticket else None
