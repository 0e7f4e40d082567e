"""Migrations, transactions, customers and identities, and hostile strings, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from store.customers import create_customer, customer_for_identity, get_customer, link_identity
from store.database import ShopDatabase, alembic_config
from store.errors import CustomerNotFound, IdentityAlreadyLinked, InvalidInput
from store.models import Customer, Ticket
from store.tickets import open_ticket
from tests.store.factories import add_customer

# the newest migration (one linear chain: get_current_head refuses two heads)
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
HOSTILE = ["'; DROP TABLE customers; --", "100% _off_ \\ %", "emoji 🛍️👟✨", "ümlaut Ωmega", "quote \" and ' both"]


def test_migrating_twice_is_a_no_op_and_keeps_data(db: ShopDatabase) -> None:
    with db.transaction() as session:
        add_customer(session)
    tables_before = sorted(inspect(db.engine).get_table_names())
    db.upgrade()
    db.upgrade()
    assert sorted(inspect(db.engine).get_table_names()) == tables_before
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_failed_operation_leaves_nothing_behind(db: ShopDatabase) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        add_customer(session)
        raise RuntimeError("crash in the middle of an operation")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_identity_leads_to_the_customer(db: ShopDatabase) -> None:
    with db.transaction() as session:
        customer_id = add_customer(session)
        link_identity(session, customer_id, "telegram", "tg-42")
        link_identity(session, customer_id, "telegram", "tg-42", verified=True)  # idempotent
    with db.transaction() as session:
        assert customer_for_identity(session, "web", "web-ada").id == customer_id  # type: ignore[union-attr]
        assert customer_for_identity(session, "telegram", "tg-42").name == "Ada Berg"  # type: ignore[union-attr]
        assert customer_for_identity(session, "telegram", "tg-4%") is None  # no pattern matching
        assert customer_for_identity(session, "messenger", "tg-42") is None
        assert get_customer(session, customer_id).email == "ada@example.com"
        with pytest.raises(CustomerNotFound):
            get_customer(session, customer_id + 1000)


def test_an_identity_cannot_move_to_another_customer(db: ShopDatabase) -> None:
    with db.transaction() as session:
        first = add_customer(session)
        second = add_customer(session, name="Ben Ito", email="ben@example.com", web_id="web-ben")
    with pytest.raises(IdentityAlreadyLinked), db.transaction() as session:
        link_identity(session, second, "web", "web-ada")
    with db.transaction() as session:
        assert customer_for_identity(session, "web", "web-ada").id == first  # type: ignore[union-attr]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_are_stored_and_matched_exactly(db: ShopDatabase, hostile: str) -> None:
    with db.transaction() as session:
        customer_id = create_customer(session, name=hostile).id
        link_identity(session, customer_id, "slack", hostile)
        ticket = open_ticket(session, category="question", subject=hostile, description=hostile * 500)
    with db.transaction() as session:
        assert get_customer(session, customer_id).name == hostile
        assert customer_for_identity(session, "slack", hostile).id == customer_id  # type: ignore[union-attr]
        assert session.get(Ticket, ticket.id).description == hostile * 500  # type: ignore[union-attr]
        assert "customers" in inspect(session.get_bind()).get_table_names()


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "name is required"), ("   ", "name is required"), ("x" * 10_000, "at most 200"), ("nul\x00byte", "NUL")],
)
def test_bad_values_are_refused_with_a_reason(db: ShopDatabase, name: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message), db.transaction() as session:
        create_customer(session, name=name)
    with pytest.raises(InvalidInput, match="channel must be one of"), db.transaction() as session:
        link_identity(session, add_customer(session), "fax", "123")


def test_alembic_command_line_on_an_empty_and_an_existing_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    from settings import PROJECT_ROOT

    env = {**os.environ, "SHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    for _ in range(2):  # empty, then existing
        done = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    database = ShopDatabase(env["SHOP_DATABASE_URL"])
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    database.dispose()
