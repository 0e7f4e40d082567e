"""A greeting that knows the customer: their name, and an order problem they may be here about."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import day_in_words
from actions.shop import customer_of, shop_database
from store.orders import OrderSummary, recent_orders

PROBLEM_STATES = ("lost", "delayed")


def known_problem(orders: list[OrderSummary], today: dt.date) -> str | None:
    """What is wrong with a recent order, in a sentence, if anything."""
    for order in orders:
        for shipment in order.shipments:
            if shipment.status == "lost":
                return f"I can see the parcel for order {order.number} has been reported lost. Is that why you're here?"
            expected = shipment.estimated_date
            promised = shipment.promised_date
            late = shipment.status == "delayed" or (expected and promised and expected > promised)
            if late and shipment.status not in {"delivered", "lost"}:
                when = f", now expected {day_in_words(expected, today)}" if expected else ""
                return f"I can see your order {order.number} is delayed{when}. Is that why you're here?"
    return None


class ActionGreet(Action):
    """Greet by name a customer who has proven who they are, and raise what we already know."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        customer = customer_of(tracker)
        if customer is None:
            dispatcher.utter_message(response="utter_greet")
            return []
        with shop_database().transaction() as session:
            orders = recent_orders(session, customer.id, limit=3)
        first_name = customer.name.split()[0]
        problem = known_problem(orders, dt.datetime.now(dt.timezone.utc).date())
        dispatcher.utter_message(text=f"Hi {first_name}, welcome back! " + (problem or "What can I do for you today?"))
        return [SlotSet("customer_name", customer.name)]
