"""Delivery problems: late, lost or damaged, with the remedy the shop's rules give (store/remedies.py)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import TOPIC_NAMES, complaint_category, file_ticket, sla_in_words
from actions.identity import ask_to_identify
from actions.orders import day_in_words, named_or_recent_orders
from actions.shop import customer_of, offer_a_person_if_upset
from store.orders import OrderSummary
from store.remedies import CHECK_NEIGHBOURS_HOURS, Remedy, delivery_remedy

logger = logging.getLogger(__name__)

PROBLEM_OF_CATEGORY = {"lost_parcel": "lost", "damaged_item": "damaged"}
ISSUE_SLOT = "delivery_issue"  # kept while the customer proves who they are


def _order_in_question(problem: str, orders: list[OrderSummary]) -> OrderSummary:
    """Without an order number: for damage the latest delivered order, else the latest on its way."""

    def delivered(order: OrderSummary) -> bool:
        return any(s.status == "delivered" for s in order.shipments)

    wanted = [o for o in orders if delivered(o) == (problem == "damaged")]
    return (wanted or orders)[0]


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def remedy_in_words(remedy: Remedy, order: OrderSummary, today: dt.date, case: str) -> str:
    """What the customer is told for a remedy."""
    number = order.number
    expected = day_in_words(remedy.expected, today) if remedy.expected else None
    if remedy.kind == "not_shipped":
        due = f"; it should arrive {expected}" if expected else ""
        return f"Order {number} hasn't left our warehouse yet{due}. Nothing has gone wrong with it so far."
    if remedy.kind == "on_the_way":
        due = f": it should arrive {expected}" if expected else ""
        later = "If it hasn't come by then, tell me and I'll sort it out."
        return f"Order {number} is on its way and isn't late{due}. {later}"
    if remedy.kind == "late_apology":
        return f"Sorry, order {number} is running {_days(remedy.days_late)} late. It's now expected {expected}."
    if remedy.kind == "late_refund_shipping":
        return (
            f"Sorry, order {number} is {_days(remedy.days_late)} late; it's now expected {expected}. That's too long, "
            f"so we're refunding your shipping cost{case}."
        )
    if remedy.kind == "replace_or_refund":
        what = (
            f"is {_days(remedy.days_late)} overdue, so we treat it as lost"
            if remedy.days_late
            else "has been reported lost by the carrier"
        )
        return (
            f"I'm sorry: order {number} {what}. We'll send you a free replacement, or refund you in full if you "
            f"prefer{case}."
        )
    if remedy.kind == "check_neighbours":
        return (
            f"The carrier says order {number} was delivered. Please check any safe place and with your neighbours; "
            f"if it hasn't turned up within {CHECK_NEIGHBOURS_HOURS} hours, tell me and we'll have the carrier "
            f"investigate{case}."
        )
    return (
        f"I'm sorry it arrived damaged. You can send it back free of charge for a full refund or a replacement"
        f"{case}. Shall we start the return?"
    )


class ActionDeliveryProblem(Action):
    """Find the order, apply the shop's rule for the problem, open a ticket when people must act."""

    def name(self) -> str:
        return "action_delivery_problem"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        intent = str((tracker.latest_message.get("intent") or {}).get("name") or "")
        said = PROBLEM_OF_CATEGORY.get(complaint_category(text, "delivery_problem"))
        if intent == "delivery_problem":
            problem = said or "late"
        else:  # resumed after the identity form: the problem was said before it
            problem = said or str(tracker.get_slot(ISSUE_SLOT) or "late")
        customer = customer_of(tracker)
        if customer is None:
            return [SlotSet(ISSUE_SLOT, problem), *ask_to_identify(dispatcher, self.name())]
        number, found = named_or_recent_orders(dispatcher, tracker, customer.id, recent=5)
        if found is None:
            return [SlotSet("order_id", None), SlotSet(ISSUE_SLOT, None)]
        if not found:
            dispatcher.utter_message(text="I can't see any orders on your account yet, so there's nothing delivered.")
            return [SlotSet(ISSUE_SLOT, None)]
        order = found[0] if number else _order_in_question(problem, found)
        today = dt.datetime.now(dt.timezone.utc).date()
        remedy = delivery_remedy(problem, order, today)
        case = ""
        if remedy.ticket_category:
            ticket = file_ticket(
                tracker,
                category=remedy.ticket_category,
                subject=f"{TOPIC_NAMES[remedy.ticket_category].capitalize()}: order {order.number}",
                description=f"{text}\n\nRemedy by rule: {remedy.kind.replace('_', ' ')}",
                customer_id=customer.id,
            )
            if ticket is None:
                dispatcher.utter_message(response="utter_ticket_failed")
                return [SlotSet(ISSUE_SLOT, None)]
            when = sla_in_words(ticket, dt.datetime.now(dt.timezone.utc))
            case = f"; our team has it as case #{ticket.id} and will confirm {when}"
        buttons = (
            [{"title": "Start the return", "payload": f'/return_item{{"order_id":"{order.number}"}}'}]
            if remedy.kind == "damaged_return"
            else []
        )
        dispatcher.utter_message(text=remedy_in_words(remedy, order, today, case), buttons=buttons)
        events: list[dict[str, Any]] = [SlotSet(ISSUE_SLOT, None), SlotSet("order_id", order.number)]
        return events + offer_a_person_if_upset(dispatcher, tracker)
