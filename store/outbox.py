"""Emails the assistant asks the shop to send. It never sends mail itself: messages wait in the
`outbox` table until the shop's mailer sends them and sets `sent_at`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.errors import InvalidInput
from store.models import Customer, OutboxMessage, utcnow


def queue_email(
    session: Session, customer_id: int, subject: str, body: str, now: dt.datetime | None = None
) -> OutboxMessage:
    """Queue an email to a customer's address on file; InvalidInput if they have none."""
    customer = session.get(Customer, customer_id)
    if customer is None or not customer.email:
        raise InvalidInput(f"customer {customer_id} has no email address on file")
    message = OutboxMessage(
        customer_id=customer_id, to_address=customer.email, subject=subject[:300], body=body, created_at=now or utcnow()
    )
    session.add(message)
    session.flush()
    return message


def unsent(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """The oldest messages the mailer has not sent yet."""
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id).limit(limit)
        )
    )
