"""What actions call: recommendations for a customer in a conversation, and "also bought" for a product.

The service serves the trained bundle (models/recommender/bundle.pkl) and picks up a retrained one
when the file changes. When the file is missing or unreadable it logs why and serves popularity from
the shop database (or, with no orders at all, the catalog's best-rated products); it never raises
for unknown customers or products.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from catalog.products import load_products
from recommender.artifact import ArtifactUnusable, load_bundle
from recommender.base import ItemFilter
from recommender.bundle import Bundle
from recommender.shop_data import customer_key
from store.database import ShopDatabase
from store.models import Order, OrderLine, Product

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What the conversation knows right now: category, product in view, budget, products clicked."""

    category: str | None = None
    product_id: str | None = None
    budget: float | None = None
    session_items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """One recommended product with the reason a customer reads."""

    product_id: str
    title: str
    score: float
    explanation: str


@dataclass(frozen=True)
class _Ranked:
    product_id: str
    title: str
    category: str
    price: float
    score: float
    explanation: str


class RecommendationService:
    """Serves the bundle file, reloading it when it is replaced; popularity when it cannot be used."""

    def __init__(self, bundle_file: Path, db: ShopDatabase, catalog_file: Path) -> None:
        self.bundle_file, self.db, self.catalog_file = bundle_file, db, catalog_file
        self._lock = threading.Lock()
        self._bundle: Bundle | None = None
        self._fallback: list[_Ranked] | None = None
        self._stamp: tuple[int, int] | None = None
        self.status = "not loaded"

    def _current(self) -> Bundle | None:
        """The bundle for this request: reloaded if the file changed since the last load."""
        try:
            info = self.bundle_file.stat()
            stamp: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._stamp or (self._bundle is None and self._fallback is None):
                self._stamp = stamp
                try:
                    self._bundle, manifest = load_bundle(self.bundle_file)
                    self.status = f"serving models trained at {manifest.get('trained_at', '?')}"
                    log.info("recommender: %s", self.status)
                except ArtifactUnusable as unusable:
                    self._bundle = None
                    self.status = f"popularity fallback: {unusable}"
                    log.warning("recommender: %s", self.status)
                self._fallback = None
            return self._bundle

    def recommend_for_customer(
        self, customer_id: int | None, context: Context | None = None, k: int = 5
    ) -> list[Suggestion]:
        """Up to k products for this customer (None: not identified) in this conversation's context."""
        context = context or Context()
        k = max(0, min(int(k), 50))
        exclude = frozenset({context.product_id} if context.product_id else set())
        filters = ItemFilter(category=context.category or None, max_price=context.budget, exclude=exclude)
        bundle = self._current()
        if bundle is None:
            return self._popular(filters, k)
        session: Sequence[str] = [*context.session_items, *([context.product_id] if context.product_id else [])]
        user = customer_key(customer_id) if customer_id is not None else None
        ranker = bundle.ranker
        ranked = ranker.recommend(user, k, filters=filters, session=session)
        reasons = ranker.explanations(user, [item for item, _ in ranked], session)
        return [Suggestion(item, self._title(bundle, item), round(score, 4), reasons[item]) for item, score in ranked]

    def also_bought(self, product_id: str, k: int = 5) -> list[Suggestion]:
        """Products bought together with this one (association rules), topped up with similar products."""
        k = max(0, min(int(k), 50))
        bundle = self._current()
        if bundle is None or product_id not in bundle.hybrid.data.item_index:
            return self._popular(ItemFilter(exclude=frozenset({product_id})), k)
        data = bundle.hybrid.data
        name = data.title(data.item_index[product_id])
        out: dict[str, Suggestion] = {}
        for rule in bundle.associations.rules_from(product_id, k):
            why = f"{rule.confidence:.0%} of orders with {name} also had it"
            out[rule.consequent] = Suggestion(
                rule.consequent, self._title(bundle, rule.consequent), rule.confidence, why
            )
        sources = (
            (bundle.hybrid.parts.get("item_knn", (0.0, None))[1], f"customers who chose {name} also chose it"),
            (bundle.content, f"similar to {name}"),
        )
        for model, why in sources:
            if model is None or len(out) >= k:
                continue
            for item, score in model.similar_items(product_id, k):
                if item != product_id and item not in out and len(out) < k:
                    out[item] = Suggestion(item, self._title(bundle, item), round(score, 4), why)
        return list(out.values())[:k]

    @staticmethod
    def _title(bundle: Bundle, item: str) -> str:
        return bundle.hybrid.data.title(bundle.hybrid.data.item_index[item])

    def _popular(self, filters: ItemFilter, k: int) -> list[Suggestion]:
        with self._lock:
            if self._fallback is None:
                self._fallback = self._fallback_ranking()
            ranking = self._fallback
        chosen = []
        for entry in ranking:
            if entry.product_id in filters.exclude or (filters.category and entry.category != filters.category):
                continue
            if filters.max_price is not None and entry.price > filters.max_price:
                continue
            chosen.append(Suggestion(entry.product_id, entry.title, entry.score, entry.explanation))
            if len(chosen) >= k:
                break
        return chosen

    def _fallback_ranking(self) -> list[_Ranked]:
        """Best sellers from the shop database; with no orders, the catalog's best-rated products."""
        try:
            with self.db.transaction() as session:
                buyers = func.count(func.distinct(Order.customer_id))
                rows = session.execute(
                    select(Product.id, Product.title, Product.category, Product.price, buyers)
                    .join(OrderLine, OrderLine.product_id == Product.id)
                    .join(Order, Order.id == OrderLine.order_id)
                    .where(Order.status != "cancelled")
                    .group_by(Product.id, Product.title, Product.category, Product.price)
                    .order_by(buyers.desc(), Product.id)
                ).all()
        except Exception as error:  # the database may be down; the catalog still answers
            log.warning("recommender fallback: shop database unavailable (%s)", error)
            rows = []
        if rows:
            return [
                _Ranked(pid, title, cat, float(price), float(n), f"a best seller in {cat}")
                for pid, title, cat, price, n in rows
            ]
        log.warning("recommender fallback: no orders in the shop database; ranking the catalog by rating")
        try:
            products = load_products(self.catalog_file)
        except (OSError, ValueError) as error:
            log.warning("recommender fallback: no catalog either (%s); no recommendations", error)
            return []
        products.sort(key=lambda p: (-p.rating, -p.stock, p.id))
        return [
            _Ranked(p.id, p.title, p.category, p.price, p.rating, f"one of our best-rated {p.category.lower()}")
            for p in products
        ]
