"""The production profile (deploy/endpoints.production.yml) needs only configuration:
Rasa builds a PostgreSQL tracker store and a Redis lock store from it, and both work."""

import asyncio
import uuid
from pathlib import Path

import pytest
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from tests.local_services import ensure_postgres, ensure_redis

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENDPOINTS = PROJECT_ROOT / "deploy" / "endpoints.production.yml"


@pytest.fixture
def production_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    pg_host, pg_port = ensure_postgres()
    redis_host, redis_port = ensure_redis()
    for name, value in {
        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook",
        "TRACKER_DB_HOST": pg_host,
        "TRACKER_DB_PORT": str(pg_port),
        "TRACKER_DB_NAME": "shop_tracker_test",
        "TRACKER_DB_USER": "postgres",
        "TRACKER_DB_PASSWORD": "",
        "TRACKER_DB_LOGIN_DB": "postgres",
        "REDIS_HOST": redis_host,
        "REDIS_PORT": str(redis_port),
        "REDIS_DB": "3",
        "REDIS_PASSWORD": "",
    }.items():
        monkeypatch.setenv(name, value)


def test_postgres_tracker_store_keeps_a_conversation(production_environment: None) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    store = TrackerStore.create(read_endpoint_config(str(PRODUCTION_ENDPOINTS), "tracker_store"), domain)
    assert isinstance(store, SQLTrackerStore)
    assert store.engine.dialect.name == "postgresql"

    sender = f"customer-{uuid.uuid4().hex[:8]}"
    tracker = DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen"),
            UserUttered("do you sell running shoes?", {"name": "product_search", "confidence": 0.9}),
            ActionExecuted("action_search_products"),
        ],
    )

    async def save_and_read() -> DialogueStateTracker | None:
        await store.save(tracker)
        return await store.retrieve(sender)

    stored = asyncio.run(save_and_read())
    assert stored is not None
    assert stored.latest_message is not None
    assert stored.latest_message.text == "do you sell running shoes?"
    assert stored.latest_action_name == "action_search_products"


def test_redis_lock_store_serialises_a_conversation(production_environment: None) -> None:
    store = LockStore.create(read_endpoint_config(str(PRODUCTION_ENDPOINTS), "lock_store"))
    assert isinstance(store, RedisLockStore)
    conversation = f"customer-{uuid.uuid4().hex[:8]}"

    async def lock_twice() -> list[str]:
        order: list[str] = []

        async def turn(name: str) -> None:
            async with store.lock(conversation, wait_time_in_seconds=0.05):
                order.append(f"{name} starts")
                await asyncio.sleep(0.3)
                order.append(f"{name} ends")

        await asyncio.gather(turn("first"), turn("second"))
        return order

    order = asyncio.run(lock_twice())
    # the second turn waits for the first: the turns never interleave
    assert order in (
        ["first starts", "first ends", "second starts", "second ends"],
        ["second starts", "second ends", "first starts", "first ends"],
    )
