"""Orders as the customer sees them: status, shipment, cancellation and address changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from store.errors import CannotCancel, CannotChangeAddress, OrderNotFound
from store.models import Address, Order
from store.validation import clean_text

# Shipment states in which the parcel has left the warehouse.
LEFT_WAREHOUSE = frozenset({"shipped", "in_transit", "delivered", "delayed", "lost"})
SHIPMENT_STATES = frozenset({"processing"}) | LEFT_WAREHOUSE


@dataclass(frozen=True)
class ShipmentStatus:
    """Where a parcel is."""

    status: str
    carrier: str | None
    tracking_number: str | None
    promised_date: dt.date | None
    estimated_date: dt.date | None
    delivered_at: dt.datetime | None


@dataclass(frozen=True)
class OrderSummary:
    """An order with its shipments, as the assistant reports it."""

    number: str
    status: str
    placed_at: dt.datetime
    total: Decimal
    currency: str
    item_count: int
    shipments: tuple[ShipmentStatus, ...]

    @property
    def has_left_warehouse(self) -> bool:
        """True once any parcel has shipped (then it can no longer be cancelled or redirected)."""
        return self.status in {"shipped", "delivered"} or any(s.status in LEFT_WAREHOUSE for s in self.shipments)


def _summary(order: Order) -> OrderSummary:
    return OrderSummary(
        number=order.number,
        status=order.status,
        placed_at=order.placed_at,
        total=order.total,
        currency=order.currency,
        item_count=sum(line.quantity for line in order.lines),
        shipments=tuple(
            ShipmentStatus(s.status, s.carrier, s.tracking_number, s.promised_date, s.estimated_date, s.delivered_at)
            for s in order.shipments
        ),
    )


def customers_order(session: Session, customer_id: int, order_number: str, lock: bool = False) -> Order:
    """One of the customer's orders with its lines and shipments; OrderNotFound for anyone else's."""
    number = clean_text("order number", order_number, 32) or ""
    query = (
        select(Order)
        .where(Order.number == number.upper(), Order.customer_id == customer_id)
        .options(selectinload(Order.lines), selectinload(Order.shipments))
    )
    if lock:
        query = query.with_for_update()
    order = session.scalars(query).first()
    if order is None:
        raise OrderNotFound(f"no order {number!r} for this customer")
    return order


def recent_orders(session: Session, customer_id: int, limit: int = 5) -> list[OrderSummary]:
    """The customer's latest orders, newest first, with shipment status."""
    orders = session.scalars(
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
        .options(selectinload(Order.lines), selectinload(Order.shipments))
    ).all()
    return [_summary(order) for order in orders]


def order_status(session: Session, customer_id: int, order_number: str) -> OrderSummary:
    """One of the customer's orders; OrderNotFound for unknown numbers and for other customers' orders."""
    return _summary(customers_order(session, customer_id, order_number))


def cancel_order(session: Session, customer_id: int, order_number: str) -> OrderSummary:
    """Cancel an order that has not shipped yet; CannotCancel otherwise."""
    order = customers_order(session, customer_id, order_number, lock=True)
    summary = _summary(order)
    if order.status == "cancelled":
        raise CannotCancel(f"order {order.number} is already cancelled")
    if summary.has_left_warehouse:
        raise CannotCancel(f"order {order.number} has already shipped; it can be returned once it arrives")
    order.status = "cancelled"
    for shipment in order.shipments:
        session.delete(shipment)
    session.flush()
    session.refresh(order)
    return _summary(order)


def change_shipping_address(
    session: Session,
    customer_id: int,
    order_number: str,
    *,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    line2: str | None = None,
) -> OrderSummary:
    """Send an order that has not shipped to a new address; CannotChangeAddress otherwise."""
    order = customers_order(session, customer_id, order_number, lock=True)
    if order.status == "cancelled" or _summary(order).has_left_warehouse:
        raise CannotChangeAddress(f"order {order.number} has shipped or is cancelled; its address is fixed")
    address = Address(
        customer_id=customer_id,
        kind="shipping",
        line1=clean_text("address line 1", line1, 200) or "",
        line2=clean_text("address line 2", line2, 200, required=False),
        city=clean_text("city", city, 100) or "",
        postal_code=clean_text("postal code", postal_code, 20) or "",
        country=clean_text("country", country, 64) or "",
    )
    session.add(address)
    session.flush()
    order.shipping_address_id = address.id
    return _summary(order)
