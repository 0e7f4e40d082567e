"""The shop's rule for each delivery problem, from the parcel's data."""

import datetime as dt
from decimal import Decimal

import pytest

from store.orders import OrderSummary, ShipmentStatus
from store.remedies import delivery_remedy

TODAY = dt.date(2026, 11, 28)


def order(status: str, promised: int | None = 0, estimated: int | None = 0) -> OrderSummary:
    def day(offset: int | None) -> dt.date | None:
        return None if offset is None else TODAY + dt.timedelta(days=offset)

    delivered = dt.datetime(2026, 11, 26, tzinfo=dt.UTC) if status == "delivered" else None
    parcel = ShipmentStatus(status, "ParcelPost", "TRK1", day(promised), day(estimated), delivered)
    placed = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    return OrderSummary("SO-1", "paid", placed, Decimal("50"), "USD", 1, (parcel,))


@pytest.mark.parametrize(
    ("problem", "parcel", "kind", "ticket", "days_late"),
    [
        ("late", order("processing", 2, 2), "not_shipped", None, 0),
        ("late", order("in_transit", 1, 1), "on_the_way", None, 0),
        ("late", order("in_transit", 0, 2), "late_apology", None, 2),
        ("late", order("delayed", 0, 0), "late_apology", None, 1),
        ("late", order("in_transit", -1, 3), "late_refund_shipping", "delivery", 4),
        ("late", order("in_transit", -5, -3), "late_refund_shipping", "delivery", 3),
        ("lost", order("in_transit", -9, -8), "replace_or_refund", "lost_parcel", 8),
        ("late", order("lost", -2, -2), "replace_or_refund", "lost_parcel", 0),
        ("lost", order("delivered"), "check_neighbours", "lost_parcel", 0),
        ("late", order("delivered"), "on_the_way", None, 0),
        ("damaged", order("delivered"), "damaged_return", "damaged_item", 0),
        ("nonsense", order("in_transit", 1, 1), "on_the_way", None, 0),
    ],
)
def test_each_situation_gets_its_rule(problem: str, parcel: OrderSummary, kind: str, ticket: str | None,
                                      days_late: int) -> None:  # fmt: skip
    remedy = delivery_remedy(problem, parcel, TODAY)
    assert (remedy.kind, remedy.ticket_category, remedy.days_late) == (kind, ticket, days_late)


def test_an_order_without_parcels_has_not_shipped() -> None:
    empty = OrderSummary("SO-2", "paid", dt.datetime(2026, 11, 27, tzinfo=dt.UTC), Decimal("5"), "USD", 1, ())
    assert delivery_remedy("lost", empty, TODAY).kind == "not_shipped"
