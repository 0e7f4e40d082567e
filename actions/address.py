"""A new delivery address for an order that has not shipped: a form, then the customer's yes.

`action_start_address_change` finds the order (named, or the only one still in the warehouse) and
starts `address_form` for street, city, postcode and country. `action_confirm_address` reads the
address back and waits for a yes (`pending_confirmation`); `action_confirm_pending` makes the change,
checking ownership and that the order is still in the warehouse at that moment.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import TextAnswersForm
from actions.identity import ask_to_identify
from actions.orders import named_or_recent_orders, still_in_warehouse
from actions.shop import customer_of, shop_database
from store.errors import CannotChangeAddress, OrderNotFound, StoreError
from store.orders import change_shipping_address

logger = logging.getLogger(__name__)

FORM = "address_form"
FORM_SLOTS = ("address_order", "address_line1", "address_city", "address_postal_code", "address_country")
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def cleared() -> list[dict[str, Any]]:
    """Forget the address form's answers."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionStartAddressChange(Action):
    """Find the order whose address can still change, then ask for the new address."""

    def name(self) -> str:
        return "action_start_address_change"

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
        if not open_orders:
            which = f"Order {candidates[0].number} has" if number and candidates else "Your orders have all"
            dispatcher.utter_message(
                text=f"{which} already left our warehouse, so the address can't be changed any more. The carrier "
                "can often redirect a parcel: use the tracking link in your shipping email, or ask me for a person.",
            )
            return []
        if len(open_orders) > 1:
            listed = "\n".join(f"- {o.number}" for o in open_orders)
            dispatcher.utter_message(text=f"Which order should go to a new address? Tell me its number:\n{listed}")
            return []
        dispatcher.utter_message(text=f"Let's change the delivery address of order {open_orders[0].number}.")
        return [*cleared(), SlotSet("address_order", open_orders[0].number), FollowupAction(FORM)]


class ValidateAddressForm(TextAnswersForm):
    """Plain checks on each part of the address; the store checks lengths again."""

    text_slots = ("address_line1", "address_city", "address_postal_code", "address_country")

    def name(self) -> str:
        return "validate_address_form"

    async def validate_address_line1(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not 3 <= len(text) <= 200 or not _HAS_LETTER.search(text):
            dispatcher.utter_message(text="That doesn't look like a street address. Could you type it again?")
            return {"address_line1": None}
        return {"address_line1": text}

    async def validate_address_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not 2 <= len(text) <= 100 or not _HAS_LETTER.search(text):
            dispatcher.utter_message(text="Which town or city is that?")
            return {"address_city": None}
        return {"address_city": text}

    async def validate_address_postal_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split()).upper()
        if not _POSTCODE.match(text):
            dispatcher.utter_message(text="That doesn't look like a postcode. Could you check it?")
            return {"address_postal_code": None}
        return {"address_postal_code": text}

    async def validate_address_country(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split()).strip(" .!")
        words = len(text.split())
        if (
            not 2 <= len(text) <= 64
            or not _HAS_LETTER.search(text)
            or any(ch.isdigit() for ch in text)
            or ("?" in text or words > 4 or text.lower() in {"yes", "no", "ok"})
        ):
            dispatcher.utter_message(text="Which country should it go to? Just the country's name, please.")
            return {"address_country": None}
        return {"address_country": text}


class ActionConfirmAddress(Action):
    """Read the new address back; nothing changes before the customer's yes."""

    def name(self) -> str:
        return "action_confirm_address"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        number = tracker.get_slot("address_order")
        parts = [tracker.get_slot(slot) for slot in FORM_SLOTS[1:]]
        if not number or not all(parts):
            return cleared()
        dispatcher.utter_message(
            text=f"Send order {number} to {', '.join(str(p) for p in parts)}?",
            buttons=[{"title": "Yes, change it", "payload": "/affirm"}, {"title": "No, keep it", "payload": "/deny"}],
        )
        return [SlotSet("pending_confirmation", f"address:{number}")]


def change_address_now(dispatcher: CollectingDispatcher, tracker: Tracker, number: str) -> list[dict[str, Any]]:
    """The customer said yes: change the address if the order is theirs and still in the warehouse."""
    customer = customer_of(tracker)
    line1, city, postal_code, country = (str(tracker.get_slot(slot) or "") for slot in FORM_SLOTS[1:])
    if customer is None or not all((line1, city, postal_code, country)):
        dispatcher.utter_message(text="Sorry, I've lost track of the new address. Nothing was changed.")
        return cleared()
    try:
        with shop_database().transaction() as session:
            change_shipping_address(
                session, customer.id, number, line1=line1, city=city, postal_code=postal_code, country=country
            )
    except CannotChangeAddress:
        dispatcher.utter_message(
            text=f"Sorry, order {number} has just left our warehouse, so its address can't be changed any more."
        )
        return cleared()
    except OrderNotFound:
        dispatcher.utter_message(text=f"Sorry, I can't find order {number} on your account. Nothing was changed.")
        return cleared()
    except StoreError as error:
        logger.warning("address change refused for conversation %s: %s", tracker.sender_id, error)
        dispatcher.utter_message(text="Sorry, I couldn't save that address, so nothing was changed.")
        return cleared()
    dispatcher.utter_message(text=f"Done: order {number} will go to {line1}, {city}. We've emailed you a confirmation.")
    return cleared()
