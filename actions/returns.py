"""Returns in chat: which order and item, why, and in what state; the store decides if it can go back.

`action_start_return` checks who the customer is (the identity form first if needed), fills in
what is already clear (the order named, the only order in the return window, the only item of
an order) and starts `return_form`. The form validates every answer against the customer's own
orders; `action_submit_return` opens the return in the store and gives the reference and next steps.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.complaints import file_ticket
from actions.forms import TextAnswersForm
from actions.identity import ask_to_identify
from actions.shop import customer_of, shop_database
from catalog.prices import money
from store.errors import AlreadyReturned, NotEligibleForReturn, OrderLineNotFound, OrderNotFound, StoreError
from store.outbox import queue_email
from store.returns import (
    RETURN_WINDOW,
    OrderItem,
    order_items,
    read_condition,
    read_reason,
    request_return,
    returnable_orders,
)

logger = logging.getLogger(__name__)

FORM = "return_form"
FORM_SLOTS = ("return_order", "return_item", "return_reason", "return_condition", "exchange_for", "return_kind")
MAX_LISTED = 5
LABEL_DAYS = 14  # days to drop the parcel off with the prepaid label


def return_reference(return_id: int) -> str:
    """The reference a customer quotes for a return."""
    return f"R-{return_id:06d}"


def _cleared() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionStartReturn(Action):
    """Start a return for a proven customer, with what is already known filled in."""

    def name(self) -> str:
        return "action_start_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        asked = {"exchange": "exchange", "return_item": "return"}.get(str(intent))
        kind = asked or ("exchange" if tracker.get_slot("return_kind") == "exchange" else "return")  # resumed
        customer = customer_of(tracker)
        if customer is None:
            return [SlotSet("return_kind", kind), *ask_to_identify(dispatcher, self.name())]
        named = next(tracker.get_latest_entity_values("order_id"), None)
        events = [*_cleared(), SlotSet("return_kind", kind)]
        if named:
            events.append(SlotSet("return_order", str(named).upper()))
        else:
            try:
                with shop_database().transaction() as session:
                    orders = returnable_orders(session, customer.id)
            except StoreError as error:
                logger.error("returns unavailable for conversation %s: %s", tracker.sender_id, error)
                dispatcher.utter_message(text="Sorry, I can't open returns right now. Please try again in a moment.")
                return []
            if not orders:
                dispatcher.utter_message(
                    text=f"I can't see an order of yours delivered in the last {RETURN_WINDOW.days} days, and "
                    "returns are accepted for that long after delivery. If it's about an older order, one of "
                    "my colleagues can take a look.",
                    buttons=[{"title": "Ask a person", "payload": "/human_handoff"}],
                )
                return []
            if len(orders) == 1:
                events.append(SlotSet("return_order", orders[0]))
        dispatcher.utter_message(text=f'Let\'s set up your {kind}. You can stop at any time by saying "never mind".')
        return [*events, FollowupAction(FORM)]


def _items(tracker: Tracker, order_number: str) -> list[OrderItem]:
    customer = customer_of(tracker)
    if customer is None:
        raise OrderNotFound("the customer is not proven")
    with shop_database().transaction() as session:
        return order_items(session, customer.id, order_number)


def _item_chosen(text: str, items: list[OrderItem]) -> OrderItem | None:
    """The item the customer means: its number in the list, or the item whose title shares their words."""
    text = (text or "").strip().lower()[:500]
    number = re.fullmatch(r"#?\s*(\d{1,2})[.)]?", text) or re.search(r"\b(?:item|number|no\.?)\s*(\d{1,2})\b", text)
    if number and 1 <= int(number.group(1)) <= len(items):
        return items[int(number.group(1)) - 1]
    words = set(re.findall(r"[a-z0-9]+", text)) - {"the", "a", "an", "one", "my", "i", "want", "to", "return"}
    scored = sorted(
        ((len(words & set(re.findall(r"[a-z0-9]+", item.title.lower()))), item) for item in items),
        key=lambda pair: -pair[0],
    )
    if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    return None


class ValidateReturnForm(TextAnswersForm):
    """Every answer is checked against the customer's own orders; which is wrong is said plainly."""

    text_slots = ("return_order", "return_item", "return_reason", "return_condition", "exchange_for")

    def name(self) -> str:
        return "validate_return_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("return_kind") == "exchange":
            return domain_slots
        return [slot for slot in domain_slots if slot != "exchange_for"]

    async def validate_exchange_for(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())[:200]
        if len(text) < 1:
            return {"exchange_for": None}
        return {"exchange_for": text}

    async def validate_return_order(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = str(value or "").strip().upper()[:32]
        found = re.search(r"SO-?\d{4,}", number)
        number = found.group(0).replace("SO", "SO-").replace("--", "-") if found else number
        try:
            items = _items(tracker, number)
        except OrderNotFound:
            dispatcher.utter_message(text=f"I can't find an order {number} on your account. Which order is it?")
            return {"return_order": None}
        except StoreError as error:
            logger.warning("order lookup failed for conversation %s: %s", tracker.sender_id, error)
            dispatcher.utter_message(text="Sorry, I couldn't look that order up. Which order is it?")
            return {"return_order": None}
        if len(items) == 1:
            return {"return_order": number, "return_item": str(items[0].order_line_id)}
        return {"return_order": number}

    async def validate_return_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order = tracker.get_slot("return_order")
        try:
            items = _items(tracker, str(order or ""))
        except StoreError:
            return {"return_order": None, "return_item": None}
        text = str(value or "")
        by_id = text.removeprefix("item:")
        chosen = next((item for item in items if str(item.order_line_id) == by_id), None) or _item_chosen(text, items)
        if chosen is None:
            dispatcher.utter_message(text="Sorry, which item do you mean? Tap one or tell me its number.")
            return {"return_item": None}
        return {"return_item": str(chosen.order_line_id)}

    async def validate_return_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"return_reason": read_reason(str(value or "")) or "other"}

    async def validate_return_condition(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        condition = read_condition(str(value or ""))
        if condition is None:
            dispatcher.utter_message(
                text="Sorry, I didn't catch that. Is it unopened, opened, used, or did it arrive damaged?"
            )
        return {"return_condition": condition}


class ActionAskReturnOrder(Action):
    """Ask which order, with the customer's returnable orders as buttons."""

    def name(self) -> str:
        return "action_ask_return_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        customer = customer_of(tracker)
        orders: list[str] = []
        if customer is not None:
            with shop_database().transaction() as session:
                orders = returnable_orders(session, customer.id)[:MAX_LISTED]
        dispatcher.utter_message(
            text="Which order is it? The number looks like SO-123456.",
            buttons=[{"title": number, "payload": number} for number in orders],
        )
        return []


class ActionAskReturnItem(Action):
    """Ask which item of the order, listing them."""

    def name(self) -> str:
        return "action_ask_return_item"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            items = _items(tracker, str(tracker.get_slot("return_order") or ""))
        except StoreError:
            items = []
        lines = [
            f"{n}. {item.title}" + (f" (x{item.quantity})" if item.quantity > 1 else "")
            for n, item in enumerate(items, 1)
        ]
        dispatcher.utter_message(
            text="Which item would you like to return?\n" + "\n".join(lines),
            buttons=[{"title": item.title, "payload": f"item:{item.order_line_id}"} for item in items[:MAX_LISTED]],
        )
        return []


NOT_ELIGIBLE = {
    "not_delivered": "it hasn't been delivered yet. Once it arrives you can return it within {days} days.",
    "window_expired": "returns are accepted for {days} days after delivery, and that time has passed.",
    "condition": "items damaged after delivery can't be returned. If it was faulty, a colleague can help.",
}


class ActionSubmitReturn(Action):
    """Open the return in the store; tell the reference, the refund and what happens next."""

    def name(self) -> str:
        return "action_submit_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        customer = customer_of(tracker)  # checked again: slots can be typed
        order, item = tracker.get_slot("return_order"), tracker.get_slot("return_item")
        reason, condition = tracker.get_slot("return_reason"), tracker.get_slot("return_condition")
        if customer is None or not (order and item and reason and condition):
            return _cleared()
        try:
            with shop_database().transaction() as session:
                receipt = request_return(
                    session, customer.id, str(order), int(str(item)), reason=str(reason), condition=str(condition)
                )
        except NotEligibleForReturn as refused:
            why = NOT_ELIGIBLE.get(refused.reason, str(refused)).format(days=RETURN_WINDOW.days)
            dispatcher.utter_message(
                text=f"Sorry, this item can't be returned: {why}",
                buttons=[{"title": "Ask a person", "payload": "/human_handoff"}],
            )
            return _cleared()
        except AlreadyReturned:
            dispatcher.utter_message(text="That item already has a return open. Ask me about your refund any time.")
            return _cleared()
        except (OrderNotFound, OrderLineNotFound, ValueError):
            dispatcher.utter_message(text="Sorry, I couldn't match that item to your order, so nothing was returned.")
            return _cleared()
        except StoreError as error:
            logger.error("return failed for conversation %s: %s", tracker.sender_id, error)
            dispatcher.utter_message(
                text="Sorry, I couldn't open the return just now. Nothing was changed; please try again."
            )
            return _cleared()
        reference = return_reference(receipt.return_id)
        refund = money(receipt.refund_amount, receipt.currency)
        _email_label(tracker, customer.id, reference, receipt.order_number)
        wanted = tracker.get_slot("exchange_for")
        if tracker.get_slot("return_kind") == "exchange" and wanted:
            return _exchange(dispatcher, tracker, customer.id, receipt.order_number, reference, str(wanted), refund)
        dispatcher.utter_message(
            text=f"Your return {reference} is open. A prepaid label is on its way by email: please drop the parcel off "
            f"within {LABEL_DAYS} days. Once it arrives we'll refund {refund} to your original payment method, "
            "usually within 5 working days."
        )
        return _cleared()


def _exchange(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    customer_id: int,
    order: str,
    reference: str,
    wanted: str,
    refund: str,
) -> list[dict[str, Any]]:
    """The return is open; the replacement goes to the team as a ticket, sent once the item is back."""
    ticket = file_ticket(  # if it fails the return stands; the team sees the wish in the conversation
        tracker,
        category="return",
        subject=f"Exchange for return {reference} (order {order})",
        description=f"Send instead: {wanted}",
        customer_id=customer_id,
    )
    case = f" (case #{ticket.id})" if ticket else ""
    dispatcher.utter_message(
        text=f"Your exchange is under way: return {reference} is open{case}. A prepaid label is on its way by email; "
        f"please send the item back within {LABEL_DAYS} days. As soon as it arrives we'll send you {wanted}. "
        f"If that's not available, you get {refund} back instead."
    )
    return _cleared()


def _email_label(tracker: Tracker, customer_id: int, reference: str, order: str) -> None:
    """Ask the shop's mailer to send the return label (the return stands even if this fails)."""
    try:
        with shop_database().transaction() as session:
            queue_email(
                session,
                customer_id,
                f"Your return {reference}",
                f"Your return {reference} for order {order} is open. Print the prepaid label from your account "
                f"page, pack the item and drop the parcel off within {LABEL_DAYS} days.",
            )
    except StoreError as error:
        logger.error("could not queue the label email for conversation %s: %s", tracker.sender_id, error)
