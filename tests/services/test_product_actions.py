"""The product action answers from the catalog, through rasa-sdk's own Tracker and dispatcher."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import products
from catalog.demo_catalog import generate_demo_catalog
from catalog.index import build_index
from catalog.products import save_products


def customer_says(text: str, product: str | None = None) -> Tracker:
    entities = [{"entity": "product", "value": product}] if product else []
    message = {"text": text, "intent": {"name": "product_search", "confidence": 0.97}, "entities": entities}
    return Tracker("customer-1", {}, message, [], False, None, {}, "action_listen")


def run_action(tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(products.ActionSearchProducts().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


@pytest.fixture
def shop_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    catalog_file = tmp_path / "catalog.jsonl"
    save_products(catalog_file, generate_demo_catalog())
    build_index(tmp_path / "models" / "catalog", catalog_file, show_progress=False)
    monkeypatch.setenv("SHOP_MODELS_DIR", str(tmp_path / "models"))
    products.product_search.cache_clear()
    yield
    products.product_search.cache_clear()


def test_lists_matching_products_with_prices(shop_index: None) -> None:
    messages, events = run_action(customer_says("do you sell running shoes?", "running shoes"))
    assert events == []
    (reply,) = messages
    assert reply["text"].startswith("Yes, we have running shoes:")
    listed = reply["text"].splitlines()[1:]
    assert len(listed) == products.MAX_LISTED
    assert all("Running Shoes" in line and "$" in line for line in listed)


def test_uses_the_whole_message_when_no_product_was_recognised(shop_index: None) -> None:
    messages, _ = run_action(customer_says("something to grind coffee"))
    assert messages[0]["text"].startswith("Here is what I found:")
    assert "Coffee Grinder" in messages[0]["text"]


def test_says_so_when_the_shop_does_not_sell_it(shop_index: None) -> None:
    messages, _ = run_action(customer_says("do you sell snowboards?", "snowboards"))
    assert messages[0]["text"] == (
        "Sorry, we don't seem to sell snowboards. Is there something else you are looking for?"
    )


def test_apologises_instead_of_crashing_without_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_MODELS_DIR", str(tmp_path / "no-models"))
    products.product_search.cache_clear()
    try:
        messages, events = run_action(customer_says("do you sell running shoes?", "running shoes"))
    finally:
        products.product_search.cache_clear()
    assert events == []
    assert "can't look at the catalog right now" in messages[0]["text"]


def test_quotes_the_question_when_nothing_matches_and_no_product_was_recognised(shop_index: None) -> None:
    messages, _ = run_action(customer_says("do you have snowboards?"))
    assert messages[0]["text"] == (
        'Sorry, I couldn\'t find anything for "snowboards". Is there something else you are looking for?'
    )
