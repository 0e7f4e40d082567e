"""The console on PostgreSQL, as in production: shop database and Rasa's tracker store both on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from console.tracker import TrackerReader
from store.privacy import erase_customer
from tests.console.conftest import (
    ALL_SENDERS,
    CONVERSATIONS,
    ROLE_USERS,
    Console,
    build_console,
    log_in,
    seed_tracker,
)
from tests.console.test_conversations import listed
from tests.local_services import ensure_postgres

SHOP_DATABASE = f"console_shop_test_{os.getpid()}"
TRACKER_DATABASE = f"console_tracker_test_{os.getpid()}"


@pytest.fixture
def pg_console(tmp_path: Path, tracker_template: Path) -> Iterator[Console]:
    host, port = ensure_postgres()
    admin = create_engine(f"postgresql+psycopg://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for database in (SHOP_DATABASE, TRACKER_DATABASE):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    seed_tracker({"postgres": {"host": host, "port": port, "db": TRACKER_DATABASE, "user": "postgres"}}, CONVERSATIONS)
    try:
        yield from build_console(
            f"postgresql://postgres@{host}:{port}/{SHOP_DATABASE}",
            tmp_path,
            tracker_template,
            tracker_database_url=f"postgresql://postgres@{host}:{port}/{TRACKER_DATABASE}",
        )
    finally:
        with admin.connect() as connection:
            for database in (SHOP_DATABASE, TRACKER_DATABASE):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def test_the_console_on_postgresql(pg_console: Console) -> None:
    client = pg_console.client()
    csrf = log_in(client, ROLE_USERS["agent"])
    assert listed(client.get("/conversations").text) == ALL_SENDERS
    assert listed(client.get("/conversations?q=RUNNING shoes").text) == {"bob-rest"}  # case-insensitive on PostgreSQL
    assert len(listed(client.get("/conversations?q=%25").text)) == 1  # % stays a character
    assert listed(client.get("/conversations?intent=order_status&customer=JANE.DOE@example.com").text) == {"alice-web"}
    assert listed(client.get("/conversations?q=' OR 1=1 --").text) == set()
    assert "intent <strong>product_search</strong> (0.98)" in client.get("/conversations/bob-rest").text
    assert client.post("/tags/alice-web", data={"name": "vip", "csrf_token": csrf}).status_code == 303
    assert listed(client.get("/conversations?tag=vip").text) == {"alice-web"}
    with pg_console.state.db.transaction() as session:
        erase_customer(session, pg_console.alice_customer_id)
    assert "alice-web" not in listed(client.get("/conversations").text)  # cascaded with the customer row


def test_the_sender_index_is_created_on_a_postgresql_tracker_without_it(pg_console: Console) -> None:
    engine = pg_console.state.tracker.engine
    with engine.begin() as connection:
        for (name,) in connection.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'events' AND indexdef LIKE '%(sender_id)%'")
        ):
            connection.execute(text(f'DROP INDEX "{name}"'))
    reader = TrackerReader(pg_console.state.config.tracker_database_url)
    assert reader.ensure_sender_index() is True
    assert reader.ensure_sender_index() is False
    assert [e.type_name for e in reader.conversation("carol-telegram")][-1] == "pause"
    reader.dispose()
