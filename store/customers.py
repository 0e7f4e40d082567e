"""Who the customer is: profiles and the channel identities that lead to them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.errors import CustomerNotFound, IdentityAlreadyLinked
from store.models import ChannelIdentity, Customer
from store.validation import clean_text, one_of

CHANNELS = frozenset({"web", "rest", "socketio", "messenger", "telegram", "whatsapp", "slack"})


@dataclass(frozen=True)
class CustomerProfile:
    """What the assistant may know about a customer once they are identified."""

    id: int
    name: str
    email: str | None
    locale: str
    segment: str
    marketing_consent: bool
    lifetime_value: Decimal


def _profile(customer: Customer) -> CustomerProfile:
    return CustomerProfile(
        id=customer.id,
        name=customer.name,
        email=customer.email,
        locale=customer.locale,
        segment=customer.segment,
        marketing_consent=customer.marketing_consent,
        lifetime_value=customer.lifetime_value,
    )


def create_customer(
    session: Session,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    locale: str = "en",
    segment: str = "new",
    marketing_consent: bool = False,
) -> CustomerProfile:
    """Add a customer."""
    customer = Customer(
        name=clean_text("name", name, 200),
        email=(clean_text("email", email, 320, required=False) or "").lower() or None,
        phone=clean_text("phone", phone, 40, required=False),
        locale=clean_text("locale", locale, 16),
        segment=clean_text("segment", segment, 32),
        marketing_consent=marketing_consent,
    )
    session.add(customer)
    session.flush()
    return _profile(customer)


def get_customer(session: Session, customer_id: int) -> CustomerProfile:
    """A customer's profile, or CustomerNotFound."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    return _profile(customer)


def customer_for_identity(session: Session, channel: str, channel_user_id: str) -> CustomerProfile | None:
    """The customer linked to this channel user, or None if the user is not known yet."""
    customer = session.scalars(
        select(Customer)
        .join(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == channel_user_id)
    ).first()
    return _profile(customer) if customer else None


def link_identity(
    session: Session, customer_id: int, channel: str, channel_user_id: str, verified: bool = False
) -> None:
    """Link a channel user to a customer (idempotent); IdentityAlreadyLinked if it belongs to another."""
    one_of("channel", channel, CHANNELS)
    user_id = clean_text("channel user id", channel_user_id, 255)
    if session.get(Customer, customer_id) is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    existing = session.scalars(
        select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.channel_user_id == user_id)
    ).first()
    if existing is not None:
        if existing.customer_id != customer_id:
            raise IdentityAlreadyLinked(f"{channel} user is linked to another customer")
        existing.verified = existing.verified or verified
        return
    session.add(ChannelIdentity(customer_id=customer_id, channel=channel, channel_user_id=user_id, verified=verified))
    session.flush()
