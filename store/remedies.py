"""What the shop does about a delivery problem: one rule per situation, decided from the order's data.

The customer says what is wrong (late, lost, damaged); the parcel's data says what is true. The
remedy follows from both, the same way every time:

- not shipped yet, or on its way and not late: nothing to fix yet; the expected day is the answer.
- late by fewer than COMPENSATE_LATE_DAYS days: an apology and the new day.
- late by COMPENSATE_LATE_DAYS or more: the shipping cost refunded (a ticket for the team).
- reported lost by the carrier, or overdue by LOST_AFTER_DAYS or more: a free replacement or a
  full refund (a high-priority ticket).
- marked delivered but not received: check safe places and neighbours for 48 hours, then a carrier
  investigation (a ticket).
- arrived damaged: a free return with a full refund or replacement (a ticket; the returns form
  with "arrived damaged" already filled in).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from store.orders import OrderSummary, ShipmentStatus

COMPENSATE_LATE_DAYS = 3
LOST_AFTER_DAYS = 7
CHECK_NEIGHBOURS_HOURS = 48
PROBLEMS = frozenset({"late", "lost", "damaged"})


@dataclass(frozen=True)
class Remedy:
    """What to do, why, and whether the team needs a ticket for it.

    kind: not_shipped, on_the_way, late_apology, late_refund_shipping, replace_or_refund,
    check_neighbours, damaged_return.
    """

    kind: str
    ticket_category: str | None
    days_late: int = 0
    expected: dt.date | None = None


def _latest_parcel(order: OrderSummary) -> ShipmentStatus | None:
    """The parcel the problem is most likely about: lost or late ones first, else the last one."""
    for wanted in ("lost", "delayed"):
        for shipment in order.shipments:
            if shipment.status == wanted:
                return shipment
    return order.shipments[-1] if order.shipments else None


def delivery_remedy(problem: str, order: OrderSummary, today: dt.date) -> Remedy:
    """The remedy for `problem` (late, lost or damaged, as the customer puts it) with this order."""
    problem = problem if problem in PROBLEMS else "late"
    parcel = _latest_parcel(order)
    if problem == "damaged":
        return Remedy("damaged_return", "damaged_item")
    if parcel is None or parcel.status == "processing":
        expected = parcel.estimated_date or parcel.promised_date if parcel else None
        return Remedy("not_shipped", None, expected=expected)
    if parcel.status == "lost":
        return Remedy("replace_or_refund", "lost_parcel")
    if parcel.status == "delivered":
        return Remedy("check_neighbours", "lost_parcel") if problem == "lost" else Remedy("on_the_way", None)
    expected = parcel.estimated_date or parcel.promised_date
    promised = parcel.promised_date or expected
    overdue = (today - expected).days if expected else 0
    if overdue >= LOST_AFTER_DAYS:
        return Remedy("replace_or_refund", "lost_parcel", days_late=overdue, expected=expected)
    days_late = max((expected - promised).days if expected and promised else 0, overdue, 0)
    if parcel.status == "delayed" and days_late == 0:
        days_late = 1
    if days_late >= COMPENSATE_LATE_DAYS:
        return Remedy("late_refund_shipping", "delivery", days_late=days_late, expected=expected)
    if days_late > 0:
        return Remedy("late_apology", None, days_late=days_late, expected=expected)
    return Remedy("on_the_way", None, expected=expected)
