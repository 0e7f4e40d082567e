"""Products in chat: search, refinements, questions about a product, comparisons, the basket.

The conversation's browsing state (catalog/browsing.py) lives in the `browsing` slot: the last
search, the products shown, the product being talked about. Replies are product cards on every
channel: the web widget draws them, and our social-channel connectors (bot/channels/) turn them into
what each platform shows (Messenger templates, Telegram keyboards, Slack blocks, numbered WhatsApp text).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.shop import channel_of, customer_of, offer_a_person_if_upset, shop_database
from catalog.answers import answer_question
from catalog.browsing import PAGE, Browsing, read_refinement, refined_filters
from catalog.filters import parse_query
from catalog.index import IndexMissing
from catalog.prices import money
from catalog.products import Product
from catalog.search import ProductSearch, SearchResult, clean_query
from settings import load_settings
from store.customers import CustomerProfile
from store.errors import StoreError
from store.interactions import record_interaction

logger = logging.getLogger(__name__)

BROWSING_SLOT = "browsing"
BASKET_EVENT_CHANNELS = frozenset({"web", "rest"})  # clients that can ask the shop's page to fill the basket
CATALOG_DOWN = "Sorry, I can't look at the catalog right now. Please try again in a few minutes."


@lru_cache(maxsize=1)
def product_search() -> ProductSearch:
    """The catalog search, loaded on first use and kept for the life of the action server."""
    return ProductSearch.from_directory(load_settings().catalog_index_dir)


def _warm_up() -> None:
    # Loading the encoder takes seconds; do it while the server starts, not in a customer's turn.
    try:
        product_search().search("warm-up")
    except IndexMissing as error:
        logger.error("product search unavailable: %s", error)


threading.Thread(target=_warm_up, name="warm-up-product-search", daemon=True).start()


# -- shared by every product action -----------------------------------------------------------------


def browsing_of(tracker: Tracker) -> Browsing:
    """This conversation's browsing state."""
    return Browsing.from_slot(tracker.get_slot(BROWSING_SLOT))


def remember(browsing: Browsing) -> SlotSet:
    """The event that stores the browsing state."""
    return SlotSet(BROWSING_SLOT, browsing.to_slot())


@lru_cache(maxsize=1)
def shop_url() -> str:
    """The shop's site, for product links."""
    return load_settings().shop_url


def card(product: Product, reason: str = "") -> dict[str, Any]:
    """One product card as the web widget draws it."""
    payload_id = product.id.replace('"', "")
    return {
        "id": product.id,
        "title": product.title,
        "price": product.price,
        "currency": product.currency,
        "price_text": money(product.price, product.currency),
        "rating": product.rating,
        "in_stock": product.stock > 0,
        "image": product.image_url or None,
        "url": f"{shop_url()}/products/{quote(product.id)}",
        "reason": reason,
        "buttons": [
            {"title": "More like this", "payload": f'/recommend{{"product_id":"{payload_id}"}}'},
            {"title": "Add to cart", "payload": f'/add_to_cart{{"product_id":"{payload_id}"}}'},
        ],
    }


def show_products(
    dispatcher: CollectingDispatcher, tracker: Tracker, heading: str, products: list[tuple[Product, str]]
) -> None:
    """Product cards (each channel's connector draws them in the platform's own form)."""
    cards = [card(product, reason) for product, reason in products]
    dispatcher.utter_message(text=heading, json_message={"data": {"type": "product_cards", "products": cards}})


_ASK = object()  # record(): look the customer up


def record(
    tracker: Tracker,
    kind: str,
    product_ids: list[str],
    *,
    searched: str | None = None,
    customer: CustomerProfile | object | None = _ASK,
) -> None:
    """Store what the customer saw or did (and the search that showed it), in one transaction, for
    click-through and the recommender; never fails a reply. Pass `customer` when already known."""
    try:
        known = customer_of(tracker) if customer is _ASK else customer
        who: dict[str, Any] = (
            {"customer_id": known.id} if isinstance(known, CustomerProfile) else {"session_id": tracker.sender_id[:255]}
        )
        with shop_database().transaction() as session:
            if searched:
                record_interaction(session, "searched", query=searched, source="chat", **who)
            for product_id in product_ids:
                record_interaction(session, kind, product_id=product_id, source="chat", **who)
    except (StoreError, SQLAlchemyError) as error:
        logger.warning("could not record %s for conversation %s: %s", kind, tracker.sender_id, error)


def _catalog_down(dispatcher: CollectingDispatcher, tracker: Tracker, error: Exception) -> list[dict[str, Any]]:
    logger.error("product search unavailable (conversation %s): %s", tracker.sender_id, error)
    dispatcher.utter_message(text=CATALOG_DOWN)
    return []


def _answer_search(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    browsing: Browsing,
    result: SearchResult,
    heading: str,
    searched: str | None = None,
) -> list[dict[str, Any]]:
    """Show a search result (or why it is empty), record what was shown (and `searched`, a new
    search's words) and remember it as the conversation's search."""
    if result.hits:
        page = [(hit.product, hit.explanation) for hit in result.hits[:PAGE]]
    elif result.message and result.alternatives:
        page = [(hit.product, hit.explanation) for hit in result.alternatives[:PAGE]]
        heading = f"Sorry, {result.message}. The closest I have:"
    else:
        page = []
        wanted = clean_query(result.query)
        dispatcher.utter_message(
            text=f'Sorry, I couldn\'t find anything for "{wanted}". Is there something else you are looking for?'
        )
    if page:
        show_products(dispatcher, tracker, heading, page)
    ids = [product.id for product, _ in page]
    record(tracker, "shown", ids, searched=searched)
    return [remember(browsing.searched(result.query, result.filters, ids))]


class CatalogAction(Action, ABC):
    """An action that needs the catalog: it apologises instead of answering when the index is missing.

    Abstract, so the action server does not register it as an action of its own."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            search = product_search()
        except IndexMissing as error:
            return _catalog_down(dispatcher, tracker, error)
        return await self.answer(dispatcher, tracker, domain, search, browsing_of(tracker))

    @abstractmethod
    async def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        search: ProductSearch,
        browsing: Browsing,
    ) -> list[dict[str, Any]]:
        """The action itself, with the catalog and the conversation's browsing state."""


# -- actions ----------------------------------------------------------------------------------------


class ActionSearchProducts(CatalogAction):
    """A new product search from the customer's words."""

    def name(self) -> str:
        return "action_search_products"

    async def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        search: ProductSearch,
        browsing: Browsing,
    ) -> list[dict[str, Any]]:
        wanted = next(tracker.get_latest_entity_values("product"), None)
        query = (tracker.latest_message.get("text") or wanted or "")[:2000]
        result = search.search(query, k=PAGE * 4)
        heading = f"Yes, we have {wanted}:" if wanted and result.hits else "Here is what I found:"
        events = _answer_search(dispatcher, tracker, browsing, result, heading, searched=query)
        return events + offer_a_person_if_upset(dispatcher, tracker)


class ActionRefineSearch(CatalogAction):
    """ "cheaper", "in blue", "show more", "the second one": the last search, changed."""

    def name(self) -> str:
        return "action_refine_search"

    async def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        search: ProductSearch,
        browsing: Browsing,
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        refinement = read_refinement(text, search.vocabulary)
        if refinement.kind == "pick":  # one of the products shown: from a search or suggestions
            return _pick(dispatcher, tracker, browsing, search, refinement.position or 0)
        if not browsing.query:
            if refinement.kind == "narrow":  # "anything in blue under 30?" with nothing searched yet
                return await ActionSearchProducts().answer(dispatcher, tracker, domain, search, browsing)
            dispatcher.utter_message(text="Sure. What kind of product are you looking for?")
            return []
        if refinement.kind == "more":
            return _more(dispatcher, tracker, browsing, search)
        if refinement.kind == "unclear":
            dispatcher.utter_message(
                text="Should I look for something cheaper, another colour or size, or show you more?",
                buttons=[
                    {"title": "Cheaper", "payload": "cheaper ones"},
                    {"title": "Show more", "payload": "show me more"},
                ],
            )
            return []
        page = [p for p in (search.product(pid) for pid in browsing.page) if p is not None]
        filters = refined_filters(browsing.filters, refinement, page)
        result = search.search(browsing.query, filters, k=PAGE * 4)
        heading = {"cheaper": "Cheaper options:", "pricier": "A step up:"}.get(refinement.kind, "Here you go:")
        return _answer_search(dispatcher, tracker, browsing, result, heading)


def _pick(
    dispatcher: CollectingDispatcher, tracker: Tracker, browsing: Browsing, search: ProductSearch, position: int
) -> list[dict[str, Any]]:
    if not browsing.page:
        dispatcher.utter_message(text="I haven't shown you any products yet. What are you looking for?")
        return []
    if position >= len(browsing.page) or position < -1:
        dispatcher.utter_message(text=f"I only showed you {len(browsing.page)}. Which one do you mean?")
        return []
    product = search.product(browsing.page[position])
    if product is None:  # the catalog changed since
        dispatcher.utter_message(text="Sorry, that product is no longer in our catalog.")
        return []
    record(tracker, "clicked", [product.id])
    _describe(dispatcher, tracker, product)
    return [remember(browsing.focused(product.id))]


def _describe(dispatcher: CollectingDispatcher, tracker: Tracker, product: Product) -> None:
    details = [f"{product.title}, {money(product.price, product.currency)}."]
    details.append(product.description)
    sizes = product.attributes.get("sizes")
    if sizes:
        details.append(f"Sizes: {sizes.replace('/', ', ')}.")
    details.append("In stock." if product.stock > 0 else "Out of stock right now.")
    if product.rating:
        details.append(f"Rated {product.rating:.1f} out of 5.")
    show_products(dispatcher, tracker, " ".join(details), [(product, "")])


def _more(
    dispatcher: CollectingDispatcher, tracker: Tracker, browsing: Browsing, search: ProductSearch
) -> list[dict[str, Any]]:
    seen = set(browsing.shown)
    result = search.search(browsing.query, browsing.filters, k=len(seen) + PAGE)
    fresh = [hit for hit in result.hits if hit.product.id not in seen][:PAGE]
    if not fresh:
        dispatcher.utter_message(text="That's everything I have for that. Want me to search for something else?")
        return []
    page = [(hit.product, hit.explanation) for hit in fresh]
    show_products(dispatcher, tracker, "More options:", page)
    ids = [product.id for product, _ in page]
    record(tracker, "shown", ids)
    return [remember(browsing.showing(ids))]


def product_in_question(tracker: Tracker, browsing: Browsing, search: ProductSearch) -> Product | None:
    """The product the customer's message is about: one it names, one of those shown, or the one in focus."""
    button_id = next(tracker.get_latest_entity_values("product_id"), None)
    if button_id:
        return search.product(str(button_id))
    text = tracker.latest_message.get("text") or ""
    named = next(tracker.get_latest_entity_values("product"), None)
    if named:  # "is the rain jacket waterproof?": the best match among those shown, else the catalog's
        hits = search.search(str(named), k=PAGE * 4).hits
        shown_hits = [hit for hit in hits if hit.product.id in browsing.page]
        best = shown_hits or hits
        if best:
            return best[0].product
    colors = parse_query(text, search.vocabulary).filters.colors
    if colors:  # "is the red one in stock?"
        for product_id in browsing.page:
            product = search.product(product_id)
            if product and product.attributes.get("color", "").lower() in colors:
                return product
    if browsing.focus:
        return search.product(browsing.focus)
    if len(browsing.page) == 1:
        return search.product(browsing.page[0])
    return None


class ActionProductQuestion(CatalogAction):
    """Answer a question about a product from the catalog's data, or say it doesn't know."""

    def name(self) -> str:
        return "action_product_question"

    async def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        search: ProductSearch,
        browsing: Browsing,
    ) -> list[dict[str, Any]]:
        product = product_in_question(tracker, browsing, search)
        if product is None:
            if browsing.page:
                dispatcher.utter_message(text="Which one do you mean: the first, second or third?")
            else:
                dispatcher.utter_message(text="Which product is it about? Tell me its name or what it is.")
            return []
        answer = answer_question(product, tracker.latest_message.get("text") or "")
        if answer.known:
            dispatcher.utter_message(text=answer.text)
        else:
            dispatcher.utter_message(
                text=f"{answer.text} One of my colleagues can find out for you.",
                buttons=[{"title": "Ask a person", "payload": "/human_handoff"}],
            )
        return [remember(browsing.focused(product.id, clicked=False)), *offer_a_person_if_upset(dispatcher, tracker)]


class ActionCompareProducts(CatalogAction):
    """Compare the products just shown (or the ones the customer names) side by side."""

    def name(self) -> str:
        return "action_compare_products"

    async def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        search: ProductSearch,
        browsing: Browsing,
    ) -> list[dict[str, Any]]:
        products = [p for p in (search.product(pid) for pid in browsing.page) if p is not None]
        if len(products) < 2:  # nothing on screen to compare: search for what they named
            return await ActionSearchProducts().answer(dispatcher, tracker, domain, search, browsing)
        lines = []
        for number, product in enumerate(products, start=1):
            facts = [money(product.price, product.currency), f"rated {product.rating:.1f}"]
            facts += [product.attributes[key] for key in ("material", "color") if product.attributes.get(key)]
            facts.append("in stock" if product.stock > 0 else "out of stock")
            lines.append(f"{number}. {product.title}: {', '.join(facts)}")
        cheapest = min(products, key=lambda p: p.price)
        best = max(products, key=lambda p: p.rating)
        summary = f"The cheapest is the {cheapest.title}; the best rated is the {best.title}."
        dispatcher.utter_message(text="Side by side:\n" + "\n".join(lines) + "\n" + summary)
        return []


class ActionAddToCart(CatalogAction):
    """The customer wants a product: note it and hand them the link that puts it in their basket."""

    def name(self) -> str:
        return "action_add_to_cart"

    async def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        search: ProductSearch,
        browsing: Browsing,
    ) -> list[dict[str, Any]]:
        product = product_in_question(tracker, browsing, search)
        if product is None:
            dispatcher.utter_message(text="Which product would you like? Tell me its name or pick one I showed you.")
            return []
        if product.stock <= 0:
            dispatcher.utter_message(text=f"Sorry, the {product.title} is out of stock right now.")
            return []
        record(tracker, "added_to_cart", [product.id])
        url = f"{shop_url()}/cart/add?product={quote(product.id)}"
        text = f"Good choice: the {product.title} ({money(product.price, product.currency)}). "
        if channel_of(tracker) in BASKET_EVENT_CHANNELS:  # the widget asks the shop's page to add it
            dispatcher.utter_message(
                text=text + "I've asked the shop to put it in your basket.",
                json_message={"data": {"type": "add_to_cart", "product_id": product.id, "url": url}},
            )
        else:
            dispatcher.utter_message(text=text + f"It goes in your basket when you open this link: {url}")
        return [remember(browsing.focused(product.id))]
