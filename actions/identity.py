"""The identity form: email address plus an order number, or a one-time code, prove who the customer is.

An action that needs the customer and finds none remembers what was asked (`pending_request`)
and starts the form; when the form ends with a proof, `action_resume_request` carries out the request.
Three failed attempts end the form with the offer of a person. A customer without an order number
at hand says "send me a code": a one-time code goes to the account's address (store/identity.py)
and the form asks for it instead; whether the address has an account is never said.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import TextAnswersForm
from actions.shop import channel_of, customer_of, shop_database
from store.errors import StoreError
from store.identity import (
    VerificationFailed,
    check_login_code,
    customer_by_email_and_order,
    prove_identity,
    send_login_code,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
FORM = "identify_form"
# actions that may be resumed after the form (a slot value is never run unchecked)
RESUMABLE = frozenset(
    {"action_order_status", "action_cancel_order", "action_refund_status", "action_start_return",
     "action_delivery_problem", "action_start_address_change"}
)  # fmt: skip


WANTS_CODE = re.compile(r"\b(?:code|don'?t have (?:it|one|the number)|no order number|lost (?:it|the number))\b", re.I)
ORDER_NUMBER = re.compile(r"\bSO-?(\d{4,})\b")


def ask_to_identify(dispatcher: CollectingDispatcher, request: str) -> list[dict[str, Any]]:
    """Explain why, remember the request, start the identity form."""
    dispatcher.utter_message(response="utter_identify_first")
    return [SlotSet("pending_request", request if request in RESUMABLE else None), FollowupAction(FORM)]


class ValidateIdentifyForm(TextAnswersForm):
    """Checks the email address and order number against the shop's records."""

    text_slots = ("verify_order_id", "verify_code")

    def clearly_answers(self, slot: str, text: str) -> bool:
        """Asking for a code instead of the order number is an answer, whatever the NLU makes of it."""
        return slot == "verify_order_id" and bool(WANTS_CODE.search(text) or ORDER_NUMBER.search(text.upper()))

    def name(self) -> str:
        return "validate_identify_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if int(tracker.get_slot("verify_attempts") or 0) >= MAX_ATTEMPTS:
            return []  # the form ends; action_resume_request offers nothing personal
        if tracker.get_slot("verify_method") == "code":
            return ["verify_email", "verify_code"]
        return ["verify_email", "verify_order_id"]

    def validate_verify_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if "@" not in text or len(text) > 320:
            dispatcher.utter_message(response="utter_invalid_email")
            return {"verify_email": None}
        return {"verify_email": text.lower()}

    def validate_verify_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = tracker.get_slot("verify_email")
        if not email:
            return {"verify_order_id": None}
        text = str(value or "")
        if WANTS_CODE.search(text):
            return self._send_code(tracker, str(email))
        number = ORDER_NUMBER.search(text.upper())
        value = f"SO-{number.group(1)}" if number else text
        try:
            with shop_database().transaction() as session:
                customer = customer_by_email_and_order(session, str(email), str(value or ""))
                prove_identity(session, customer.id, channel_of(tracker), tracker.sender_id)
        except VerificationFailed:
            attempts = int(tracker.get_slot("verify_attempts") or 0) + 1
            if attempts >= MAX_ATTEMPTS:
                dispatcher.utter_message(response="utter_identify_failed")
                return {"verify_email": None, "verify_order_id": None, "verify_attempts": attempts,
                        "pending_request": None}  # fmt: skip
            dispatcher.utter_message(response="utter_identify_mismatch")
            return {"verify_email": None, "verify_order_id": None, "verify_attempts": attempts}
        except StoreError as error:
            logger.warning("identity check failed for conversation %s: %s", tracker.sender_id, error)
            dispatcher.utter_message(response="utter_identify_mismatch")
            return {"verify_email": None, "verify_order_id": None}
        dispatcher.utter_message(response="utter_identified", name=customer.name.split()[0])
        return {"verify_order_id": str(value).upper(), "customer_name": customer.name, "verify_attempts": 0}

    def _send_code(self, tracker: Tracker, email: str) -> dict[str, Any]:
        try:
            with shop_database().transaction() as session:
                send_login_code(session, email, channel_of(tracker), tracker.sender_id)
        except StoreError as error:  # the customer hears the same: nothing says whether the address is known
            logger.warning("one-time code not sent for conversation %s: %s", tracker.sender_id, error)
        return {"verify_order_id": None, "verify_method": "code", "verify_code": None}

    def validate_verify_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            with shop_database().transaction() as session:  # a wrong try is committed: attempts are limited
                customer = check_login_code(session, channel_of(tracker), tracker.sender_id, str(value or ""))
        except StoreError as error:
            logger.warning("one-time code check failed for conversation %s: %s", tracker.sender_id, error)
            customer = None
        if customer is None:
            attempts = int(tracker.get_slot("verify_attempts") or 0) + 1
            if attempts >= MAX_ATTEMPTS:
                dispatcher.utter_message(response="utter_identify_failed")
                return {"verify_email": None, "verify_code": None, "verify_method": None, "verify_attempts": attempts,
                        "pending_request": None}  # fmt: skip
            dispatcher.utter_message(text="That code doesn't match, or it has expired. Please check the email.")
            return {"verify_code": None, "verify_attempts": attempts}
        dispatcher.utter_message(response="utter_identified", name=customer.name.split()[0])
        # verify_method stays "code" until action_resume_request clears it, so the form ends here
        return {"verify_code": "used", "customer_name": customer.name, "verify_attempts": 0}


class ActionResumeRequest(Action):
    """After the identity form: run what the customer asked for, if they are now proven."""

    def name(self) -> str:
        return "action_resume_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        request = tracker.get_slot("pending_request")
        events: list[dict[str, Any]] = [
            SlotSet(slot, None) for slot in ("pending_request", "verify_email", "verify_method", "verify_code")
        ]
        if customer_of(tracker) is None:
            if int(tracker.get_slot("verify_attempts") or 0) >= MAX_ATTEMPTS:
                return [*events, SlotSet("verify_attempts", 0), ActiveLoop(None)]
            return events
        if request in RESUMABLE:
            # run here rather than as a follow-up action: the rule that ends the form ends with this action
            from actions.address import ActionStartAddressChange
            from actions.delivery import ActionDeliveryProblem
            from actions.orders import ActionCancelOrder, ActionOrderStatus, ActionRefundStatus
            from actions.returns import ActionStartReturn

            actions = (ActionOrderStatus(), ActionCancelOrder(), ActionRefundStatus(), ActionStartReturn(),
                       ActionDeliveryProblem(), ActionStartAddressChange())  # fmt: skip
            action = {a.name(): a for a in actions}[str(request)]
            return [*events, *await action.run(dispatcher, tracker, domain)]
        return events
