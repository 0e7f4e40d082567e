"""What every action that touches the shop's records shares: the database, and who the customer is.

`customer_of(tracker)` is the ownership check: it answers from a verified link between this chat
user and a customer in the database (made by the identity form or a signed customer token from
the shop's site), never from slots, which anyone can set by typing.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from settings import load_settings
from store.customers import CustomerProfile
from store.database import ShopDatabase
from store.errors import StoreError
from store.identity import prove_identity, read_customer_token, verified_customer

logger = logging.getLogger(__name__)

# Rasa's input channel names -> the channel names the store keeps identities under
CHANNEL_NAMES = {"facebook": "messenger", "twilio": "whatsapp", "socketio": "web"}
TOKEN_KEY = "customer_token"


@lru_cache(maxsize=1)
def shop_database() -> ShopDatabase:
    """The shop database, opened once for the life of the action server."""
    return ShopDatabase(load_settings().shop_database_url)


@lru_cache(maxsize=1)
def identity_secret() -> str:
    """The secret customer tokens are signed with."""
    return load_settings().secret_for_identity()


def channel_of(tracker: Tracker) -> str:
    """The store's name for the channel this conversation is on."""
    name = str(tracker.get_latest_input_channel() or "rest")
    return CHANNEL_NAMES.get(name, name if name in {"telegram", "slack"} else "rest")


def customer_of(tracker: Tracker) -> CustomerProfile | None:
    """The customer this chat user has proven to be, or None.

    A valid customer token in the message's metadata (the web widget passes the shop site's)
    proves it on the spot and is remembered; an invalid one is logged and ignored."""
    channel, user = channel_of(tracker), tracker.sender_id
    with shop_database().transaction() as session:
        known = verified_customer(session, channel, user)
        if known is not None:
            return known
        token = (tracker.latest_message.get("metadata") or {}).get(TOKEN_KEY)
        if not token:
            return None
        try:
            customer_id = read_customer_token(str(token), identity_secret())
            return prove_identity(session, customer_id, channel, user)
        except StoreError as error:  # forged, expired, unknown customer, linked to another
            logger.warning("customer token not accepted for conversation %s: %s", user, error)
            return None


NEGATIVE_STREAK = 2  # this many negative messages in a row and a person is offered


def negative_streak(tracker: Tracker) -> int:
    """How many of the customer's latest messages in a row were negative."""
    streak = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        label = ((event.get("parse_data") or {}).get("sentiment") or {}).get("label")
        if label != "negative":
            break
        streak += 1
    return streak


def offer_a_person_if_upset(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """After an answer: offer a person to a customer who keeps being unhappy (once a conversation)."""
    if tracker.get_slot("person_offered") or negative_streak(tracker) < NEGATIVE_STREAK:
        return []
    dispatcher.utter_message(
        text="I'm sorry this is taking so long. Would you rather talk to one of my colleagues?",
        buttons=[{"title": "Yes, get me a person", "payload": "/human_handoff"}],
    )
    return [SlotSet("person_offered", True)]
