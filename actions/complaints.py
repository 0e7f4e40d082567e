"""Complaints become tickets for people; a customer who asks for a person gets one.

A complaint is classified by what it is about (delivery, product quality, billing, service,
other) from the intent and the customer's words, and by how upset the customer is (sentiment and
frustration signals). The ticket's priority rises with that, with repeated contact and with the
customer's value (store/tickets.py). A handoff pauses the assistant for the conversation and
puts it in the staff queue; the staff console resumes it when a person hands back.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.shop import customer_of, shop_database
from store.errors import StoreError
from store.tickets import TicketSummary, open_handoff, open_ticket, waiting_for_people

logger = logging.getLogger(__name__)

# what the customer's words say the complaint is about, checked in this order
TOPICS = (
    ("lost_parcel", re.compile(r"\b(lost|never (arrived|came|got)|not (arrived|received)|didn'?t (arrive|get))", re.I)),
    ("damaged_item", re.compile(r"\b(damaged|smashed|crushed|dented|arrived broken)", re.I)),
    ("product_quality", re.compile(
        r"\b(broke|broken|faulty|defective|stopped working|poor quality|cheap(ly)? made|ripped|torn|falling apart|"
        r"doesn'?t work|not working|quality)", re.I)),
    ("billing", re.compile(r"\b(charged|charge|refund|payment|paid|invoice|bill(ed|ing)?|card|money)", re.I)),
    ("delivery", re.compile(
        r"\b(late|delay(ed)?|courier|delivery|deliver(ed)?|parcel|package|shipping|tracking)", re.I)),
    ("service", re.compile(
        r"\b(rude|no (reply|answer|response)|nobody (answered|replied|called)|ignored|support|customer service|"
        r"agent|staff|hung up)", re.I)),
)  # fmt: skip
BY_INTENT = {"delivery_problem": "delivery", "payment_issue": "billing", "invoice": "billing"}
# ticket category -> the customer-facing topic
TOPIC_NAMES = {
    "lost_parcel": "a lost parcel",
    "damaged_item": "an item that arrived damaged",
    "product_quality": "the quality of a product",
    "billing": "a payment or billing problem",
    "delivery": "a delivery problem",
    "service": "our service",
    "complaint": "your complaint",
}
MINUTES_PER_CONVERSATION_AHEAD = 4


def complaint_category(text: str, intent: str) -> str:
    """The store's ticket category for a complaint."""
    for category, pattern in TOPICS:
        if pattern.search(text):
            if intent == "delivery_problem" and category in {"product_quality", "billing", "service"}:
                continue  # "the parcel is late and support doesn't answer": still a delivery problem
            return category
    return BY_INTENT.get(intent, "complaint")


def severity(tracker: Tracker) -> str:
    """The store's sentiment scale: very_negative when negative with frustration signals."""
    parsed = tracker.latest_message.get("sentiment") or {}
    label = str(parsed.get("label") or tracker.get_slot("sentiment") or "neutral")
    if label == "negative" and (parsed.get("frustration") or tracker.get_slot("frustration")):
        return "very_negative"
    return label if label in {"negative", "neutral", "positive"} else "neutral"


def sla_in_words(ticket: TicketSummary, now: dt.datetime) -> str:
    """When the customer will hear back, roughly."""
    hours = max(1, round((ticket.sla_due - now).total_seconds() / 3600))
    return f"within {hours} hours" if hours < 48 else f"within {round(hours / 24)} days"


def file_ticket(
    tracker: Tracker, *, category: str, subject: str, description: str, customer_id: int | None
) -> TicketSummary | None:
    """Open a ticket for this conversation, with the customer's mood; None (and a log line) if the store fails."""
    try:
        with shop_database().transaction() as session:
            return open_ticket(
                session,
                category=category,
                subject=subject,
                description=description,
                customer_id=customer_id,
                conversation_id=tracker.sender_id,
                sentiment=severity(tracker),
            )
    except StoreError as error:
        logger.error("could not open a ticket for conversation %s: %s", tracker.sender_id, error)
        return None


class ActionFileComplaint(Action):
    """Open a ticket for the complaint and say what happens next, in a tone that fits."""

    def name(self) -> str:
        return "action_file_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        intent = str((tracker.latest_message.get("intent") or {}).get("name") or "complaint")
        category, mood = complaint_category(text, intent), severity(tracker)
        customer = customer_of(tracker)
        ticket = file_ticket(
            tracker,
            category=category,
            subject=f"{TOPIC_NAMES[category].capitalize()} (from the chat)",
            description=text,
            customer_id=customer.id if customer else None,
        )
        if ticket is None:
            dispatcher.utter_message(response="utter_ticket_failed")
            return []
        sorry = {
            "very_negative": "I'm really sorry, that's not good enough and I understand why you're upset.",
            "negative": "I'm sorry about this.",
        }.get(mood, "Thanks for telling us.")
        when = sla_in_words(ticket, dt.datetime.now(dt.timezone.utc))
        dispatcher.utter_message(
            text=f"{sorry} I've passed {TOPIC_NAMES[category]} to our team as case #{ticket.id} "
            f"({ticket.priority} priority); someone will get back to you {when}.",
            buttons=[{"title": "Talk to a person now", "payload": "/human_handoff"}],
        )
        return [SlotSet("ticket_id", str(ticket.id))]


class ActionHandoff(Action):
    """Pause the assistant for this conversation and queue it for a person."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        customer = customer_of(tracker)
        try:
            with shop_database().transaction() as session:
                ticket = open_handoff(session, tracker.sender_id) or open_ticket(
                    session,
                    category="handoff",
                    subject="Customer asked for a person",
                    description=str(tracker.latest_message.get("text") or ""),
                    customer_id=customer.id if customer else None,
                    conversation_id=tracker.sender_id,
                    sentiment=severity(tracker),
                )
                queue = [t.id for t in waiting_for_people(session)]
        except StoreError as error:
            logger.error("could not queue conversation %s for a person: %s", tracker.sender_id, error)
            dispatcher.utter_message(response="utter_ticket_failed")
            return []
        ahead = queue.index(ticket.id) if ticket.id in queue else 0
        wait = max(2, (ahead + 1) * MINUTES_PER_CONVERSATION_AHEAD)
        people = "nobody is" if ahead == 0 else f"{ahead} {'person is' if ahead == 1 else 'people are'}"
        dispatcher.utter_message(
            text=f"I've asked a colleague to take over; {people} waiting before you, so expect a reply here in "
            f"about {wait} minutes. You can keep writing: they will see the whole conversation.",
            # the web widget shows the handoff state from this (README "The web widget")
            json_message={"data": {"type": "handoff", "state": "waiting"}},
        )
        return [SlotSet("ticket_id", str(ticket.id)), ConversationPaused()]
