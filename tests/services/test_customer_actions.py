"""Orders, identity, complaints and handoff through the actions, on a real shop database: nothing
personal before a proof."""

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.complaints import ActionFileComplaint, ActionHandoff, complaint_category
from actions.greeting import ActionGreet
from actions.identity import ActionResumeRequest, ValidateIdentifyForm
from actions.orders import (
    ActionCancelOrder,
    ActionConfirmPending,
    ActionOrderStatus,
    ActionRefundStatus,
    day_in_words,
    shipment_in_words,
)
from store.customers import customer_for_identity
from store.database import ShopDatabase
from store.identity import sign_customer_token
from store.models import OutboxMessage, Shipment, Ticket
from store.orders import ShipmentStatus, order_status
from store.returns import refund_return, request_return
from store.tickets import waiting_for_people
from tests.services.chat import NOW, SECRET, TODAY, run, tracker
from tests.store.factories import add_order


def test_a_proven_customer_hears_where_the_order_is_in_plain_words(database: ShopDatabase) -> None:
    (message,), events = run(ActionOrderStatus(), tracker("web-ada", "where is my order"))
    assert message["text"].startswith("Order SO-100001 (1 item, placed on ")
    assert "is on its way with ParcelPost and should arrive tomorrow (tracking number TRK-SO-100001)" in message["text"]
    assert events[-1]["name"] == "order_id" and events[-1]["value"] == "SO-100001"


def test_an_unproven_user_is_asked_to_prove_who_they_are_first(database: ShopDatabase) -> None:
    (message,), events = run(ActionOrderStatus(), tracker("stranger", "where is SO-100001"))
    assert message["response"] == "utter_identify_first" and "SO-100001" not in str(message)
    assert {"event": "followup", "timestamp": None, "name": "identify_form"} in events


def test_someone_elses_order_number_reveals_nothing(database: ShopDatabase) -> None:
    entity = [{"entity": "order_id", "value": "SO-200002"}]
    (message,), events = run(ActionOrderStatus(), tracker("web-ada", "where is SO-200002", entity))
    assert "can't find an order SO-200002" in message["text"] and "Bob" not in message["text"]
    assert events == [{"event": "slot", "timestamp": None, "name": "order_id", "value": None}]


def test_a_slot_set_by_typing_is_not_a_proof(database: ShopDatabase) -> None:
    state = tracker("intruder", "status", slots={"customer_name": "Ada Berg", "order_id": "SO-100001"})
    (message,), _ = run(ActionOrderStatus(), state)
    assert message["response"] == "utter_identify_first"


def test_a_signed_token_from_the_shop_site_proves_the_customer(database: ShopDatabase) -> None:
    with database.transaction() as session:
        ada = customer_for_identity(session, "web", "web-ada")
        assert ada is not None
    token = sign_customer_token(ada.id, SECRET, dt.timedelta(minutes=10))
    (message,), _ = run(ActionOrderStatus(), tracker("widget-7", "order status", metadata={"customer_token": token}))
    assert message["text"].startswith("Order SO-100001")
    (again,), _ = run(ActionOrderStatus(), tracker("widget-7", "and now?"))  # remembered for the conversation
    assert again["text"].startswith("Order SO-100001")
    forged = sign_customer_token(ada.id, "not-the-secret", dt.timedelta(minutes=10))
    (refused,), _ = run(ActionOrderStatus(), tracker("widget-8", "status", metadata={"customer_token": forged}))
    assert refused["response"] == "utter_identify_first"


def validate(state: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    slots = {name: {"mappings": [{"type": "from_entity", "entity": entity}]}
             for name, entity in (("verify_email", "email"), ("verify_order_id", "order_id"))}  # fmt: skip
    events = asyncio.run(ValidateIdentifyForm().run(dispatcher, state, {"forms": {}, "slots": slots}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def form_tracker(sender: str, slots: dict[str, Any]) -> Tracker:
    state = tracker(sender, str(slots.get("verify_order_id") or ""))
    state.slots.update({"requested_slot": "verify_order_id", **slots})
    # what the customer just gave: rasa-sdk validates the slots set since the last action
    state.events.append({"event": "slot", "name": "verify_order_id", "value": slots.get("verify_order_id")})
    state.active_loop = {"name": "identify_form"}
    state.latest_action_name = "identify_form"
    return state


def test_the_identity_form_links_the_chat_user_after_a_match(database: ShopDatabase) -> None:
    messages, slots = validate(
        form_tracker("chat-1", {"verify_email": "Ada@Example.com", "verify_order_id": "so-100001"})
    )
    assert messages == [{"text": None, "buttons": [], "elements": [], "custom": {}, "template": "utter_identified",
                         "response": "utter_identified", "image": None, "attachment": None, "name": "Ada"}]  # fmt: skip
    assert slots["verify_order_id"] == "SO-100001" and slots["customer_name"] == "Ada Berg"
    (message,), _ = run(ActionOrderStatus(), tracker("chat-1", "where is it"))
    assert message["text"].startswith("Order SO-100001")


def test_three_mismatches_end_the_form_without_a_link(database: ShopDatabase) -> None:
    attempts = 0
    for _ in range(3):
        state = form_tracker("chat-2", {"verify_email": "ada@example.com", "verify_order_id": "SO-200002",
                                        "verify_attempts": attempts})  # fmt: skip
        messages, slots = validate(state)
        attempts = slots["verify_attempts"]
        assert slots["verify_email"] is None and slots["verify_order_id"] is None
    assert attempts == 3 and messages[-1]["response"] == "utter_identify_failed"
    assert slots.get("requested_slot") is None
    state = tracker("chat-2", "", slots={"verify_attempts": 3, "pending_request": "action_order_status"})
    _, events = run(ActionResumeRequest(), state)
    assert not any(e["event"] == "followup" for e in events)
    (message,), _ = run(ActionOrderStatus(), tracker("chat-2", "where is it"))
    assert message["response"] == "utter_identify_first"


def code_form_tracker(sender: str, slot: str, value: str, slots: dict[str, Any]) -> Tracker:
    state = tracker(sender, value)
    state.slots.update({"requested_slot": slot, slot: value, **slots})
    state.events.append({"event": "slot", "name": slot, "value": value})
    state.active_loop = {"name": "identify_form"}
    state.latest_action_name = "identify_form"
    return state


def validate_with_code(state: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    slots = {name: {"mappings": [{"type": "from_text"}]} for name in ("verify_email", "verify_order_id", "verify_code")}
    events = asyncio.run(ValidateIdentifyForm().run(dispatcher, state, {"forms": {}, "slots": slots}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def outbox_code(database: ShopDatabase) -> str:
    with database.transaction() as session:
        body = session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id.desc())).first()
    return str(body).split("Your code is ")[1][:6]


def test_without_an_order_number_a_one_time_code_proves_the_customer(database: ShopDatabase) -> None:
    said = code_form_tracker("chat-9", "verify_order_id", "I don't have it, send me a code",
                             {"verify_email": "ada@example.com"})  # fmt: skip
    _, slots = validate_with_code(said)
    assert slots["verify_method"] == "code" and slots["verify_order_id"] is None
    assert slots["requested_slot"] == "verify_code"
    code = outbox_code(database)
    wrong = code_form_tracker("chat-9", "verify_code", "000000" if code != "000000" else "111111",
                              {"verify_email": "ada@example.com", "verify_method": "code"})  # fmt: skip
    messages, slots = validate_with_code(wrong)
    assert messages[0]["text"] == "That code doesn't match, or it has expired. Please check the email."
    assert slots["verify_attempts"] == 1
    proof = {"verify_email": "ada@example.com", "verify_method": "code", "verify_attempts": 1}
    right = code_form_tracker("chat-9", "verify_code", code, proof)
    messages, slots = validate_with_code(right)
    assert messages[0]["response"] == "utter_identified" and slots["customer_name"] == "Ada Berg"
    (message,), _ = run(ActionOrderStatus(), tracker("chat-9", "where is it"))
    assert message["text"].startswith("Order SO-100001")


def test_a_code_for_an_unknown_address_is_asked_for_the_same_way(database: ShopDatabase) -> None:
    said = code_form_tracker("chat-10", "verify_order_id", "send me a code", {"verify_email": "nobody@example.com"})
    messages, slots = validate_with_code(said)
    assert messages == [] and slots["requested_slot"] == "verify_code"  # nothing tells the address is unknown
    with database.transaction() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_after_a_proof_the_interrupted_request_resumes(database: ShopDatabase) -> None:
    state = tracker("web-ada", "", slots={"pending_request": "action_order_status"})
    (message,), events = run(ActionResumeRequest(), state)
    assert message["text"].startswith("Order SO-100001") and events[0]["name"] == "pending_request"
    hostile = tracker("web-ada", "", slots={"pending_request": "action_delete_everything"})
    messages, events = run(ActionResumeRequest(), hostile)
    assert messages == [] and not any(e["event"] == "followup" for e in events)


def test_delivery_dates_in_words() -> None:
    today = dt.date(2026, 11, 27)  # a Friday
    assert day_in_words(today, today) == "today"
    assert day_in_words(dt.date(2026, 11, 28), today) == "tomorrow"
    assert day_in_words(dt.date(2026, 12, 1), today) == "on Tuesday"
    assert day_in_words(dt.date(2026, 12, 9), today) == "on Wednesday 9 December"
    late = ShipmentStatus("delayed", "ParcelPost", "T1", dt.date(2026, 11, 26), dt.date(2026, 11, 30), None)
    assert shipment_in_words(late, today) == (
        "is running late by 4 days: it was promised yesterday and is now expected on Monday with ParcelPost "
        "(tracking number T1)"
    )
    lost = ShipmentStatus("lost", None, None, None, None, None)
    assert shipment_in_words(lost, today).startswith("has been reported lost")
    overdue = ShipmentStatus("in_transit", None, None, dt.date(2026, 11, 20), dt.date(2026, 11, 20), None)
    assert "overdue" in shipment_in_words(overdue, today)


def answer(sender: str, intent: str, pending: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    state = tracker(sender, intent, slots={"pending_confirmation": pending})
    state.latest_message["intent"] = {"name": intent, "confidence": 0.99}
    return run(ActionConfirmPending(), state)


def test_cancelling_asks_first_and_only_a_yes_cancels(database: ShopDatabase) -> None:
    with database.transaction() as session:
        ada = customer_for_identity(session, "web", "web-ada")
        assert ada is not None
        add_order(session, ada.id, "SO-100009", NOW, shipment_status="processing").total = Decimal("40.00")
    (offer,), events = run(ActionCancelOrder(), tracker("web-ada", "cancel my order"))
    assert offer["text"].startswith("Cancel order SO-100009 (1 item, $40.00)?")
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    assert events[-1] == {
        "event": "slot",
        "timestamp": None,
        "name": "pending_confirmation",
        "value": "cancel:SO-100009",
    }
    (kept,), _ = answer("web-ada", "deny", "cancel:SO-100009")
    assert kept["text"] == "OK, I haven't changed anything."
    with database.transaction() as session:
        assert order_status(session, ada.id, "SO-100009").status == "paid"
    (done,), events = answer("web-ada", "affirm", "cancel:SO-100009")
    assert done["text"].startswith("Done: order SO-100009 is cancelled.")
    assert events == [{"event": "slot", "timestamp": None, "name": "pending_confirmation", "value": None}]
    with database.transaction() as session:
        assert order_status(session, ada.id, "SO-100009").status == "cancelled"
    (again,), _ = answer("web-ada", "affirm", "cancel:SO-100009")
    assert again["text"].startswith("I couldn't cancel it: order SO-100009 is already cancelled")


def test_a_shipped_order_is_not_cancelled_but_returned(database: ShopDatabase) -> None:
    entity = [{"entity": "order_id", "value": "SO-100001"}]
    (message,), events = run(ActionCancelOrder(), tracker("web-ada", "cancel SO-100001", entity))
    assert "has already left our warehouse" in message["text"] and events == []


def test_a_yes_cannot_cancel_someone_elses_order(database: ShopDatabase) -> None:
    (message,), _ = answer("web-ada", "affirm", "cancel:SO-200002")
    assert message["text"].startswith("I couldn't cancel it: no order")
    with database.transaction() as session:
        bob = customer_for_identity(session, "web", "web-bob")
        assert bob is not None and order_status(session, bob.id, "SO-200002").status == "paid"
    (stranger,), _ = answer("stranger", "affirm", "cancel:SO-100001")
    assert stranger["text"].startswith("Sorry, I've lost track")


def complaint(sender: str, text: str, intent: str, label: str, frustration: list[str]) -> Tracker:
    state = tracker(sender, text)
    state.latest_message["intent"] = {"name": intent, "confidence": 0.9}
    state.latest_message["sentiment"] = {"label": label, "frustration": frustration}
    return state


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [
        ("my parcel never arrived", "delivery_problem", "lost_parcel"),
        ("the vase arrived damaged", "delivery_problem", "damaged_item"),
        ("the parcel is 3 days late and support doesn't answer", "delivery_problem", "delivery"),
        ("the zip broke after two days, really poor quality", "complaint", "product_quality"),
        ("you charged my card twice", "complaint", "billing"),
        ("your agent was rude to me", "complaint", "service"),
        ("I am not happy at all", "complaint", "complaint"),
        ("I was billed wrongly", "payment_issue", "billing"),
    ],
)
def test_complaints_are_classified_by_what_they_are_about(text: str, intent: str, category: str) -> None:
    assert complaint_category(text, intent) == category


def test_a_complaint_opens_a_ticket_whose_priority_follows_the_mood(database: ShopDatabase) -> None:
    calm = complaint("web-ada", "the zip broke after two days", "complaint", "neutral", [])
    (message,), events = run(ActionFileComplaint(), calm)
    assert message["text"].startswith("Thanks for telling us. I've passed the quality of a product to our team")
    assert "(normal priority); someone will get back to you within 24 hours." in message["text"]
    angry = complaint("web-ada", "THE ZIP BROKE AGAIN!!!", "complaint", "negative", ["shouting"])
    (message,), events = run(ActionFileComplaint(), angry)
    assert message["text"].startswith("I'm really sorry") and "(high priority)" in message["text"]
    with database.transaction() as session:
        ticket = session.get(Ticket, int(events[0]["value"]))
        assert ticket is not None and ticket.customer_id is not None
        assert ticket.conversation_id == "web-ada" and ticket.description == "THE ZIP BROKE AGAIN!!!"


def test_an_anonymous_complaint_is_kept_without_a_customer(database: ShopDatabase) -> None:
    (message,), events = run(ActionFileComplaint(), complaint("visitor-1", "parcel late", "delivery_problem",
                                                                "negative", []))  # fmt: skip
    assert "a delivery problem" in message["text"]
    with database.transaction() as session:
        ticket = session.get(Ticket, int(events[0]["value"]))
        assert ticket is not None and ticket.customer_id is None and ticket.conversation_id == "visitor-1"


def test_a_handoff_pauses_the_assistant_and_queues_the_conversation_once(database: ShopDatabase) -> None:
    (first,), events = run(ActionHandoff(), tracker("visitor-2", "I want to talk to a human"))
    assert first["text"].startswith("I've asked a colleague to take over; nobody is waiting before you")
    assert events[-1] == {"event": "pause", "timestamp": None}
    (second,), _ = run(ActionHandoff(), complaint("visitor-3", "a person please!!", "human_handoff", "negative",
                                                  ["repeated_punctuation"]))  # fmt: skip
    assert "nobody is waiting" in second["text"]  # an upset customer goes first
    (again,), events_again = run(ActionHandoff(), tracker("visitor-2", "hello?"))
    assert "1 person is waiting before you" in again["text"]
    assert events_again[0]["value"] == events[0]["value"]  # the same ticket, not a second one
    with database.transaction() as session:
        assert [t.conversation_id for t in waiting_for_people(session)] == ["visitor-3", "visitor-2"]


def test_refund_status_tells_where_each_refund_is(database: ShopDatabase) -> None:
    (none,), _ = run(ActionRefundStatus(), tracker("web-ada", "where is my refund"))
    assert none["text"].startswith("I can't see any returns on your account")
    with database.transaction() as session:
        ada = customer_for_identity(session, "web", "web-ada")
        assert ada is not None
        order = add_order(
            session, ada.id, "SO-100005", NOW - dt.timedelta(days=10), delivered_at=NOW - dt.timedelta(days=5)
        )
        line_id = order.lines[0].id
        receipt = request_return(session, ada.id, "SO-100005", line_id, reason="wrong_size", condition="unopened")
        refund_return(session, receipt.return_id)
    (message,), _ = run(ActionRefundStatus(), tracker("web-ada", "where is my refund"))
    assert message["text"] == (
        "Product P1 from order SO-100005: $40.00 was refunded today; "
        "it shows on your statement within 3-5 working days."
    )
    (stranger,), _ = run(ActionRefundStatus(), tracker("web-bob-impostor", "where is my refund"))
    assert stranger["response"] == "utter_identify_first"


def test_a_returning_customer_is_greeted_by_name_and_told_what_we_know(database: ShopDatabase) -> None:
    (hello,), events = run(ActionGreet(), tracker("web-ada", "hi"))
    assert hello["text"] == "Hi Ada, welcome back! What can I do for you today?"
    assert events == [{"event": "slot", "timestamp": None, "name": "customer_name", "value": "Ada Berg"}]
    with database.transaction() as session:
        shipment = session.query(Shipment).filter_by(tracking_number="TRK-SO-100001").one()
        shipment.status, shipment.estimated_date = "delayed", TODAY + dt.timedelta(days=3)
    (delayed,), _ = run(ActionGreet(), tracker("web-ada", "hello"))
    assert delayed["text"].startswith("Hi Ada, welcome back! I can see your order SO-100001 is delayed, now expected")
    (anonymous,), events = run(ActionGreet(), tracker("visitor-9", "hi"))
    assert anonymous["response"] == "utter_greet" and events == []


def test_a_customer_who_stays_unhappy_is_offered_a_person_once(database: ShopDatabase) -> None:
    def said(*labels: str) -> Tracker:
        state = tracker("web-ada", "where is my order")
        state.events = [{"event": "user", "text": "x", "input_channel": "socketio",
                         "parse_data": {"sentiment": {"label": label}}} for label in labels]  # fmt: skip
        return state

    (_, offer), events = run(ActionOrderStatus(), said("neutral", "negative", "negative"))
    assert offer["text"].startswith("I'm sorry this is taking so long.")
    assert offer["buttons"][0]["payload"] == "/human_handoff"
    assert events[-1] == {"event": "slot", "timestamp": None, "name": "person_offered", "value": True}
    (only_answer,), _ = run(ActionOrderStatus(), said("negative", "neutral"))
    assert only_answer["text"].startswith("Order SO-100001")
    offered = said("negative", "negative", "negative")
    offered.slots["person_offered"] = True
    (answer,), _ = run(ActionOrderStatus(), offered)
    assert answer["text"].startswith("Order SO-100001")
