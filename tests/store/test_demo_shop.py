"""The demo shop: deterministic, every shipment state, and purchases that follow each customer's taste."""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict

from sqlalchemy import select

from store.database import ShopDatabase
from store.demo import DemoSize, generate_demo_shop
from store.models import Base, Interaction, Order, OrderLine, Product, Shipment, Ticket
from tests.store.conftest import ANCHOR


def digest(db: ShopDatabase) -> str:
    hashed = hashlib.sha256()
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            for row in connection.execute(select(table).order_by(*table.primary_key.columns)):
                hashed.update(repr(tuple(row)).encode())
    return hashed.hexdigest()


def test_same_seed_same_shop(db: ShopDatabase, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        generate_demo_shop(session, DemoSize(customers=60), anchor=ANCHOR)
    other = ShopDatabase(f"sqlite:///{tmp_path_factory.mktemp('again') / 'shop.db'}")
    other.upgrade()
    with other.transaction() as session:
        generate_demo_shop(session, DemoSize(customers=60), anchor=ANCHOR)
    if db.dialect == "sqlite":
        assert digest(db) == digest(other)
    with db.transaction() as session, other.transaction() as other_session:
        rows = session.execute(select(Order.number, Order.total).order_by(Order.id)).all()
        assert rows == other_session.execute(select(Order.number, Order.total).order_by(Order.id)).all()
    other.dispose()


def test_demo_shop_covers_every_state_and_follows_tastes(db: ShopDatabase) -> None:
    with db.transaction() as session:
        counts = generate_demo_shop(session, DemoSize(customers=300), anchor=ANCHOR)
        assert counts.rows["customers"] == 300 and counts.rows["orders"] > 600
        states = set(session.scalars(select(Shipment.status)))
        assert states == {"processing", "shipped", "in_transit", "delivered", "delayed", "lost"}
        assert counts.rows["returns"] > 0 and counts.rows["refunds"] > 0
        assert session.scalars(select(Ticket).where(Ticket.status == "open")).first() is not None
        assert all(line.unit_price > 0 for line in session.scalars(select(OrderLine)))

        # taste: most of a customer's purchases fall into few top-level categories
        category = {p.id: p.category.split(" > ")[0] for p in session.scalars(select(Product))}
        bought: dict[int, Counter[str]] = defaultdict(Counter)
        for interaction in session.scalars(select(Interaction).where(Interaction.kind == "purchased")):
            bought[interaction.customer_id][category[interaction.product_id]] += 1  # type: ignore[index]
        regulars = [c for c in bought.values() if sum(c.values()) >= 5]
        assert len(regulars) >= 30

        def share_top3(baskets: list[Counter[str]]) -> float:
            return sum(sum(n for _, n in c.most_common(3)) / sum(c.values()) for c in baskets) / len(baskets)

        # baseline: the same purchases dealt out to customers at random, so nobody has a taste
        pool = [cat for c in regulars for cat in c.elements()]
        random.Random(1).shuffle(pool)
        shuffled, start = [], 0
        for c in regulars:
            size = sum(c.values())
            shuffled.append(Counter(pool[start : start + size]))
            start += size
        assert share_top3(regulars) > 0.85
        assert share_top3(regulars) > share_top3(shuffled) + 0.15

        # order totals add up
        order = session.scalars(select(Order).where(Order.total > 0)).first()
        assert order is not None
        assert order.total == sum(line.unit_price * line.quantity for line in order.lines)
