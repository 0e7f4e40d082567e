"""The shop's own signal for the recommender: orders, interactions, segments and catalog embeddings."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select

from recommender.evaluation import Window, holdout
from recommender.interactions import Event, InteractionMatrix, ItemInfo, build_matrix
from store.database import ShopDatabase
from store.models import Customer, Interaction, Order, OrderLine, Product

log = logging.getLogger(__name__)


def customer_key(customer_id: int) -> str:
    """The recommender's user id for a shop customer."""
    return str(customer_id)


def shop_events(db: ShopDatabase) -> list[Event]:
    """Purchases from order lines (one basket per order, cancelled orders left out) and the
    browsing events (viewed, clicked, added to cart) of customers and anonymous sessions."""
    events: list[Event] = []
    with db.transaction() as session:
        purchases = session.execute(
            select(Order.id, Order.customer_id, Order.placed_at, OrderLine.product_id, OrderLine.quantity)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.customer_id.is_not(None), Order.status != "cancelled")
        )
        for order_id, customer_id, placed_at, product_id, quantity in purchases:
            assert customer_id is not None  # filtered above
            events.append(
                Event(customer_key(customer_id), product_id, "purchased", placed_at, quantity, basket=str(order_id))
            )
        browsing = session.execute(
            select(Interaction.customer_id, Interaction.session_id, Interaction.product_id, Interaction.kind,
                   Interaction.occurred_at)
            .where(Interaction.kind.in_(("viewed", "clicked", "added_to_cart")), Interaction.product_id.is_not(None))
        )  # fmt: skip
        for customer_id, session_id, seen_product, kind, at in browsing:
            user = customer_key(customer_id) if customer_id is not None else f"session:{session_id}"
            events.append(Event(user, seen_product or "", kind, at))  # never empty: filtered above
    return events


@dataclass(frozen=True)
class ShopSignal:
    """Everything the recommender reads from the shop database, loaded once."""

    events: list[Event]
    segments: dict[str, str]
    info: dict[str, ItemInfo]

    def matrix_at(self, cutoff: dt.datetime, half_life_days: float | None) -> InteractionMatrix:
        """The matrix of what happened before `cutoff`; every product of the shop is a column."""
        return build_matrix(
            (e for e in self.events if e.at < cutoff),
            now=cutoff,
            half_life_days=half_life_days,
            items=sorted(self.info),
            segments=self.segments,
            info=self.info,
        )

    def labelled_windows(
        self, now: dt.datetime, half_life_days: float | None, windows: int = 2, days: int = 30
    ) -> list[tuple[InteractionMatrix, Window]]:
        """For the re-ranker: the matrix before each of the last `windows` months, and what was bought after."""
        out = []
        for back in range(windows, 0, -1):
            start = now - dt.timedelta(days=days * back)
            end = start + dt.timedelta(days=days)
            past = self.matrix_at(start, half_life_days)
            later = [(e.user, e.item) for e in self.events if e.kind == "purchased" and start <= e.at < end]
            out.append((past, holdout(past, later)))
        return out


def load_shop(db: ShopDatabase) -> ShopSignal:
    """Events, customer segments and product metadata of the shop."""
    with db.transaction() as session:
        products = session.execute(select(Product.id, Product.title, Product.category, Product.price)).all()
        segments = {customer_key(cid): seg for cid, seg in session.execute(select(Customer.id, Customer.segment))}
    info = {
        pid: ItemInfo(title=title, category=category, price=float(price)) for pid, title, category, price in products
    }
    events = shop_events(db)
    if not events:
        log.warning("no orders or interactions in the shop database: recommendations are popularity on the catalog")
    return ShopSignal(events, segments, info)


def catalog_embeddings(index_dir: Path) -> dict[str, np.ndarray]:
    """The product vectors of the search index (no re-encoding); empty, with a log line, if there is none."""
    from catalog.index import IndexMissing, load_index

    try:
        index = load_index(index_dir)
    except IndexMissing as missing:
        log.warning("content-based recommendations are off: %s", missing)
        return {}
    return {pid: np.asarray(index.vectors.reconstruct(faiss_id)) for pid, faiss_id in index.faiss_ids.items()}
