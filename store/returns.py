"""Returns and refunds: who may return what, for how much, exactly once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.errors import AlreadyReturned, NotEligibleForReturn, OrderLineNotFound, OrderNotFound, ReturnNotFound
from store.models import Order, OrderLine, Product, Refund, Return, Shipment, utcnow
from store.validation import clean_text, one_of

RETURN_WINDOW = dt.timedelta(days=30)  # counted from delivery
# Share of the price refunded, by the condition the customer reports. Items the customer damaged
# cannot be returned; items that arrived damaged are refunded in full.
REFUND_SHARE = {
    "unopened": Decimal("1.00"),
    "opened": Decimal("1.00"),
    "used": Decimal("0.50"),
    "damaged_on_arrival": Decimal("1.00"),
}
NOT_RETURNABLE_CONDITIONS = frozenset({"damaged_by_customer"})
CONDITIONS = frozenset(REFUND_SHARE) | NOT_RETURNABLE_CONDITIONS
REASONS = frozenset({"wrong_size", "not_as_described", "damaged", "changed_mind", "wrong_item", "late", "other"})


@dataclass(frozen=True)
class ReturnQuote:
    """Whether an item may be returned and the refund it would get."""

    order_number: str
    order_line_id: int
    product_id: str
    refund_amount: Decimal
    return_by: dt.datetime


@dataclass(frozen=True)
class ReturnReceipt:
    """A return that was accepted."""

    return_id: int
    order_number: str
    product_id: str
    status: str
    refund_amount: Decimal


def _line_of_customer(session: Session, customer_id: int, order_number: str, order_line_id: int) -> OrderLine:
    order = session.scalars(
        select(Order).where(Order.number == order_number.strip().upper(), Order.customer_id == customer_id)
    ).first()
    if order is None:
        raise OrderNotFound(f"no order {order_number!r} for this customer")
    line = session.get(OrderLine, order_line_id)
    if line is None or line.order_id != order.id:
        raise OrderLineNotFound(f"item {order_line_id} is not part of order {order.number}")
    return line


def return_eligibility(
    session: Session,
    customer_id: int,
    order_number: str,
    order_line_id: int,
    condition: str,
    now: dt.datetime | None = None,
) -> ReturnQuote:
    """The refund for returning this item, or NotEligibleForReturn / AlreadyReturned saying why not."""
    one_of("condition", condition, CONDITIONS)
    now = now or utcnow()
    line = _line_of_customer(session, customer_id, order_number, order_line_id)
    if session.scalars(select(Return.id).where(Return.order_line_id == line.id)).first() is not None:
        raise AlreadyReturned(f"item {line.id} of order {line.order.number} is already being returned")
    delivered = session.scalars(
        select(Shipment.delivered_at)
        .where(Shipment.order_id == line.order_id, Shipment.delivered_at.is_not(None))
        .order_by(Shipment.delivered_at.desc())
    ).first()
    if delivered is None:
        raise NotEligibleForReturn("not_delivered", "the order has not been delivered yet")
    if now - delivered > RETURN_WINDOW:
        raise NotEligibleForReturn(
            "window_expired", f"returns are accepted for {RETURN_WINDOW.days} days after delivery"
        )
    if condition in NOT_RETURNABLE_CONDITIONS:
        raise NotEligibleForReturn("condition", "items damaged after delivery cannot be returned")
    refund = (line.unit_price * line.quantity * REFUND_SHARE[condition]).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return ReturnQuote(line.order.number, line.id, line.product_id, refund, delivered + RETURN_WINDOW)


def request_return(
    session: Session,
    customer_id: int,
    order_number: str,
    order_line_id: int,
    *,
    reason: str,
    condition: str,
    now: dt.datetime | None = None,
) -> ReturnReceipt:
    """Open a return for one item. Of two concurrent requests for the same item exactly one succeeds."""
    one_of("reason", reason, REASONS)
    quote = return_eligibility(session, customer_id, order_number, order_line_id, condition, now)
    item_return = Return(
        order_line_id=quote.order_line_id,
        reason=reason,
        condition=condition,
        refund_amount=quote.refund_amount,
        requested_at=now or utcnow(),
    )
    session.add(item_return)
    try:
        session.flush()  # the unique order_line_id settles a race with a concurrent request
    except IntegrityError:
        raise AlreadyReturned(f"item {order_line_id} of order {quote.order_number} is already being returned") from None
    return ReturnReceipt(item_return.id, quote.order_number, quote.product_id, item_return.status, quote.refund_amount)


def refund_return(session: Session, return_id: int, method: str = "original_payment") -> Decimal:
    """Pay the refund of an approved or requested return (once); returns the amount."""
    item_return = session.get(Return, return_id, with_for_update=True)
    if item_return is None:
        raise ReturnNotFound(f"no return {return_id}")
    if item_return.status == "refunded":
        raise AlreadyReturned(f"return {return_id} has already been refunded")
    item_return.status = "refunded"
    session.add(Refund(return_id=return_id, amount=item_return.refund_amount, method=clean_text("method", method, 32)))
    return item_return.refund_amount


@dataclass(frozen=True)
class ReturnStatus:
    """One of the customer's returns and where its refund is."""

    return_id: int
    order_number: str
    product_title: str
    status: str
    refund_amount: Decimal
    currency: str
    requested_at: dt.datetime
    refunded_at: dt.datetime | None


def customer_returns(session: Session, customer_id: int, limit: int = 5) -> list[ReturnStatus]:
    """The customer's latest returns, newest first, with their refunds."""
    rows = session.execute(
        select(Return, Order.number, Order.currency, Product.title, Refund.created_at)
        .join(OrderLine, OrderLine.id == Return.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .outerjoin(Refund, Refund.return_id == Return.id)
        .where(Order.customer_id == customer_id)
        .order_by(Return.requested_at.desc(), Return.id.desc())
        .limit(limit)
    ).all()
    return [
        ReturnStatus(r.id, number, title, r.status, r.refund_amount, currency, r.requested_at, refunded_at)
        for r, number, currency, title, refunded_at in rows
    ]
