"""Orders for a proven customer: status and tracking with the delivery date in plain words,
cancellation after a yes, refunds."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import ask_to_identify
from actions.shop import customer_of, offer_a_person_if_upset, shop_database
from catalog.prices import money
from store.errors import CannotCancel, OrderNotFound
from store.orders import OrderSummary, ShipmentStatus, cancel_order, order_status, recent_orders
from store.returns import ReturnStatus, customer_returns

logger = logging.getLogger(__name__)


def day_in_words(day: dt.date, today: dt.date) -> str:
    """ "today", "tomorrow", "on Friday" (this week), else "on Friday 4 December"."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    if 1 < delta < 7:
        return f"on {day:%A}"
    return f"on {day:%A} {day.day} {day:%B}"


def shipment_in_words(shipment: ShipmentStatus, today: dt.date) -> str:
    """Where one parcel is and when it arrives, as a customer would say it."""
    carrier = f" with {shipment.carrier}" if shipment.carrier else ""
    tracking = f" (tracking number {shipment.tracking_number})" if shipment.tracking_number else ""
    expected = shipment.estimated_date or shipment.promised_date
    if shipment.status == "delivered":
        when = day_in_words(shipment.delivered_at.date(), today) if shipment.delivered_at else "already"
        return f"was delivered {when}{tracking}"
    if shipment.status == "lost":
        return f"has been reported lost{carrier}{tracking}; we will make it right"
    if shipment.status == "processing":
        due = f" and should arrive {day_in_words(expected, today)}" if expected else ""
        return f"is being packed in our warehouse{due}"
    late = (
        shipment.promised_date is not None
        and expected is not None
        and (expected > shipment.promised_date or (shipment.status == "delayed"))
    )
    if late and expected is not None and shipment.promised_date is not None:
        days = (expected - shipment.promised_date).days
        by = f" by {days} day{'s' if days != 1 else ''}" if days > 0 else ""
        return (
            f"is running late{by}: it was promised {day_in_words(shipment.promised_date, today)} and is now expected "
            f"{day_in_words(expected, today)}{carrier}{tracking}"
        )
    if expected is not None and expected < today:
        return f"is on its way{carrier}{tracking}; it was due {day_in_words(expected, today)}, so it is overdue"
    due = f" and should arrive {day_in_words(expected, today)}" if expected else ""
    return f"is on its way{carrier}{due}{tracking}"


def order_in_words(order: OrderSummary, today: dt.date) -> str:
    """One order, all its parcels."""
    items = f"{order.item_count} item{'s' if order.item_count != 1 else ''}"
    head = f"Order {order.number} ({items}, placed {day_in_words(order.placed_at.date(), today)})"
    if order.status == "cancelled":
        return f"{head} was cancelled."
    if not order.shipments:
        return f"{head} is confirmed and waiting to be packed."
    if len(order.shipments) == 1:
        return f"{head} {shipment_in_words(order.shipments[0], today)}."
    parts = "; ".join(f"parcel {i} {shipment_in_words(s, today)}" for i, s in enumerate(order.shipments, 1))
    return f"{head}: {parts}."


def named_or_recent_orders(
    dispatcher: CollectingDispatcher, tracker: Tracker, customer_id: int, recent: int
) -> tuple[str | None, list[OrderSummary] | None]:
    """The order number the customer gave (entity, else slot) and that order; without a number, their
    `recent` latest orders that are not cancelled. None (and the customer told) for a number that
    is not theirs."""
    number = next(tracker.get_latest_entity_values("order_id"), None) or tracker.get_slot("order_id")
    with shop_database().transaction() as session:
        if not number:
            return None, [o for o in recent_orders(session, customer_id, limit=recent) if o.status != "cancelled"]
        try:
            return str(number), [order_status(session, customer_id, str(number))]
        except OrderNotFound:
            dispatcher.utter_message(
                text=f"I can't find an order {number} on your account. Could you check the number? "
                "It looks like SO-123456 and is in your confirmation email."
            )
            return str(number), None


def still_in_warehouse(orders: list[OrderSummary]) -> list[OrderSummary]:
    """The orders that can still be cancelled or sent to another address: not shipped, not cancelled."""
    return [o for o in orders if not o.has_left_warehouse and o.status != "cancelled"]


class ActionOrderStatus(Action):
    """Where the customer's order is: the one they named, else their latest ones."""

    def name(self) -> str:
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        customer = customer_of(tracker)
        if customer is None:
            return ask_to_identify(dispatcher, self.name())
        _, found = named_or_recent_orders(dispatcher, tracker, customer.id, recent=3)
        if found is None:
            return [SlotSet("order_id", None)]
        orders, today = found[:2], dt.datetime.now(dt.timezone.utc).date()
        if not orders:
            dispatcher.utter_message(text="I can't see any orders on your account yet.")
            return []
        dispatcher.utter_message(text="\n".join(order_in_words(order, today) for order in orders))
        return [SlotSet("order_id", orders[0].number), *offer_a_person_if_upset(dispatcher, tracker)]


class ActionCancelOrder(Action):
    """Offer to cancel an order that has not shipped; the change waits for the customer's yes."""

    def name(self) -> str:
        return "action_cancel_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        customer = customer_of(tracker)
        if customer is None:
            return ask_to_identify(dispatcher, self.name())
        number, candidates = named_or_recent_orders(dispatcher, tracker, customer.id, recent=10)
        if candidates is None:
            return [SlotSet("order_id", None)]
        open_orders = still_in_warehouse(candidates)
        if number and candidates[0].status == "cancelled":
            dispatcher.utter_message(text=f"Order {candidates[0].number} is already cancelled.")
            return []
        if number and not open_orders:
            dispatcher.utter_message(
                text=f"Order {candidates[0].number} has already left our warehouse, so it can't be cancelled any "
                "more. Once it arrives you can return it for a refund: just tell me you'd like to return it."
            )
            return []
        if not open_orders:
            dispatcher.utter_message(text="None of your orders can still be cancelled: they have all shipped.")
            return []
        if len(open_orders) > 1:
            listed = "\n".join(f"- {o.number}: {o.item_count} items, {money(o.total, o.currency)}" for o in open_orders)
            dispatcher.utter_message(text=f"Which order should I cancel? Tell me its number:\n{listed}")
            return []
        order = open_orders[0]
        dispatcher.utter_message(
            text=f"Cancel order {order.number} ({order.item_count} item{'s' if order.item_count != 1 else ''}, "
            f"{money(order.total, order.currency)})? You'll get a full refund; this can't be undone.",
            buttons=[{"title": "Yes, cancel it", "payload": "/affirm"}, {"title": "No, keep it", "payload": "/deny"}],
        )
        return [SlotSet("order_id", order.number), SlotSet("pending_confirmation", f"cancel:{order.number}")]


class ActionConfirmPending(Action):
    """The customer's yes or no to a change we asked them to confirm."""

    def name(self) -> str:
        return "action_confirm_pending"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        pending = str(tracker.get_slot("pending_confirmation") or "")
        cleared = [SlotSet("pending_confirmation", None)]
        kind, _, number = pending.partition(":")
        if (tracker.latest_message.get("intent") or {}).get("name") != "affirm":
            dispatcher.utter_message(text="OK, I haven't changed anything.")
            if kind == "address":
                from actions.address import cleared as address_cleared

                return [*cleared, *address_cleared()]
            return cleared
        if kind == "address" and number:
            from actions.address import change_address_now  # address.py builds on this module

            return [*cleared, *change_address_now(dispatcher, tracker, number)]
        customer = customer_of(tracker)
        if customer is None or kind != "cancel" or not number:
            dispatcher.utter_message(text="Sorry, I've lost track of what to change. What would you like to do?")
            return cleared
        try:
            with shop_database().transaction() as session:
                cancel_order(session, customer.id, number)
        except (CannotCancel, OrderNotFound) as error:
            dispatcher.utter_message(text=f"I couldn't cancel it: {error}.")
            return cleared
        dispatcher.utter_message(
            text=f"Done: order {number} is cancelled. The refund goes back to your original payment method "
            "within 5 working days."
        )
        return cleared


def return_in_words(item: ReturnStatus, today: dt.date) -> str:
    """One return and its refund, as the customer would want to hear it."""
    head = f"{item.product_title} from order {item.order_number}"
    amount = money(item.refund_amount, item.currency)
    if item.status == "refunded":
        when = day_in_words(item.refunded_at.date(), today) if item.refunded_at else "already"
        return f"{head}: {amount} was refunded {when}; it shows on your statement within 3-5 working days."
    if item.status == "rejected":
        return f"{head}: the return was not accepted; a colleague has emailed you why."
    received = "approved" if item.status == "approved" else "registered"
    return (
        f"{head}: the return is {received} (requested {day_in_words(item.requested_at.date(), today)}); "
        f"{amount} is refunded once the item is back in our warehouse, usually within 5 working days."
    )


class ActionRefundStatus(Action):
    """Where the customer's refunds are."""

    def name(self) -> str:
        return "action_refund_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        customer = customer_of(tracker)
        if customer is None:
            return ask_to_identify(dispatcher, self.name())
        with shop_database().transaction() as session:
            returns = customer_returns(session, customer.id, limit=3)
        if not returns:
            dispatcher.utter_message(
                text="I can't see any returns on your account, so there is no refund on its way yet. "
                "Would you like to return something?"
            )
            return []
        today = dt.datetime.now(dt.timezone.utc).date()
        dispatcher.utter_message(text="\n".join(return_in_words(item, today) for item in returns))
        return offer_a_person_if_upset(dispatcher, tracker)
