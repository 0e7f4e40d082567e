"""A new delivery address through the actions on a real shop database: only before shipping, only
after a yes, only for your own order."""

import asyncio
import datetime as dt
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.address import ActionConfirmAddress, ActionStartAddressChange, ValidateAddressForm
from actions.orders import ActionConfirmPending
from store.database import ShopDatabase
from store.models import Address, Order
from tests.services.chat import NOW, run, tracker
from tests.store.factories import add_order

NEW_ADDRESS = {
    "address_order": "SO-100005",
    "address_line1": "12 Harbour Street",
    "address_city": "Leith",
    "address_postal_code": "EH6 6AB",
    "address_country": "United Kingdom",
}


def in_the_warehouse(database: ShopDatabase) -> None:
    with database.transaction() as session:
        add_order(session, 1, "SO-100005", NOW - dt.timedelta(hours=5), shipment_status="processing")


def shipping_address(database: ShopDatabase, number: str) -> tuple[str, str] | None:
    with database.transaction() as session:
        order = session.scalars(select(Order).where(Order.number == number)).one()
        address = session.get(Address, order.shipping_address_id) if order.shipping_address_id else None
        return (address.line1, address.city) if address else None


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_the_only_order_still_in_the_warehouse_is_chosen_and_the_form_starts(database: ShopDatabase) -> None:
    in_the_warehouse(database)
    (message,), events = run(ActionStartAddressChange(), tracker("web-ada", "I need to change my delivery address"))
    assert message["text"] == "Let's change the delivery address of order SO-100005."
    assert slots_of(events)["address_order"] == "SO-100005"
    assert events[-1]["name"] == "address_form"


def test_a_shipped_order_keeps_its_address(database: ShopDatabase) -> None:
    entities = [{"entity": "order_id", "value": "SO-100001"}]  # in transit
    (message,), events = run(ActionStartAddressChange(), tracker("web-ada", "change address of SO-100001", entities))
    assert message["text"].startswith("Order SO-100001 has already left our warehouse")
    assert events == []


def test_an_unproven_user_proves_who_they_are_first(database: ShopDatabase) -> None:
    _, events = run(ActionStartAddressChange(), tracker("web-stranger", "new address please"))
    assert slots_of(events)["pending_request"] == "action_start_address_change"


def validate(method: str, value: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    result = asyncio.run(getattr(ValidateAddressForm(), method)(value, dispatcher, tracker("web-ada"), {}))
    return dispatcher.messages, result


def test_address_parts_are_checked_one_by_one() -> None:
    assert validate("validate_address_line1", "  12   Harbour Street ")[1] == {"address_line1": "12 Harbour Street"}
    assert validate("validate_address_line1", "12")[1] == {"address_line1": None}
    assert validate("validate_address_postal_code", "eh6 6ab")[1] == {"address_postal_code": "EH6 6AB"}
    messages, result = validate("validate_address_postal_code", "not a postcode at all!")
    assert result == {"address_postal_code": None}
    assert messages[0]["text"] == "That doesn't look like a postcode. Could you check it?"
    assert validate("validate_address_country", "12345")[1] == {"address_country": None}
    assert validate("validate_address_country", "do you ship to france?")[1] == {"address_country": None}
    assert validate("validate_address_country", "Scotland.")[1] == {"address_country": "Scotland"}
    assert validate("validate_address_city", "x" * 500)[1] == {"address_city": None}


def answer(sender: str, intent: str, slots: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    state = tracker(sender, intent, slots=slots)
    state.latest_message["intent"] = {"name": intent, "confidence": 0.9}
    return run(ActionConfirmPending(), state)


def test_the_address_changes_only_after_a_yes(database: ShopDatabase) -> None:
    in_the_warehouse(database)
    (question,), events = run(ActionConfirmAddress(), tracker("web-ada", slots=NEW_ADDRESS))
    assert question["text"] == "Send order SO-100005 to 12 Harbour Street, Leith, EH6 6AB, United Kingdom?"
    pending = slots_of(events)["pending_confirmation"]
    assert pending == "address:SO-100005"
    (no,), events = answer("web-ada", "deny", {**NEW_ADDRESS, "pending_confirmation": pending})
    assert no["text"] == "OK, I haven't changed anything."
    assert slots_of(events)["address_line1"] is None
    assert shipping_address(database, "SO-100005") is None
    (yes,), _ = answer("web-ada", "affirm", {**NEW_ADDRESS, "pending_confirmation": pending})
    assert yes["text"].startswith("Done: order SO-100005 will go to 12 Harbour Street, Leith.")
    assert shipping_address(database, "SO-100005") == ("12 Harbour Street", "Leith")


def test_a_typed_yes_cannot_change_someone_elses_address(database: ShopDatabase) -> None:
    in_the_warehouse(database)
    (reply,), _ = answer("web-bob", "affirm", {**NEW_ADDRESS, "pending_confirmation": "address:SO-100005"})
    assert reply["text"] == "Sorry, I can't find order SO-100005 on your account. Nothing was changed."
    assert shipping_address(database, "SO-100005") is None
