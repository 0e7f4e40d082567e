"""Products in chat through the actions: search, refinements, questions, suggestions and the basket,
on a real catalog index and a real shop database (impressions and clicks are recorded there)."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import products, shop, suggestions
from catalog.browsing import Browsing
from catalog.demo_catalog import generate_demo_catalog
from catalog.index import build_index
from catalog.products import Product, save_products
from recommender.__main__ import train as train_recommender
from settings import load_settings
from store.database import ShopDatabase
from store.demo import DemoSize, generate_demo_shop
from store.models import Customer, Interaction
from tests.store.factories import add_customer

CATALOG = {product.id: product for product in generate_demo_catalog()}


@dataclass
class Shop:
    db: ShopDatabase

    def interactions(self, sender: str | None = None) -> list[tuple[str, str | None]]:
        with self.db.transaction() as session:
            query = select(Interaction.kind, Interaction.product_id).order_by(Interaction.id)
            if sender is not None:
                query = query.where(Interaction.session_id == sender)
            return [(kind, product_id) for kind, product_id in session.execute(query)]


def _clear_caches() -> None:
    for cached in (products.product_search, products.shop_url, shop.shop_database, suggestions.recommendations):
        cached.cache_clear()


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    save_products(root / "catalog.jsonl", list(CATALOG.values()))
    build_index(root / "models" / "catalog", root / "catalog.jsonl", show_progress=False)
    return root


@pytest.fixture
def shop_data(catalog_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    monkeypatch.setenv("SHOP_MODELS_DIR", str(catalog_dir / "models"))  # no recommender bundle: popularity
    monkeypatch.setenv("SHOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("SHOP_URL", "https://outdoors.example.org/")
    _clear_caches()
    db = shop.shop_database()
    db.upgrade()
    with db.transaction() as session:
        generate_demo_shop(session, DemoSize(customers=40), catalog=list(CATALOG.values()))
        add_customer(session, name="Ada Berg", email="ada.berg@example.com", web_id="web-ada")
    yield Shop(db)
    _clear_caches()
    db.dispose()


def says(
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    browsing: dict[str, Any] | None = None,
    channel: str = "rest",
    sender: str = "visitor-1",
) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or []}
    events = [{"event": "user", "text": text, "input_channel": channel, "parse_data": message}]
    return Tracker(sender, {"browsing": browsing}, message, events, False, None, {}, "action_listen")


def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The messages, and the browsing state the action left (None if it did not change it)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    state = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == "browsing"]
    return dispatcher.messages, (state[-1] if state else None)


def cards(message: dict[str, Any]) -> list[dict[str, Any]]:
    payload = message["custom"]["data"]
    assert payload["type"] == "product_cards"
    return list(payload["products"])


def shown(ids: list[str]) -> list[Product]:
    return [CATALOG[i] for i in ids]


def test_a_search_answers_with_product_cards_and_records_the_impressions(shop_data: Shop) -> None:
    messages, state = run(products.ActionSearchProducts(), says("do you sell rain jackets?", "product_search"))
    (message,) = messages
    assert message["text"] == "Here is what I found:"
    found = cards(message)
    assert len(found) == 3
    assert all("Rain Jacket" in c["title"] for c in found)
    first = found[0]
    assert first["url"] == f"https://outdoors.example.org/products/{first['id']}"
    assert first["price_text"] == f"${CATALOG[first['id']].price:.2f}"
    assert [b["title"] for b in first["buttons"]] == ["More like this", "Add to cart"]
    assert first["buttons"][1]["payload"] == f'/add_to_cart{{"product_id":"{first["id"]}"}}'
    assert state is not None and state["page"] == [c["id"] for c in found]
    recorded = shop_data.interactions("visitor-1")
    assert recorded == [("searched", None)] + [("shown", c["id"]) for c in found]


@pytest.mark.parametrize("channel", ["telegram", "facebook", "twilio", "slack"])
def test_social_channels_get_the_cards_too_for_their_connectors_to_draw(shop_data: Shop, channel: str) -> None:
    messages, _ = run(products.ActionSearchProducts(), says("rain jacket", "product_search", channel=channel))
    (message,) = messages
    assert message["text"] == "Here is what I found:"
    assert all("Rain Jacket" in c["title"] for c in cards(message))


def search(text: str) -> dict[str, Any]:
    _, state = run(products.ActionSearchProducts(), says(text, "product_search"))
    assert state is not None
    return state


def test_cheaper_shows_only_products_cheaper_than_all_shown(shop_data: Shop) -> None:
    before = search("running shoes")
    messages, after = run(products.ActionRefineSearch(), says("anything cheaper?", "refine_search", browsing=before))
    assert messages[0]["text"] == "Cheaper options:"
    cheapest_before = min(p.price for p in shown(before["page"]))
    assert after is not None and after["page"]
    assert all(p.price < cheapest_before and p.category == "Shoes > Running" for p in shown(after["page"]))


def test_when_nothing_is_cheaper_it_says_so_and_what_the_cheapest_is(shop_data: Shop) -> None:
    before = search("hiking boots")
    cheapest = min(CATALOG[i].price for i in CATALOG if CATALOG[i].category == "Shoes > Hiking")
    assert min(p.price for p in shown(before["page"])) == cheapest  # the cheapest boots are already shown
    messages, _ = run(products.ActionRefineSearch(), says("cheaper", "refine_search", browsing=before))
    assert messages[0]["text"].startswith(
        f"Sorry, nothing under ${cheapest - 0.01:.2f}; the cheapest is ${cheapest:.2f}."
    )


def test_a_colour_narrows_the_same_search(shop_data: Shop) -> None:
    before = search("cotton t-shirt")
    _, after = run(products.ActionRefineSearch(), says("in blue", "refine_search", browsing=before))
    assert after is not None and after["page"]
    assert all(p.attributes["color"] == "blue" and "T-Shirt" in p.title for p in shown(after["page"]))


def test_show_more_never_repeats_a_product(shop_data: Shop) -> None:
    before = search("headlamp")
    _, after = run(products.ActionRefineSearch(), says("show me more", "refine_search", browsing=before))
    assert after is not None and len(after["page"]) == 3
    assert not set(after["page"]) & set(before["page"])
    assert all("Headlamp" in p.title for p in shown(after["page"]))


def test_the_second_one_opens_that_product_and_records_the_click(shop_data: Shop) -> None:
    before = search("yoga mat")
    messages, after = run(products.ActionRefineSearch(), says("the second one", "refine_search", browsing=before))
    second = CATALOG[before["page"][1]]
    assert messages[0]["text"].startswith(f"{second.title}, ${second.price:.2f}.")
    assert [c["id"] for c in cards(messages[0])] == [second.id]
    assert after is not None and after["focus"] == second.id and after["clicked"] == [second.id]
    assert ("clicked", second.id) in shop_data.interactions("visitor-1")


def test_picking_past_the_end_or_before_any_search_says_so(shop_data: Shop) -> None:
    before = search("yoga mat")
    messages, after = run(products.ActionRefineSearch(), says("the fifth one", "refine_search", browsing=before))
    assert messages[0]["text"] == "I only showed you 3. Which one do you mean?"
    assert after is None
    junk = {"query": 12, "page": "P1", "filters": "cheap"}  # a slot typed by someone
    messages, _ = run(products.ActionRefineSearch(), says("cheaper", "refine_search", browsing=junk))
    assert messages[0]["text"] == "Sure. What kind of product are you looking for?"


def test_a_question_is_answered_about_the_product_in_focus(shop_data: Shop) -> None:
    state = search("rain jacket")
    _, state = run(products.ActionRefineSearch(), says("the first one", "refine_search", browsing=state))
    messages, _ = run(products.ActionProductQuestion(), says("is it waterproof?", "product_question", browsing=state))
    assert messages[0]["text"].startswith('Yes, according to its details: "A packable waterproof rain jacket')
    messages, _ = run(
        products.ActionProductQuestion(), says("is it machine washable", "product_question", browsing=state)
    )
    assert "don't mention" in messages[0]["text"] and "One of my colleagues" in messages[0]["text"]
    assert messages[0]["buttons"] == [{"title": "Ask a person", "payload": "/human_handoff"}]


def test_a_question_naming_a_colour_picks_that_product_from_those_shown(shop_data: Shop) -> None:
    state = search("cotton t-shirt")
    colors = [CATALOG[i].attributes["color"] for i in state["page"]]
    product_id = next(i for i in state["page"] if colors.count(CATALOG[i].attributes["color"]) == 1)
    color = CATALOG[product_id].attributes["color"]
    question = f"is the {color} one in stock?"
    messages, after = run(products.ActionProductQuestion(), says(question, "product_question", browsing=state))
    assert CATALOG[product_id].title in messages[0]["text"]
    assert after is not None and after["focus"] == product_id


def test_a_question_without_a_product_asks_which(shop_data: Shop) -> None:
    messages, _ = run(products.ActionProductQuestion(), says("is it waterproof?", "product_question"))
    assert messages[0]["text"] == "Which product is it about? Tell me its name or what it is."


def test_the_add_to_cart_button_records_it_and_asks_the_page_to_add_it(shop_data: Shop) -> None:
    in_stock = next(p for p in CATALOG.values() if p.stock > 0)
    entities = [{"entity": "product_id", "value": in_stock.id}]
    messages, _ = run(products.ActionAddToCart(), says("/add_to_cart", "add_to_cart", entities))
    assert messages[0]["custom"]["data"] == {
        "type": "add_to_cart",
        "product_id": in_stock.id,
        "url": f"https://outdoors.example.org/cart/add?product={in_stock.id}",
    }
    assert ("added_to_cart", in_stock.id) in shop_data.interactions("visitor-1")
    sold_out = next(p for p in CATALOG.values() if p.stock == 0)
    entities = [{"entity": "product_id", "value": sold_out.id}]
    messages, _ = run(products.ActionAddToCart(), says("/add_to_cart", "add_to_cart", entities))
    assert messages[0]["text"] == f"Sorry, the {sold_out.title} is out of stock right now."


def test_add_to_cart_on_a_social_channel_answers_with_a_basket_link(shop_data: Shop) -> None:
    in_stock = next(p for p in CATALOG.values() if p.stock > 0)
    entities = [{"entity": "product_id", "value": in_stock.id}]
    messages, _ = run(products.ActionAddToCart(), says("/add_to_cart", "add_to_cart", entities, channel="telegram"))
    (message,) = messages
    assert not message.get("custom")  # the basket event is for the shop's own page only
    assert message["text"].endswith(f"open this link: https://outdoors.example.org/cart/add?product={in_stock.id}")
    assert ("added_to_cart", in_stock.id) in shop_data.interactions("visitor-1")


def test_compare_lays_the_shown_products_side_by_side(shop_data: Shop) -> None:
    state = search("wireless headphones")
    messages, _ = run(products.ActionCompareProducts(), says("compare them", "product_compare", browsing=state))
    text = messages[0]["text"]
    page = shown(state["page"])
    assert all(p.title in text for p in page)
    assert f"The cheapest is the {min(page, key=lambda p: p.price).title}" in text


def test_a_visitor_gets_popular_picks_and_can_pick_one(shop_data: Shop) -> None:
    messages, state = run(suggestions.ActionRecommend(), says("what do you recommend?", "recommend"))
    assert messages[0]["text"] == "You might like these:"
    first = cards(messages[0])
    assert len(first) == 3 and all(c["reason"] for c in first)
    assert [("recommended", c["id"]) for c in first] == shop_data.interactions("visitor-1")
    _, state = run(products.ActionRefineSearch(), says("the second one", "refine_search", browsing=state))
    assert state is not None and state["focus"] == first[1]["id"]
    assert shop_data.interactions("visitor-1")[-1] == ("clicked", first[1]["id"])


def test_with_a_trained_recommender_a_visitor_gets_picks_from_their_clicks(shop_data: Shop) -> None:
    bundle = load_settings().recommender_file
    try:
        assert train_recommender(if_missing=False) == 0
        clicked = "P02400"  # a yoga mat
        state = Browsing().focused(clicked).to_slot()
        tracker = says("anything you'd suggest?", "recommend", browsing=state)
        messages, _ = run(suggestions.ActionRecommend(), tracker)
    finally:
        bundle.unlink(missing_ok=True)
    picks = cards(messages[0])
    assert len(picks) == 3 and clicked not in [c["id"] for c in picks]
    # the clicked product steers the picks: at least one is close to it, and says so
    assert any("Fitness" in CATALOG[c["id"]].category for c in picks), [c["reason"] for c in picks]


def test_a_proven_customer_gets_personal_picks_by_name(shop_data: Shop) -> None:
    tracker = says("any recommendations for me?", "recommend", channel="socketio", sender="web-ada")
    messages, _ = run(suggestions.ActionRecommend(), tracker)
    assert messages[0]["text"] == "Picked for you, Ada:"
    assert len(cards(messages[0])) == 3


def test_more_like_this_suggests_around_that_product(shop_data: Shop) -> None:
    liked = CATALOG["P00003"]
    entities = [{"entity": "product_id", "value": liked.id}]
    messages, state = run(suggestions.ActionRecommend(), says("/recommend", "recommend", entities))
    assert messages[0]["text"] == f"If you like the {liked.title}, have a look at these:"
    suggested = [c["id"] for c in cards(messages[0])]
    assert suggested and liked.id not in suggested
    assert state is not None and state["focus"] == liked.id
    assert ("clicked", liked.id) in shop_data.interactions("visitor-1")


def test_without_an_index_the_customer_gets_an_apology(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_MODELS_DIR", str(tmp_path / "no-models"))
    _clear_caches()
    try:
        for action, intent in ((products.ActionSearchProducts(), "product_search"),
                               (products.ActionRefineSearch(), "refine_search"),
                               (products.ActionProductQuestion(), "product_question")):  # fmt: skip
            messages, state = run(action, says("running shoes", intent))
            assert "can't look at the catalog right now" in messages[0]["text"]
            assert state is None
    finally:
        _clear_caches()


def test_a_price_question_is_answered_from_the_catalog(shop_data: Shop) -> None:
    entities = [{"entity": "product", "value": "yoga mat"}]
    messages, state = run(suggestions.ActionPricePromotions(), says("how much is the yoga mat", "price_promotions",
                                                                    entities))  # fmt: skip
    assert state is not None and state["focus"]
    mat = CATALOG[state["focus"]]
    assert "Yoga Mat" in mat.title
    assert messages[0]["text"] == f"The {mat.title} costs ${mat.price:.2f}."
    messages, _ = run(suggestions.ActionPricePromotions(), says("how much?", "price_promotions"))
    assert messages[0]["text"] == "Which product would you like the price of?"


def test_offers_suit_the_customers_segment(shop_data: Shop) -> None:
    (visitor,), _ = run(suggestions.ActionPricePromotions(), says("any discount codes?", "price_promotions"))
    assert visitor["text"].startswith("Right now new customers get 10% off your first order with the code WELCOME10.")
    with shop_data.db.transaction() as session:
        ada = session.scalars(select(Customer).where(Customer.email == "ada.berg@example.com")).one()
        ada.segment = "vip"
    ada_asks = says("any deals for me?", "price_promotions", channel="socketio", sender="web-ada")
    (vip,), _ = run(suggestions.ActionPricePromotions(), ada_asks)
    assert vip["text"].startswith("As one of our best customers, Ada, you get free express shipping")
    assert "WELCOME10" not in vip["text"]
