"""Ticket priority and SLA, interactions, export, erasure and retention, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import String, Text, create_engine, select, text

from store.conversations import ConversationStore
from store.customers import create_customer, link_identity
from store.database import ShopDatabase
from store.errors import InvalidInput
from store.feedback import record_rating
from store.identity import send_login_code
from store.interactions import record_interaction
from store.models import Base, CsatRating, Interaction, Order, Ticket
from store.privacy import apply_retention, erase_customer, export_customer
from store.tickets import (
    open_handoff,
    open_ticket,
    open_tickets,
    resolve_ticket,
    ticket_priority,
    waiting_for_people,
)
from tests.store.conftest import ANCHOR
from tests.store.factories import add_customer, add_order, add_product


@pytest.mark.parametrize(
    ("category", "sentiment", "segment", "priority"),
    [
        ("question", "neutral", None, "low"),
        ("complaint", "neutral", None, "normal"),
        ("complaint", "negative", None, "high"),
        ("complaint", "very_negative", "vip", "urgent"),
        ("lost_parcel", "very_negative", "vip", "urgent"),  # capped at the top
        ("lost_parcel", "positive", None, "high"),
    ],
)
def test_ticket_priority_rules(category: str, sentiment: str, segment: str | None, priority: str) -> None:
    assert ticket_priority(category, sentiment, segment) == priority


def test_repeated_contact_raises_the_priority_of_the_next_ticket(db: ShopDatabase) -> None:
    assert ticket_priority("product_quality", "neutral", None, earlier_contacts=1) == "normal"
    assert ticket_priority("product_quality", "neutral", None, earlier_contacts=2) == "high"
    with db.transaction() as session:
        customer = add_customer(session)
        other = add_customer(session, name="Bob Lin", email="bob@example.com", web_id="web-bob")
        old = open_ticket(session, category="service", subject="old", customer_id=customer,
                          now=ANCHOR - dt.timedelta(days=40))  # fmt: skip
        first = open_ticket(session, category="service", subject="1", customer_id=customer, now=ANCHOR)
        second = open_ticket(session, category="service", subject="2", customer_id=customer, now=ANCHOR)
        third = open_ticket(session, category="service", subject="3", customer_id=customer, now=ANCHOR)
        bobs = open_ticket(session, category="service", subject="b", customer_id=other, now=ANCHOR)
    assert [t.priority for t in (old, first, second, third, bobs)] == ["normal", "normal", "normal", "high", "normal"]


def test_the_staff_queue_holds_open_untaken_handoffs_most_urgent_first(db: ShopDatabase) -> None:
    with db.transaction() as session:
        customer = add_customer(session)
        calm = open_ticket(session, category="handoff", subject="calm", conversation_id="c1", now=ANCHOR)
        angry = open_ticket(session, category="handoff", subject="angry", conversation_id="c2",
                            sentiment="very_negative", customer_id=customer, now=ANCHOR)  # fmt: skip
        open_ticket(session, category="complaint", subject="not a handoff", conversation_id="c3", now=ANCHOR)
        taken = open_ticket(session, category="handoff", subject="taken", conversation_id="c4", now=ANCHOR)
        session.get(Ticket, taken.id).assignee = "sam"
    with db.transaction() as session:
        assert [t.id for t in waiting_for_people(session)] == [angry.id, calm.id]
        assert open_handoff(session, "c1") == calm and open_handoff(session, "c3") is None
        resolve_ticket(session, calm.id, "answered")
        assert open_handoff(session, "c1") is None


def test_tickets_get_an_sla_and_are_listed_most_urgent_first(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        add_order(session, ada, "SO-7", ANCHOR)
        low = open_ticket(session, category="question", subject="Gift wrap?", customer_id=ada, now=ANCHOR)
        high = open_ticket(
            session, category="lost_parcel", subject="Parcel lost", customer_id=ada, order_number="SO-7", now=ANCHOR
        )
    assert low.sla_due == ANCHOR + dt.timedelta(hours=72)
    assert high.priority == "high" and high.sla_due == ANCHOR + dt.timedelta(hours=8)
    with db.transaction() as session:
        assert [t.id for t in open_tickets(session, ada)] == [high.id, low.id]
    with pytest.raises(InvalidInput, match="category must be one of"), db.transaction() as session:
        open_ticket(session, category="rant", subject="x")


def test_interactions_are_validated(db: ShopDatabase) -> None:
    with db.transaction() as session:
        ada = add_customer(session)
        add_product(session, "P1")
        record_interaction(session, "viewed", customer_id=ada, product_id="P1", at=ANCHOR)
        record_interaction(session, "searched", session_id="anon-1", query="red shoes", at=ANCHOR)
    for kwargs, message in [
        ({"kind": "liked", "customer_id": 1, "product_id": "P1"}, "kind must be one of"),
        ({"kind": "viewed", "product_id": "P1"}, "needs a customer or a session"),
        ({"kind": "viewed", "session_id": "s"}, "needs a product"),
        ({"kind": "viewed", "session_id": "s", "product_id": "NOPE"}, "unknown product"),
        ({"kind": "searched", "session_id": "s"}, "needs the query"),
    ]:
        with pytest.raises(InvalidInput, match=message), db.transaction() as session:
            record_interaction(session, **kwargs)  # type: ignore[arg-type]
    with db.transaction() as session:
        assert len(session.scalars(select(Interaction)).all()) == 2


def rasa_tracker_db(path: Path, events: list[tuple[str, float, str]]) -> str:
    """A tracker database with the `events` table as Rasa's SQLTrackerStore creates it."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )
        for sender, stamp, said in events:
            data = json.dumps({"event": "user", "timestamp": stamp, "text": said})
            connection.execute(
                text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, :d)"),
                {"s": sender, "t": stamp, "d": data},
            )
    engine.dispose()
    return url


def all_stored_text(db: ShopDatabase) -> str:
    """Every string value in every table, joined: what an erasure must have cleaned."""
    chunks: list[str] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in connection.execute(select(*columns)):
                chunks.extend(str(value) for value in row if value is not None)
    return "\n".join(chunks)


def test_export_then_erase_leaves_nothing_identifying(db: ShopDatabase, tmp_path: Path) -> None:
    now = time.time()
    conversations = ConversationStore(
        rasa_tracker_db(
            tmp_path / "tracker.db",
            [("web-ada", now, "my email is ada@example.com"), ("tg-ada", now, "hi"), ("web-ben", now, "hello")],
        )
    )
    with db.transaction() as session:
        ada = add_customer(session)
        link_identity(session, ada, "telegram", "tg-ada")
        ben = create_customer(session, name="Ben Ito", email="ben@example.com").id
        link_identity(session, ben, "web", "web-ben")
        add_order(session, ada, "SO-1", ANCHOR - dt.timedelta(days=3), delivered_at=ANCHOR)
        record_interaction(session, "viewed", customer_id=ada, product_id="P1", at=ANCHOR)
        open_ticket(
            session, category="complaint", subject="Ada Berg is unhappy", description="Call Ada on +44 20 7946 0958",
            customer_id=ada, conversation_id="web-ada",
        )  # fmt: skip
        assert send_login_code(session, "ada@example.com", "web", "web-ada", now=ANCHOR)  # an email in the outbox
        record_rating(session, "web", "web-ada", 2, "Slow. Ada Berg, 020 7946 0958")
        record_rating(session, "web", "web-ben", 5, "Great help")

    with db.transaction() as session:
        exported = export_customer(session, ada, conversations)
    assert exported["customer"]["email"] == "ada@example.com"
    assert [o["number"] for o in exported["orders"]] == ["SO-1"]
    assert len(exported["orders"][0]["lines"]) == 1 and exported["interactions"][0]["kind"] == "viewed"
    assert {e["sender_id"] for e in exported["conversations"]} == {"web-ada", "tg-ada"}
    assert [(r["score"], r["comment"]) for r in exported["chat_ratings"]] == [(2, "Slow. Ada Berg, 020 7946 0958")]
    json.dumps(exported)  # JSON-ready

    with db.transaction() as session:
        report = erase_customer(session, ada, conversations)
    assert (report.identities, report.interactions, report.orders_anonymised, report.conversation_events) == (
        2,
        1,
        1,
        2,
    )
    stored = all_stored_text(db)
    for identifying in ("Ada", "Berg", "ada@example.com", "7946", "web-ada", "tg-ada"):
        assert identifying not in stored
    assert "Ben Ito" in stored  # the other customer is untouched
    assert [e["sender_id"] for e in conversations.events_of(["web-ada", "tg-ada", "web-ben"])] == ["web-ben"]
    with db.transaction() as session:
        order = session.scalars(select(Order)).one()
        assert order.customer_id is None and order.number == "SO-1"  # kept for the accounts, anonymised
        ratings = session.execute(select(CsatRating.score, CsatRating.comment).order_by(CsatRating.score)).all()
        assert [tuple(r) for r in ratings] == [(2, None), (5, "Great help")]  # scores kept for the statistics
    conversations.dispose()


def test_retention_removes_old_interactions_and_conversations(db: ShopDatabase, tmp_path: Path) -> None:
    old, recent = (ANCHOR - dt.timedelta(days=400)).timestamp(), (ANCHOR - dt.timedelta(days=10)).timestamp()
    conversations = ConversationStore(
        rasa_tracker_db(tmp_path / "tracker.db", [("web-a", old, "old"), ("web-a", recent, "recent")])
    )
    with db.transaction() as session:
        ada = add_customer(session)
        add_product(session, "P1")
        record_interaction(session, "viewed", customer_id=ada, product_id="P1", at=ANCHOR - dt.timedelta(days=400))
        record_interaction(session, "viewed", customer_id=ada, product_id="P1", at=ANCHOR - dt.timedelta(days=10))
    with db.transaction() as session:
        report = apply_retention(session, dt.timedelta(days=365), conversations, now=ANCHOR)
    assert (report.interactions, report.conversation_events) == (1, 1)
    assert [e["text"] for e in conversations.events_of(["web-a"])] == ["recent"]
    conversations.dispose()
