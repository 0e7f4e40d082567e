"""Product questions: "do you sell running shoes?" answered from the shop's catalog."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.shop import money, offer_a_person_if_upset
from catalog.index import IndexMissing
from catalog.search import ProductSearch, SearchHit, clean_query
from settings import load_settings

logger = logging.getLogger(__name__)

MAX_LISTED = 3


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


def _listed(hit: SearchHit) -> str:
    stock = "" if hit.product.stock > 0 else " (out of stock)"
    return f"- {hit.product.title}: {money(hit.product.price, hit.product.currency)}{stock}"


class ActionSearchProducts(Action):
    """Tell the customer whether and which matching products the shop sells."""

    def name(self) -> str:
        return "action_search_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        wanted = next(tracker.get_latest_entity_values("product"), None)
        query = tracker.latest_message.get("text") or wanted or ""
        try:
            result = product_search().search(query, k=5)
        except IndexMissing as error:
            logger.error("product search unavailable (conversation %s): %s", tracker.sender_id, error)
            dispatcher.utter_message(
                text="Sorry, I can't look at the catalog right now. Please try again in a few minutes."
            )
            return []
        if result.message and result.alternatives:
            closest = "\n".join(_listed(hit) for hit in result.alternatives[:MAX_LISTED])
            dispatcher.utter_message(text=f"Sorry, {result.message}. The closest I have:\n{closest}")
            return []
        if not result.hits:
            missing = (
                f"we don't seem to sell {wanted}" if wanted else f'I couldn\'t find anything for "{clean_query(query)}"'
            )
            dispatcher.utter_message(text=f"Sorry, {missing}. Is there something else you are looking for?")
            return []
        heading = f"Yes, we have {wanted}" if wanted else "Here is what I found"
        dispatcher.utter_message(text=f"{heading}:\n" + "\n".join(_listed(hit) for hit in result.hits[:MAX_LISTED]))
        return offer_a_person_if_upset(dispatcher, tracker)
