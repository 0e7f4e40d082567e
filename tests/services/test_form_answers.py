"""A form's question is answered in the customer's words: bare answers the NLU reads as something else
are still answers; a way out or a question aside is left to the rules."""

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.address import ValidateAddressForm
from actions.identity import ValidateIdentifyForm
from actions.returns import ValidateReturnForm
from store.database import ShopDatabase

ADDRESS_SLOTS = ["address_line1", "address_city", "address_postal_code", "address_country"]
DOMAIN = {
    "forms": {
        "address_form": {"required_slots": ADDRESS_SLOTS},
        "identify_form": {"required_slots": ["verify_email", "verify_order_id", "verify_code"]},
        "return_form": {"required_slots": ["return_order", "return_item", "return_reason", "return_condition"]},
    }
}


def said(text: str, intent: str, confidence: float, slots: dict[str, Any]) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    events = [{"event": "user", "text": text, "parse_data": message}]
    return Tracker("web-ada", slots, message, events, False, None, {"name": "address_form"}, "action_listen")


def filled(form: Any, state: Tracker) -> dict[str, Any]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(form.run(dispatcher, state, DOMAIN))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"}


@pytest.mark.parametrize(
    ("slot", "text", "intent", "expected"),
    [
        # bare answers, whatever the NLU made of them
        ("address_line1", "12 Harbour Street", "faq", "12 Harbour Street"),
        ("address_city", "Leith", "faq", "Leith"),
        ("address_city", "Bristol", "chitchat", "Bristol"),
        ("address_postal_code", "eh6 6ab", "nlu_fallback", "EH6 6AB"),
        ("address_country", "Scotland", "faq", "Scotland"),
        # questions aside and ways out are not answers: the form gives way to the rules
        ("address_city", "what's your returns policy?", "faq", None),
        ("address_city", "how are you today", "chitchat", None),
        ("address_city", "never mind", "stop", None),
        ("address_city", "can I talk to a person", "human_handoff", None),
        ("address_city", "/stop", "stop", None),
        ("address_city", "   ", "nlu_fallback", None),
    ],
)
def test_the_asked_slot_takes_the_customers_words(slot: str, text: str, intent: str, expected: str | None) -> None:
    slots = {"requested_slot": slot, **dict.fromkeys(ADDRESS_SLOTS)}
    result = filled(ValidateAddressForm(), said(text, intent, 0.97, slots))
    assert result.get(slot) == expected
    assert set(result) <= {slot}  # no other part of the address is touched


def test_words_fill_only_the_slot_the_form_asked_for() -> None:
    slots = {"requested_slot": "address_postal_code", "address_line1": "12 Harbour Street", "address_city": None,
             "address_postal_code": None, "address_country": None}  # fmt: skip
    assert filled(ValidateAddressForm(), said("EH6 6AB", "faq", 0.9, slots)) == {"address_postal_code": "EH6 6AB"}
    slots["requested_slot"] = None
    assert filled(ValidateAddressForm(), said("EH6 6AB", "faq", 0.9, slots)) == {}


def test_a_return_reason_is_taken_even_when_it_reads_like_a_policy_question() -> None:
    slots = {"requested_slot": "return_reason", "return_order": "SO-100005", "return_item": "boots"}
    result = filled(ValidateReturnForm(), said("too small for me", "faq", 0.8, slots))
    assert result.get("return_reason") == "wrong_size"  # read from the words by the validation


def test_asking_for_a_code_instead_of_the_order_number_is_an_answer_even_when_read_as_a_way_out(
    database: ShopDatabase,
) -> None:
    slots = {"requested_slot": "verify_order_id", "verify_email": "ada@example.com", "verify_order_id": None}
    result = filled(ValidateIdentifyForm(), said("I don't have it, send me a code", "human_handoff", 0.4, slots))
    assert result.get("verify_method") == "code"
    result = filled(ValidateIdentifyForm(), said("I want to talk to a person", "human_handoff", 0.9, slots))
    assert "verify_method" not in result and result.get("verify_order_id") is None
