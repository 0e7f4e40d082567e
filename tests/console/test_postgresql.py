"""The console on a PostgreSQL shop database, as in production: migration, sync, filters, search, erasure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from store.privacy import erase_customer
from tests.console.conftest import ALL_SENDERS, ROLE_USERS, Console, build_console, log_in
from tests.console.test_conversations import listed
from tests.local_services import ensure_postgres

DATABASE = f"console_test_{os.getpid()}"


@pytest.fixture
def pg_console(tmp_path: Path, tracker_template: Path) -> Iterator[Console]:
    host, port = ensure_postgres()
    admin = create_engine(f"postgresql+psycopg://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}"'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    try:
        yield from build_console(f"postgresql://postgres@{host}:{port}/{DATABASE}", tmp_path, tracker_template)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()


def test_the_console_on_postgresql(pg_console: Console) -> None:
    client = pg_console.client()
    csrf = log_in(client, ROLE_USERS["agent"])
    assert listed(client.get("/conversations").text) == ALL_SENDERS
    assert listed(client.get("/conversations?q=RUNNING shoes").text) == {"bob-rest"}  # case-insensitive on PostgreSQL
    assert len(listed(client.get("/conversations?q=%25").text)) == 1  # % stays a character
    assert listed(client.get("/conversations?intent=order_status&customer=JANE.DOE@example.com").text) == {"alice-web"}
    assert listed(client.get("/conversations?q=' OR 1=1 --").text) == set()
    assert client.post("/tags/alice-web", data={"name": "vip", "csrf_token": csrf}).status_code == 303
    assert listed(client.get("/conversations?tag=vip").text) == {"alice-web"}
    with pg_console.state.db.transaction() as session:
        erase_customer(session, pg_console.alice_customer_id)
    assert "alice-web" not in listed(client.get("/conversations").text)  # cascaded with the customer row
