"""Every store test runs on SQLite and on a real PostgreSQL (started if it is stopped)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from store.database import ShopDatabase
from store.models import Base
from tests.local_services import ensure_postgres

ANCHOR = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
PG_DATABASE = f"shop_store_test_{os.getpid()}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    host, port = ensure_postgres()
    admin = create_engine(f"postgresql+psycopg://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"'))
        connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    yield f"postgresql://postgres@{host}:{port}/{PG_DATABASE}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopDatabase]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'shop.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = ShopDatabase(url)
    database.upgrade()
    yield database
    with database.engine.begin() as connection:  # leave an empty store for the next test
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    database.dispose()
