"""A real shop database for the action tests.

Ada (verified web user "web-ada") has order SO-100001 in transit; Bob ("web-bob") has SO-200002.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions import shop
from store.database import ShopDatabase
from store.models import Shipment
from tests.services.chat import NOW, SECRET, TODAY
from tests.store.factories import add_customer, add_order


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopDatabase]:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    monkeypatch.setenv("SHOP_IDENTITY_SECRET", SECRET)
    shop.shop_database.cache_clear()
    shop.identity_secret.cache_clear()
    database = shop.shop_database()
    database.upgrade()
    with database.transaction() as session:
        ada = add_customer(session)  # linked and verified as web user "web-ada"
        order = add_order(session, ada, "SO-100001", NOW - dt.timedelta(days=3), shipment_status="in_transit")
        shipment = session.query(Shipment).filter_by(order_id=order.id).one()
        shipment.promised_date = TODAY + dt.timedelta(days=1)
        shipment.estimated_date = TODAY + dt.timedelta(days=1)
        bob = add_customer(session, name="Bob Lin", email="bob@example.com", web_id="web-bob")
        add_order(session, bob, "SO-200002", NOW - dt.timedelta(days=1))
    yield database
    shop.shop_database.cache_clear()
    shop.identity_secret.cache_clear()
    database.dispose()
