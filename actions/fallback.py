"""The first stage of the two-stage fallback: "Did you mean ...?" in words a customer understands."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# What each intent means, as an option the customer can pick.
INTENT_LABELS = {
    "greet": "saying hello",
    "goodbye": "leaving the chat",
    "thank": "saying thanks",
    "affirm": "yes",
    "deny": "no",
    "bot_challenge": "whether you are talking to a bot",
    "help": "what I can do for you",
    "feedback": "giving us feedback",
    "human_handoff": "talking to a person",
    "chitchat": "a chat",
    "product_search": "finding a product",
    "product_question": "a question about a product",
    "product_compare": "comparing products",
    "recommend": "a recommendation",
    "price_promotions": "prices and discounts",
    "refine_search": "changing what I showed you",
    "add_to_cart": "buying a product",
    "order_status": "the status of an order",
    "track_shipment": "tracking a parcel",
    "delivery_problem": "a problem with a delivery",
    "change_address": "changing a delivery address",
    "cancel_order": "cancelling an order",
    "return_item": "returning an item",
    "exchange": "exchanging an item",
    "refund_status": "a refund",
    "payment_methods": "ways to pay",
    "payment_issue": "a problem with a payment",
    "invoice": "an invoice or receipt",
    "account": "your account",
    "complaint": "making a complaint",
    "faq": "our shipping, returns, warranty or privacy policies",
}
MAX_OPTIONS = 2


class ActionAskAffirmation(Action):
    """Offer the one or two likeliest meanings as buttons, and a way out."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        options = [
            entry["name"]
            for entry in ranking
            if entry.get("name") in INTENT_LABELS and entry["name"] not in ("affirm", "deny")
        ][:MAX_OPTIONS]
        buttons = [{"title": INTENT_LABELS[name].capitalize(), "payload": f"/{name}"} for name in options]
        buttons.append({"title": "Something else", "payload": "/out_of_scope"})
        if options:
            text = f"Sorry, I'm not sure I understood. Did you mean {INTENT_LABELS[options[0]]}?"
        else:
            text = "Sorry, I'm not sure I understood. What is it about?"
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionAskRephrase(Action):
    """The second stage: ask for other words."""

    def name(self) -> str:
        return "action_default_ask_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="Sorry, I'm still not sure. Could you say it another way?")
        return []


# What the customer can pick when the assistant gave up understanding.
GIVE_UP_OPTIONS = ("product_search", "track_shipment", "return_item", "faq", "human_handoff")


class ActionDefaultFallback(Action):
    """The end of the fallback: say what the assistant can do, offer the main topics and a person."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="Sorry, I didn't get that. Here is what I can help with, or write to support@example.com.",
            buttons=[{"title": INTENT_LABELS[name].capitalize(), "payload": f"/{name}"} for name in GIVE_UP_OPTIONS],
        )
        return [{"event": "rewind"}]  # as Rasa's own fallback: the misunderstood message is forgotten
