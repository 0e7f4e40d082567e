"""Suggestions in chat: personal picks for a known customer, this conversation's for a visitor.

A customer who has proven who they are gets the recommender's picks for them, narrowed by what
the conversation knows (the category in view, the budget, what they just looked at). A visitor
gets picks from this conversation's clicks plus what is popular. "More like this" on a card asks
for products bought with or similar to that one. Every suggestion shown is recorded as an
impression, every pick as a click (actions/products.py), for click-through and conversion.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.products import (
    CatalogAction,
    browsing_of,
    product_in_question,
    product_search,
    record,
    remember,
    show_products,
)
from actions.shop import customer_of, shop_database
from catalog.answers import answer_question
from catalog.browsing import PAGE, Browsing
from catalog.index import IndexMissing
from catalog.products import Product
from catalog.search import ProductSearch
from recommender.service import Context, RecommendationService, Suggestion
from settings import load_settings
from store.offers import RULES, offer_for

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def recommendations() -> RecommendationService:
    """The recommender, serving the trained bundle (and picking up retrained ones)."""
    settings = load_settings()
    return RecommendationService(settings.recommender_file, shop_database(), settings.catalog_file)


def _budget(tracker: Tracker, fallback: float | None) -> float | None:
    for value in tracker.get_latest_entity_values("price_max"):
        try:
            return max(float(str(value).replace(",", "")), 0.0)
        except ValueError:
            continue
    return fallback


class ActionRecommend(CatalogAction):
    """Suggest products that fit this customer and this conversation, each with its reason."""

    def name(self) -> str:
        return "action_recommend"

    async def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        search: ProductSearch,
        browsing: Browsing,
    ) -> list[dict[str, Any]]:
        service = recommendations()
        customer = customer_of(tracker)
        liked_id = next(tracker.get_latest_entity_values("product_id"), None)
        liked = search.product(str(liked_id)) if liked_id else None
        if liked is not None:  # "More like this" on a card
            record(tracker, "clicked", [liked.id], customer=customer)
            browsing = browsing.focused(liked.id)
            suggestions = service.also_bought(liked.id, k=PAGE)
            heading = f"If you like the {liked.title}, have a look at these:"
        else:
            named = next(tracker.get_latest_entity_values("product"), None)
            in_view = search.product(browsing.focus) if browsing.focus else None
            if named:
                hits = search.search(str(named), k=1).hits
                in_view = hits[0].product if hits else in_view
            context = Context(
                category=in_view.category if in_view else None,
                product_id=browsing.focus,
                budget=_budget(tracker, browsing.filters.max_price),
                session_items=browsing.clicked,
            )
            suggestions = service.recommend_for_customer(customer.id if customer else None, context, k=PAGE)
            if not suggestions and context.category:  # nothing left in that category: widen
                suggestions = service.recommend_for_customer(
                    customer.id if customer else None, Context(budget=context.budget), k=PAGE
                )
            heading = f"Picked for you, {customer.name.split()[0]}:" if customer else "You might like these:"
        products = _products(suggestions, search)
        if not products:
            dispatcher.utter_message(text="I don't have a good suggestion for that yet. What are you looking for?")
            return [remember(browsing)]
        show_products(dispatcher, tracker, heading, products)
        ids = [product.id for product, _ in products]
        record(tracker, "recommended", ids, customer=customer)
        return [remember(browsing.searched(browsing.query, browsing.filters, ids))]


def _products(suggestions: list[Suggestion], search: ProductSearch) -> list[tuple[Product, str]]:
    out = []
    for suggestion in suggestions:
        product = search.product(suggestion.product_id)
        if product is not None:  # the recommender may know products the catalog dropped since
            out.append((product, suggestion.explanation))
    return out


PRICE_WORDS = ("how much", "price", "cost")
OFFER_WORDS = ("discount", "sale", "deal", "code", "coupon", "offer", "promo", "cheaper")


class ActionPricePromotions(Action):
    """Prices of a product in view, and the offer that suits this customer's segment."""

    def name(self) -> str:
        return "action_price_promotions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = str(tracker.latest_message.get("text") or "")
        if any(word in text.lower() for word in PRICE_WORDS):
            try:
                product = product_in_question(tracker, browsing_of(tracker), product_search())
            except IndexMissing:
                product = None
            if product is not None:
                dispatcher.utter_message(text=answer_question(product, "how much").text)
                return [remember(browsing_of(tracker).focused(product.id, clicked=False))]
            if not any(word in text.lower() for word in OFFER_WORDS):
                dispatcher.utter_message(text="Which product would you like the price of?")
                return []
        customer = customer_of(tracker)
        offer = offer_for(customer.segment if customer else None)
        if customer is None:
            lead = f"Right now new customers get {offer.text}."
        elif customer.segment == "vip":
            lead = f"As one of our best customers, {customer.name.split()[0]}, you get {offer.text}."
        else:
            lead = f"For you, {customer.name.split()[0]}: {offer.text}."
        dispatcher.utter_message(text=f"{lead} {RULES}")
        return []
