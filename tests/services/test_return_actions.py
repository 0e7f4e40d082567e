"""Returns through the actions on a real shop database: only your own items, only when the store allows."""

import asyncio
import datetime as dt
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions.forms import ActionStopForm
from actions.returns import (
    ActionAskReturnItem,
    ActionAskReturnOrder,
    ActionStartReturn,
    ActionSubmitReturn,
    ValidateReturnForm,
)
from store.database import ShopDatabase
from store.models import Order, OrderLine, Return, Ticket
from store.outbox import unsent
from store.returns import read_condition, read_reason
from tests.services.chat import NOW, run, tracker
from tests.store.factories import add_order


@pytest.fixture
def shop_with_deliveries(database: ShopDatabase) -> ShopDatabase:
    """Ada also has SO-100002 (boots and socks, delivered 5 days ago) and SO-100003 (delivered 60 days ago)."""
    with database.transaction() as session:
        ada = 1
        add_order(session, ada, "SO-100002", NOW - dt.timedelta(days=9), delivered_at=NOW - dt.timedelta(days=5),
                  lines=(("P-BOOTS", 1, "120.00"), ("P-SOCKS", 2, "15.00")))  # fmt: skip
        add_order(session, ada, "SO-100003", NOW - dt.timedelta(days=65), delivered_at=NOW - dt.timedelta(days=60))
    return database


def line_ids(database: ShopDatabase, number: str) -> list[int]:
    with database.transaction() as session:
        order_id = session.scalars(select(Order.id).where(Order.number == number)).one()
        return list(session.scalars(select(OrderLine.id).where(OrderLine.order_id == order_id).order_by(OrderLine.id)))


def returns_count(database: ShopDatabase) -> int:
    with database.transaction() as session:
        return int(session.scalar(select(func.count(Return.id))) or 0)


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def validate(method: str, value: str, state: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    result = asyncio.run(getattr(ValidateReturnForm(), method)(value, dispatcher, state, {}))
    return dispatcher.messages, result


def test_an_unproven_customer_proves_who_they_are_first(shop_with_deliveries: ShopDatabase) -> None:
    _, events = run(ActionStartReturn(), tracker("web-stranger", "i want to return something"))
    assert slot_events(events)["pending_request"] == "action_start_return"
    assert events[-1] == {"event": "followup", "name": "identify_form", "timestamp": None}


def test_the_only_returnable_order_is_filled_in_and_the_form_starts(shop_with_deliveries: ShopDatabase) -> None:
    _, events = run(ActionStartReturn(), tracker("web-ada", "i want to return something"))
    assert slot_events(events)["return_order"] == "SO-100002"  # SO-100001 is not delivered, SO-100003 too old
    assert events[-1]["name"] == "return_form"


def test_no_returnable_order_means_no_form_and_the_offer_of_a_person(shop_with_deliveries: ShopDatabase) -> None:
    (message,), events = run(ActionStartReturn(), tracker("web-bob", "return my stuff"))
    assert "delivered in the last 30 days" in message["text"]
    assert message["buttons"] == [{"title": "Ask a person", "payload": "/human_handoff"}]
    assert events == []


def test_someone_elses_order_is_not_found(shop_with_deliveries: ShopDatabase) -> None:
    messages, result = validate("validate_return_order", "SO-200002", tracker("web-ada"))
    assert result == {"return_order": None}
    assert messages[0]["text"] == "I can't find an order SO-200002 on your account. Which order is it?"


def test_an_order_with_one_item_fills_in_the_item_too(shop_with_deliveries: ShopDatabase) -> None:
    _, result = validate("validate_return_order", "so-100003", tracker("web-ada"))
    assert result == {"return_order": "SO-100003", "return_item": str(line_ids(shop_with_deliveries, "SO-100003")[0])}
    _, result = validate("validate_return_order", "it's order SO100002", tracker("web-ada"))
    assert result == {"return_order": "SO-100002"}


@pytest.mark.parametrize(("said", "index"), [("2", 1), ("the p-socks", 1), ("Product P-BOOTS", 0), ("item 1", 0)])
def test_the_item_is_chosen_by_number_or_name(shop_with_deliveries: ShopDatabase, said: str, index: int) -> None:
    ids = line_ids(shop_with_deliveries, "SO-100002")
    state = tracker("web-ada", slots={"return_order": "SO-100002"})
    _, result = validate("validate_return_item", said, state)
    assert result == {"return_item": str(ids[index])}
    _, result = validate("validate_return_item", f"item:{ids[index]}", state)  # a button
    assert result == {"return_item": str(ids[index])}


def test_an_unclear_item_is_asked_again_with_the_list(shop_with_deliveries: ShopDatabase) -> None:
    state = tracker("web-ada", slots={"return_order": "SO-100002"})
    messages, result = validate("validate_return_item", "the blue thing", state)
    assert result == {"return_item": None}
    assert messages[0]["text"] == "Sorry, which item do you mean? Tap one or tell me its number."
    (asked,), _ = run(ActionAskReturnItem(), state)
    assert asked["text"].splitlines()[1:] == ["1. Product P-BOOTS", "2. Product P-SOCKS (x2)"]


@pytest.mark.parametrize(
    ("words", "reason"),
    [("they're too small", "wrong_size"), ("it arrived broken", "damaged"), ("you sent the wrong item", "wrong_item"),
     ("I changed my mind", "changed_mind"), ("not_as_described", "not_as_described"), ("meh", None)],
)  # fmt: skip
def test_reasons_in_the_customers_words(words: str, reason: str | None) -> None:
    assert read_reason(words) == reason


@pytest.mark.parametrize(
    ("words", "condition"),
    [("still sealed", "unopened"), ("I tried them on", "opened"), ("worn twice", "used"),
     ("it arrived damaged", "damaged_on_arrival"), ("i dropped it", "damaged_by_customer"), ("dunno", None)],
)  # fmt: skip
def test_conditions_in_the_customers_words(words: str, condition: str | None) -> None:
    assert read_condition(words) == condition


def filled(database: ShopDatabase, sender: str = "web-ada", condition: str = "opened") -> Tracker:
    item = str(line_ids(database, "SO-100002")[1])
    slots = {
        "return_order": "SO-100002",
        "return_item": item,
        "return_reason": "wrong_size",
        "return_condition": condition,
    }
    return tracker(sender, slots=slots)


def test_a_complete_form_opens_the_return_with_reference_refund_and_next_steps(
    shop_with_deliveries: ShopDatabase,
) -> None:
    (message,), events = run(ActionSubmitReturn(), filled(shop_with_deliveries))
    assert message["text"].startswith("Your return R-000001 is open.")
    assert "refund $30.00" in message["text"] and "within 14 days" in message["text"]
    assert set(slot_events(events).values()) == {None}
    assert returns_count(shop_with_deliveries) == 1
    with shop_with_deliveries.transaction() as session:
        (label,) = unsent(session)
        assert (label.to_address, label.subject) == ("ada@example.com", "Your return R-000001")
    (again,), _ = run(ActionSubmitReturn(), filled(shop_with_deliveries))
    assert again["text"].startswith("That item already has a return open.")
    assert returns_count(shop_with_deliveries) == 1


def test_an_item_the_customer_damaged_is_refused_with_the_reason(shop_with_deliveries: ShopDatabase) -> None:
    (message,), _ = run(ActionSubmitReturn(), filled(shop_with_deliveries, condition="damaged_by_customer"))
    assert message["text"] == (
        "Sorry, this item can't be returned: items damaged after delivery can't be returned. "
        "If it was faulty, a colleague can help."
    )
    assert returns_count(shop_with_deliveries) == 0


def test_typed_slots_do_not_return_someone_elses_item(shop_with_deliveries: ShopDatabase) -> None:
    (message,), _ = run(ActionSubmitReturn(), filled(shop_with_deliveries, sender="web-bob"))  # proven, not Ada
    assert message["text"] == "Sorry, I couldn't match that item to your order, so nothing was returned."
    assert returns_count(shop_with_deliveries) == 0
    messages, _ = run(ActionSubmitReturn(), filled(shop_with_deliveries, sender="web-nobody"))
    assert messages == []
    assert returns_count(shop_with_deliveries) == 0


def test_never_mind_stops_the_form_and_forgets_its_answers() -> None:
    domain = {"forms": {"return_form": {"required_slots": ["return_order", "return_item"]}}}
    state = Tracker("web-ada", {"return_order": "SO-100002"}, {"text": "never mind"}, [], False, None,
                    {"name": "return_form"}, "action_listen")  # fmt: skip
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionStopForm().run(dispatcher, state, domain))
    assert dispatcher.messages[0]["text"].startswith("OK, I've stopped there. Nothing was changed.")
    assert slot_events(events) == {"return_order": None, "return_item": None, "pending_request": None,
                                   "requested_slot": None}  # fmt: skip
    assert events[-1] == {"event": "active_loop", "name": None, "timestamp": None}


def test_an_exchange_asks_what_instead_and_sends_it_once_the_item_is_back(shop_with_deliveries: ShopDatabase) -> None:
    state = tracker("web-ada", "can I swap these for a bigger size")
    state.latest_message["intent"] = {"name": "exchange", "confidence": 0.9}
    (intro,), events = run(ActionStartReturn(), state)
    assert intro["text"].startswith("Let's set up your exchange.")
    assert slot_events(events)["return_kind"] == "exchange"
    domain_slots = ["return_order", "return_item", "return_reason", "return_condition", "exchange_for"]
    asked = asyncio.run(ValidateReturnForm().required_slots(domain_slots, CollectingDispatcher(), tracker(
        "web-ada", slots={"return_kind": "exchange"}), {}))  # fmt: skip
    assert asked == domain_slots
    plain = asyncio.run(ValidateReturnForm().required_slots(domain_slots, CollectingDispatcher(), tracker(
        "web-ada", slots={"return_kind": "return"}), {}))  # fmt: skip
    assert "exchange_for" not in plain
    exchange = filled(shop_with_deliveries)
    exchange.slots.update({"return_kind": "exchange", "exchange_for": "the same socks in size L"})
    (done,), _ = run(ActionSubmitReturn(), exchange)
    assert done["text"].startswith("Your exchange is under way: return R-000001 is open (case #1).")
    assert "we'll send you the same socks in size L" in done["text"]
    with shop_with_deliveries.transaction() as session:
        (ticket,) = session.scalars(select(Ticket)).all()
        assert (ticket.category, ticket.description) == ("return", "Send instead: the same socks in size L")


def test_a_return_started_before_the_proof_stays_an_exchange(shop_with_deliveries: ShopDatabase) -> None:
    state = tracker("web-ada", "ada@example.com", slots={"return_kind": "exchange"})  # resumed after the form
    (intro,), _ = run(ActionStartReturn(), state)
    assert intro["text"].startswith("Let's set up your exchange.")


def test_the_order_question_offers_the_returnable_orders_as_buttons(shop_with_deliveries: ShopDatabase) -> None:
    (asked,), _ = run(ActionAskReturnOrder(), tracker("web-ada"))
    assert asked["text"] == "Which order is it? The number looks like SO-123456."
    assert asked["buttons"] == [{"title": "SO-100002", "payload": "SO-100002"}]
    (stranger,), _ = run(ActionAskReturnOrder(), tracker("web-stranger"))
    assert stranger["buttons"] == []
