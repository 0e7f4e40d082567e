"""Delivery problems through the action, on a real shop database: the rule's remedy, a ticket when
people must act, nothing about an order before a proof."""

import datetime as dt
from typing import Any

from sqlalchemy import select

from actions.delivery import ActionDeliveryProblem
from store.database import ShopDatabase
from store.models import Shipment, Ticket
from tests.services.chat import NOW, TODAY, run, tracker
from tests.store.factories import add_order


def problem(
    sender: str, text: str, entities: list[dict[str, Any]] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    state = tracker(sender, text, entities)
    state.latest_message["intent"] = {"name": "delivery_problem", "confidence": 0.9}
    return run(ActionDeliveryProblem(), state)


def tickets(database: ShopDatabase) -> list[tuple[str, str]]:
    with database.transaction() as session:
        return [(t.category, t.subject) for t in session.scalars(select(Ticket).order_by(Ticket.id))]


def test_before_a_proof_the_problem_is_kept_and_the_identity_form_starts(database: ShopDatabase) -> None:
    _, events = problem("web-stranger", "my parcel never arrived")
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["delivery_issue"] == "lost"
    assert slots["pending_request"] == "action_delivery_problem"
    assert tickets(database) == []


def test_a_parcel_that_is_not_late_yet_gets_its_day_and_no_ticket(database: ShopDatabase) -> None:
    (message,), _ = problem("web-ada", "where is my parcel, it's late")
    assert message["text"] == (
        "Order SO-100001 is on its way and isn't late: it should arrive tomorrow. "
        "If it hasn't come by then, tell me and I'll sort it out."
    )
    assert tickets(database) == []


def test_a_long_overdue_parcel_is_treated_as_lost_and_replaced(database: ShopDatabase) -> None:
    with database.transaction() as session:
        shipment = session.scalars(select(Shipment).where(Shipment.tracking_number == "TRK-SO-100001")).one()
        shipment.promised_date = TODAY - dt.timedelta(days=10)
        shipment.estimated_date = TODAY - dt.timedelta(days=9)
    (message,), _ = problem("web-ada", "my parcel never arrived")
    assert message["text"].startswith("I'm sorry: order SO-100001 is 9 days overdue, so we treat it as lost.")
    assert "free replacement" in message["text"] and "case #1" in message["text"]
    assert tickets(database) == [("lost_parcel", "A lost parcel: order SO-100001")]


def test_damage_offers_a_free_return_of_that_order(database: ShopDatabase) -> None:
    with database.transaction() as session:
        add_order(session, 1, "SO-100009", NOW - dt.timedelta(days=4), delivered_at=NOW - dt.timedelta(days=1))
    (message,), _ = problem("web-ada", "the lamp arrived damaged")
    assert message["text"].startswith("I'm sorry it arrived damaged.")
    assert message["buttons"] == [{"title": "Start the return", "payload": '/return_item{"order_id":"SO-100009"}'}]
    assert tickets(database) == [("damaged_item", "An item that arrived damaged: order SO-100009")]


def test_someone_elses_order_number_reveals_nothing(database: ShopDatabase) -> None:
    (message,), _ = problem("web-ada", "SO-200002 is late", [{"entity": "order_id", "value": "SO-200002"}])
    assert message["text"].startswith("I can't find an order SO-200002 on your account.")
    assert tickets(database) == []


def test_after_the_proof_the_problem_said_before_is_used(database: ShopDatabase) -> None:
    with database.transaction() as session:
        add_order(session, 1, "SO-100010", NOW - dt.timedelta(days=4), delivered_at=NOW - dt.timedelta(days=1))
    state = tracker("web-ada", "SO-100010", slots={"delivery_issue": "damaged"})
    state.latest_message["intent"] = {"name": "inform", "confidence": 0.9}
    (message,), _ = run(ActionDeliveryProblem(), state)
    assert message["text"].startswith("I'm sorry it arrived damaged.")
