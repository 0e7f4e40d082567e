"""What customers do with products: the recommender's signal."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from store.errors import InvalidInput
from store.models import Interaction, Product, utcnow
from store.validation import clean_text, one_of

# "shown" and "recommended" are impressions (a product in a search answer, a suggestion); "clicked"
# is the customer picking one of them: together they give click-through rates.
KINDS = frozenset({"viewed", "searched", "shown", "recommended", "clicked", "added_to_cart", "purchased"})


def record_interaction(
    session: Session,
    kind: str,
    *,
    customer_id: int | None = None,
    session_id: str | None = None,
    product_id: str | None = None,
    query: str | None = None,
    source: str = "web",
    at: dt.datetime | None = None,
) -> int:
    """Store one interaction of a known customer or an anonymous session; returns its id."""
    one_of("kind", kind, KINDS)
    if customer_id is None and not session_id:
        raise InvalidInput("an interaction needs a customer or a session id")
    if kind == "searched" and not query:
        raise InvalidInput("a search interaction needs the query")
    if kind != "searched" and product_id is None:
        raise InvalidInput(f"a {kind} interaction needs a product")
    if product_id is not None and session.get(Product, product_id) is None:
        raise InvalidInput(f"unknown product {product_id!r}")
    interaction = Interaction(
        kind=kind,
        customer_id=customer_id,
        session_id=clean_text("session id", session_id, 255, required=False),
        product_id=product_id,
        query=clean_text("query", query, 2000, required=False),
        source=clean_text("source", source, 32) or "web",
        occurred_at=at or utcnow(),
    )
    session.add(interaction)
    session.flush()
    return interaction.id
