"""Order look-ups, cancellation and address rules, returns and refunds, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from store.database import ShopDatabase
from store.errors import (
    AlreadyReturned,
    CannotCancel,
    CannotChangeAddress,
    NotEligibleForReturn,
    OrderLineNotFound,
    OrderNotFound,
)
from store.models import Order, Refund, Return
from store.orders import cancel_order, change_shipping_address, order_status, recent_orders
from store.returns import refund_return, request_return, return_eligibility
from tests.store.conftest import ANCHOR
from tests.store.factories import add_customer, add_order

DAY = dt.timedelta(days=1)


def test_recent_orders_newest_first_with_shipments(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        add_order(session, ada, "SO-1", ANCHOR - 20 * DAY, delivered_at=ANCHOR - 15 * DAY)
        add_order(session, ada, "SO-2", ANCHOR - 2 * DAY, shipment_status="in_transit", lines=(("P2", 2, "9.50"),))
        add_order(session, ada, "SO-3", ANCHOR - 9 * DAY, shipment_status="delayed")
    with db.transaction() as session:
        orders = recent_orders(session, ada, limit=2)
    assert [o.number for o in orders] == ["SO-2", "SO-3"]
    assert orders[0].shipments[0].status == "in_transit" and orders[0].item_count == 2
    assert orders[0].shipments[0].tracking_number == "TRK-SO-2"


def test_orders_of_other_customers_are_not_found(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        ben = add_customer(session, name="Ben Ito", email="ben@example.com", web_id="web-ben")
        add_order(session, ada, "SO-1", ANCHOR)
    with db.transaction() as session:
        assert order_status(session, ada, "so-1").number == "SO-1"
        with pytest.raises(OrderNotFound):
            order_status(session, ben, "SO-1")
        with pytest.raises(OrderNotFound):
            order_status(session, ada, "SO-404")


def test_cancel_and_redirect_only_before_shipping(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        add_order(session, ada, "SO-1", ANCHOR, shipment_status="processing")
        add_order(session, ada, "SO-2", ANCHOR, shipment_status="shipped")
    with db.transaction() as session:
        moved = change_shipping_address(
            session, ada, "SO-1", line1="1 New Road", city="Leeds", postal_code="LS1", country="GB"
        )
        assert moved.status == "paid"
        assert cancel_order(session, ada, "SO-1").status == "cancelled"
    with pytest.raises(CannotCancel, match="already cancelled"), db.transaction() as session:
        cancel_order(session, ada, "SO-1")
    with pytest.raises(CannotCancel, match="already shipped"), db.transaction() as session:
        cancel_order(session, ada, "SO-2")
    with pytest.raises(CannotChangeAddress), db.transaction() as session:
        change_shipping_address(session, ada, "SO-2", line1="x", city="y", postal_code="z", country="GB")
    with db.transaction() as session:
        assert session.scalar(select(Order.status).where(Order.number == "SO-2")) == "paid"


def _line_id(db: ShopDatabase, number: str) -> int:
    with db.transaction() as session:
        order = session.scalars(select(Order).where(Order.number == number)).one()
        return order.lines[0].id


def test_return_rules(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        add_order(session, ada, "SO-1", ANCHOR - 10 * DAY, delivered_at=ANCHOR - 5 * DAY, lines=(("P1", 2, "40.00"),))
        add_order(session, ada, "SO-2", ANCHOR - 60 * DAY, delivered_at=ANCHOR - 55 * DAY)
        add_order(session, ada, "SO-3", ANCHOR - 1 * DAY, shipment_status="in_transit")
    line1, line2, line3 = (_line_id(db, n) for n in ("SO-1", "SO-2", "SO-3"))
    with db.transaction() as session:
        quote = return_eligibility(session, ada, "SO-1", line1, "used", now=ANCHOR)
        assert quote.refund_amount == Decimal("40.00")  # half of 2 x 40.00
        assert return_eligibility(session, ada, "SO-1", line1, "unopened", now=ANCHOR).refund_amount == Decimal("80.00")
        for number, line, condition, reason in [
            ("SO-2", line2, "unopened", "window_expired"),
            ("SO-3", line3, "unopened", "not_delivered"),
            ("SO-1", line1, "damaged_by_customer", "condition"),
        ]:
            with pytest.raises(NotEligibleForReturn) as caught:
                return_eligibility(session, ada, number, line, condition, now=ANCHOR)
            assert caught.value.reason == reason
        with pytest.raises(OrderLineNotFound):
            return_eligibility(session, ada, "SO-1", line2, "unopened", now=ANCHOR)  # item of another order
    with db.transaction() as session:
        receipt = request_return(session, ada, "SO-1", line1, reason="wrong_size", condition="unopened", now=ANCHOR)
        assert receipt.refund_amount == Decimal("80.00")
    with pytest.raises(AlreadyReturned), db.transaction() as session:
        request_return(session, ada, "SO-1", line1, reason="wrong_size", condition="unopened", now=ANCHOR)
    with db.transaction() as session:
        assert refund_return(session, receipt.return_id) == Decimal("80.00")
    with pytest.raises(AlreadyReturned), db.transaction() as session:
        refund_return(session, receipt.return_id)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Refund)) == 1


def test_concurrent_return_requests_exactly_one_succeeds(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        add_order(session, ada, "SO-1", ANCHOR - 10 * DAY, delivered_at=ANCHOR - 5 * DAY)
    line = _line_id(db, "SO-1")
    outcomes: dict[str, str] = {}

    def second_request() -> None:
        try:
            with db.transaction() as session:
                request_return(session, ada, "SO-1", line, reason="late", condition="unopened", now=ANCHOR)
            outcomes["second"] = "accepted"
        except AlreadyReturned:
            outcomes["second"] = "already returned"

    # The first request has written its return but not committed when the second one runs on its
    # own connection: the second passes the "not yet returned" check, then meets the first's row.
    with db.transaction() as session:
        request_return(session, ada, "SO-1", line, reason="late", condition="unopened", now=ANCHOR)
        racer = threading.Thread(target=second_request)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive(), "the second request should be waiting for the first transaction"
    racer.join(timeout=30)
    assert not racer.is_alive()
    assert outcomes == {"second": "already returned"}
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Return)) == 1
