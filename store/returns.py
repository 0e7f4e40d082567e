"""Returns and refunds: who may return what, for how much, exactly once."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.errors import AlreadyReturned, NotEligibleForReturn, OrderLineNotFound, OrderNotFound, ReturnNotFound
from store.models import Order, OrderLine, Product, Refund, Return, Shipment, utcnow
from store.orders import customers_order
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
    currency: str = "USD"


@dataclass(frozen=True)
class ReturnReceipt:
    """A return that was accepted."""

    return_id: int
    order_number: str
    product_id: str
    status: str
    refund_amount: Decimal
    currency: str = "USD"


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
    return ReturnQuote(
        line.order.number, line.id, line.product_id, refund, delivered + RETURN_WINDOW, line.order.currency
    )


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
    return ReturnReceipt(
        item_return.id, quote.order_number, quote.product_id, item_return.status, quote.refund_amount, quote.currency
    )


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


@dataclass(frozen=True)
class OrderItem:
    """One line of a customer's order, as the returns conversation lists it."""

    order_line_id: int
    product_id: str
    title: str
    quantity: int
    unit_price: Decimal


def order_items(session: Session, customer_id: int, order_number: str) -> list[OrderItem]:
    """The items of one of the customer's orders (OrderNotFound for anyone else's), in order."""
    order = customers_order(session, customer_id, order_number)
    rows = session.execute(
        select(OrderLine, Product.title)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id == order.id)
        .order_by(OrderLine.id)
    ).all()
    return [OrderItem(line.id, line.product_id, title, line.quantity, line.unit_price) for line, title in rows]


def returnable_orders(session: Session, customer_id: int, now: dt.datetime | None = None) -> list[str]:
    """Numbers of the customer's orders delivered within the return window, newest first."""
    since = (now or utcnow()) - RETURN_WINDOW
    return list(
        session.scalars(
            select(Order.number)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Order.customer_id == customer_id, Shipment.delivered_at >= since)
            .group_by(Order.id, Order.number)
            .order_by(func.max(Shipment.delivered_at).desc())
        )
    )


# How customers say why they return something and what state it is in -> the store's codes.
REASON_WORDS = (
    ("wrong_size", ("size", "too small", "too big", "too large", "too tight", "too loose", "doesn't fit", "fit")),
    ("wrong_item", ("wrong item", "wrong product", "not what i ordered", "sent the wrong", "different item")),
    ("damaged", ("damaged", "broken", "faulty", "defective", "doesn't work", "not working", "torn", "cracked")),
    ("not_as_described", ("not as described", "different from", "looks different", "not like the picture")),
    ("late", ("late", "too long", "arrived after")),
    ("changed_mind", ("changed my mind", "don't need", "dont need", "don't want", "dont want", "don't like",
                      "dont like", "no longer", "not needed")),
)  # fmt: skip
CONDITION_WORDS = (
    ("damaged_on_arrival", ("arrived damaged", "arrived broken", "damaged on arrival", "came damaged", "came broken")),
    ("damaged_by_customer", ("i broke", "i damaged", "my fault", "i dropped", "i tore")),
    ("unopened", ("unopened", "sealed", "not opened", "never opened", "still in the box", "new", "tags on")),
    ("used", ("used", "worn", "wore", "tried outside", "washed")),
    ("opened", ("opened", "tried on", "tried it", "tried them", "open")),
)


def _code_from_words(text: str, table: tuple[tuple[str, tuple[str, ...]], ...], codes: frozenset[str]) -> str | None:
    lowered = " ".join((text or "").lower().replace("_", " ").split())[:500]
    if lowered.replace(" ", "_") in codes:
        return lowered.replace(" ", "_")
    for code, phrases in table:
        if any(re.search(rf"\b{re.escape(phrase)}\b", lowered) for phrase in phrases):
            return code
    return None


def read_reason(text: str) -> str | None:
    """The return reason code for the customer's words, or None if they don't say one we know."""
    return _code_from_words(text, REASON_WORDS, REASONS)


def read_condition(text: str) -> str | None:
    """The item-condition code for the customer's words, or None."""
    return _code_from_words(text, CONDITION_WORDS, CONDITIONS)
