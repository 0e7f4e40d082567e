"""The shop's tables as typed SQLAlchemy 2.0 models. Business rules live in the service modules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Money = Numeric(12, 2)


def utcnow() -> dt.datetime:
    """Timezone-aware now, in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A point in time, always handed back timezone-aware in UTC, on SQLite (which drops the zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base of every table."""


class Customer(Base):
    """A person who buys from the shop."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)  # id in an imported system
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    country: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    segment: Mapped[str] = mapped_column(String(32), default="new")
    lifetime_value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))

    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    addresses: Mapped[list[Address]] = relationship(back_populates="customer", cascade="all, delete-orphan")


class ChannelIdentity(Base):
    """A user id on one channel (web session, Messenger PSID, Telegram id, phone number, Slack user)."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")


class Address(Base):
    """A postal address of a customer."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="shipping")
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(64))

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class Product(Base):
    """A product, mirroring the catalog (the catalog holds descriptions; this holds what orders need)."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(200), index=True)
    price: Mapped[Decimal] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    """A customer's order. After erasure of the customer it stays, anonymised (customer_id NULL)."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_placed", "customer_id", "placed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="placed")  # placed, paid, shipped, delivered, cancelled
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    shipping_address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id", ondelete="SET NULL"))

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", cascade="all, delete-orphan")


class OrderLine(Base):
    """One product and quantity of an order."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="lines")


class Shipment(Base):
    """A parcel of an order and where it is."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # processing, shipped, in_transit, delivered, delayed, lost
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    promised_date: Mapped[dt.date | None] = mapped_column(Date)
    estimated_date: Mapped[dt.date | None] = mapped_column(Date)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship(back_populates="shipments")


class Return(Base):
    """A return of one order line. One per line: the unique constraint settles concurrent requests."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(String(64))
    condition: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="requested")  # requested, approved, refunded, rejected
    refund_amount: Mapped[Decimal] = mapped_column(Money)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Refund(Base):
    """Money paid back for a return."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(32), default="original_payment")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Ticket(Base):
    """A support case for people: complaints, problems the assistant hands over."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))  # urgent, high, normal, low
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, pending, resolved, closed
    conversation_id: Mapped[str | None] = mapped_column(String(255), index=True)
    assignee: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sla_due: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # the staff queue (console): when an agent took the conversation and first wrote to the customer
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Interaction(Base):
    """Something a customer did with a product: the recommender's raw signal."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer_time", "customer_id", "occurred_at"),
        Index("ix_interactions_time", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(255))  # before the customer is known
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # viewed, searched, recommended, clicked, added_to_cart, purchased
    query: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32), default="web")
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginCode(Base):
    """A one-time code emailed to a customer to prove who they are in one chat; only its hash is kept."""

    __tablename__ = "login_codes"
    __table_args__ = (Index("ix_login_codes_chat_user", "channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(255))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """An email waiting for the shop's mailer: the assistant never sends mail itself."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CsatRating(Base):
    """How satisfied a customer was with one chat (1-5), asked when the chat ends; one rating per chat."""

    __tablename__ = "csat_ratings"
    __table_args__ = (
        UniqueConstraint("channel", "session_id", name="uq_csat_ratings_chat"),
        CheckConstraint("score BETWEEN 1 AND 5", name="ck_csat_ratings_score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    session_id: Mapped[str] = mapped_column(String(64))  # the conversation's id in Rasa
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
