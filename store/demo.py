"""The demo shop: customers with distinct tastes and budgets, and histories that follow them.

Everything is drawn from one seeded random generator, relative to an anchor date, so the same
(seed, anchor, size) always gives the same shop. Rows are written in bulk, a batch of customers
at a time, so the scale option (100,000 customers, 1,000,000 orders) fits in memory and minutes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from catalog.demo_catalog import generate_demo_catalog
from catalog.products import Product as CatalogProduct
from store.bulk import INTEGER_KEYED, IdAllocator, advance_sequences, insert_rows
from store.models import Product
from store.tickets import SLA

DEMO_SEED = 7

FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemi", "Liam", "Maya",
    "Noor", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
    "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Rossi", "Silva", "Tanaka",
)  # fmt: skip
STREETS = ("Oak Street", "Mill Road", "Harbour Way", "Station Avenue", "Elm Close", "Market Lane")
CITIES = (("London", "GB"), ("Manchester", "GB"), ("Dublin", "IE"), ("Berlin", "DE"), ("Boston", "US"))
CARRIERS = ("ParcelPost", "SwiftShip", "Northline Freight")
BUDGETS = {"low": (0.0, 45.0), "mid": (20.0, 130.0), "high": (60.0, 400.0)}


@dataclass(frozen=True)
class DemoSize:
    """How big the demo shop is."""

    customers: int = 300
    orders_per_customer: float = 3.0


@dataclass
class DemoCounts:
    """How many rows of each kind were written."""

    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, count: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + count


@dataclass(frozen=True)
class Taste:
    """What a customer likes and can spend."""

    categories: tuple[str, ...]
    budget: str


def _top_category(product: CatalogProduct) -> str:
    return product.category.split(" > ")[0]


def _shipment_for(rng: random.Random, order_id: int, placed: dt.datetime, anchor: dt.datetime) -> dict[str, Any]:
    age = (anchor - placed).days
    promised = (placed + dt.timedelta(days=5)).date()
    row: dict[str, Any] = {
        "order_id": order_id,
        "carrier": rng.choice(CARRIERS),
        "tracking_number": f"TRK{rng.randrange(10**9, 10**10)}",
        "promised_date": promised,
        "estimated_date": promised,
        "shipped_at": None,
        "delivered_at": None,
    }
    if age < 2:
        row.update(status="processing", carrier=None, tracking_number=None)
        return row
    row["shipped_at"] = placed + dt.timedelta(days=1, hours=rng.randrange(0, 12))
    roll = rng.random()
    if age < 6:
        row["status"] = "delayed" if roll < 0.15 else ("shipped" if age < 3 else "in_transit")
        if row["status"] == "delayed":
            row["estimated_date"] = promised + dt.timedelta(days=rng.randrange(2, 6))
    elif roll < 0.02:
        row["status"] = "lost"
    elif roll < 0.05 and age < 20:
        row.update(status="delayed", estimated_date=promised + dt.timedelta(days=rng.randrange(3, 10)))
    else:
        row.update(status="delivered", delivered_at=placed + dt.timedelta(days=rng.randrange(2, 7)))
    return row


def generate_demo_shop(
    session: Session,
    size: DemoSize = DemoSize(),
    seed: int = DEMO_SEED,
    anchor: dt.datetime | None = None,
    catalog: list[CatalogProduct] | None = None,
    batch_customers: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> DemoCounts:
    """Write the demo shop into an empty store; returns the row counts. `progress` gets customers done."""
    anchor = (anchor or dt.datetime.now(dt.UTC)).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(seed)
    products = catalog if catalog is not None else generate_demo_catalog()  # the CLI passes the shop's catalog
    counts = DemoCounts()
    existing = set(session.scalars(select(Product.id)))
    new_products = [
        {"id": p.id, "title": p.title, "category": p.category, "price": Decimal(str(p.price)), "stock": p.stock}
        for p in products
        if p.id not in existing
    ]
    if new_products:
        session.execute(insert(Product), new_products)
    counts.add("products", len(new_products))
    by_category: dict[str, list[CatalogProduct]] = {}
    for product in products:
        by_category.setdefault(_top_category(product), []).append(product)
    categories = sorted(by_category)
    ids = IdAllocator(session)

    done = 0
    while done < size.customers:
        batch = min(batch_customers, size.customers - done)
        rows = _customer_batch(rng, batch, size, anchor, categories, by_category, products, ids)
        for model, table_rows in rows:
            counts.add(model.__tablename__, insert_rows(session, model, table_rows))
        done += batch
        if progress:
            progress(done)
    advance_sequences(session)
    return counts


def _customer_batch(
    rng: random.Random,
    batch: int,
    size: DemoSize,
    anchor: dt.datetime,
    categories: list[str],
    by_category: dict[str, list[CatalogProduct]],
    products: list[CatalogProduct],
    ids: IdAllocator,
) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    tables: dict[str, list[dict[str, Any]]] = {model.__tablename__: [] for model in INTEGER_KEYED}
    for _ in range(batch):
        customer_id = ids.take("customers")
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, country = rng.choice(CITIES)
        taste = Taste(tuple(rng.sample(categories, rng.randint(1, 3))), rng.choice(("low", "mid", "mid", "high")))
        created = anchor - dt.timedelta(days=rng.randrange(30, 900))
        n_orders = max(0, round(rng.expovariate(1 / size.orders_per_customer)))
        segment = "vip" if taste.budget == "high" and n_orders >= 5 else ("new" if n_orders <= 1 else "regular")
        tables["customers"].append(
            {
                "id": customer_id,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}.{customer_id}@example.com",
                "phone": f"+1-555-01{customer_id % 100:02d}-{customer_id:06d}"[:40],
                "locale": "en",
                "country": country,
                "created_at": created,
                "marketing_consent": rng.random() < 0.6,
                "segment": segment,
                "lifetime_value": Decimal("0"),
                "external_ref": None,
            }
        )
        address_id = ids.take("addresses")
        tables["addresses"].append(
            {
                "id": address_id,
                "customer_id": customer_id,
                "kind": "shipping",
                "line1": f"{rng.randrange(1, 300)} {rng.choice(STREETS)}",
                "line2": None,
                "city": city,
                "postal_code": f"{rng.randrange(10000, 99999)}",
                "country": country,
            }
        )
        tables["channel_identities"].append(
            {
                "id": ids.take("channel_identities"),
                "customer_id": customer_id,
                "channel": "web",
                "channel_user_id": f"web-demo-{customer_id}",
                "verified": True,
                "linked_at": created,
            }
        )
        if rng.random() < 0.3:
            channel = rng.choice(("telegram", "messenger", "whatsapp"))
            tables["channel_identities"].append(
                {
                    "id": ids.take("channel_identities"),
                    "customer_id": customer_id,
                    "channel": channel,
                    "channel_user_id": f"{channel}-demo-{customer_id}",
                    "verified": True,
                    "linked_at": created,
                }
            )
        lifetime = Decimal("0")
        low, high = BUDGETS[taste.budget]
        for _ in range(n_orders):
            order_id = ids.take("orders")
            placed = anchor - dt.timedelta(days=rng.betavariate(1, 3) * 365, hours=rng.randrange(24))
            total = Decimal("0")
            chosen: set[str] = set()
            order_lines: list[dict[str, Any]] = []
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                pool = by_category[rng.choice(taste.categories)] if rng.random() < 0.85 else products
                affordable = [p for p in pool if low <= p.price <= high] or pool
                product = rng.choice(affordable)
                if product.id in chosen:
                    continue
                chosen.add(product.id)
                quantity = 1 if rng.random() < 0.85 else 2
                price = Decimal(str(product.price))
                line_id = ids.take("order_lines")
                order_lines.append(
                    {"id": line_id, "order_id": order_id, "product_id": product.id, "quantity": quantity,
                     "unit_price": price}
                )  # fmt: skip
                tables["interactions"].append(
                    {"id": ids.take("interactions"), "customer_id": customer_id, "session_id": None,
                     "product_id": product.id, "kind": "purchased", "query": None, "source": "web",
                     "occurred_at": placed}
                )  # fmt: skip
                for kind, before in (("viewed", 2.0), ("added_to_cart", 0.2)):
                    tables["interactions"].append(
                        {"id": ids.take("interactions"), "customer_id": customer_id, "session_id": None,
                         "product_id": product.id, "kind": kind, "query": None, "source": "web",
                         "occurred_at": placed - dt.timedelta(hours=before)}
                    )  # fmt: skip
                total += price * quantity
            shipment = _shipment_for(rng, order_id, placed, anchor)
            shipment["id"] = ids.take("shipments")
            status = {"processing": "paid", "delivered": "delivered"}.get(shipment["status"], "shipped")
            tables["orders"].append(
                {"id": order_id, "number": f"SO-{100000 + order_id}", "customer_id": customer_id, "status": status,
                 "placed_at": placed, "currency": "USD", "total": total, "shipping_address_id": address_id}
            )  # fmt: skip
            tables["order_lines"].extend(order_lines)
            tables["shipments"].append(shipment)
            lifetime += total
            _returns_and_tickets(rng, tables, ids, customer_id, order_id, order_lines, shipment, anchor)
        for _ in range(rng.randrange(0, 6)):  # browsing without buying, still within the customer's taste
            product = rng.choice(by_category[rng.choice(taste.categories)])
            tables["interactions"].append(
                {"id": ids.take("interactions"), "customer_id": customer_id, "session_id": None,
                 "product_id": product.id, "kind": rng.choice(("viewed", "viewed", "clicked")), "query": None,
                 "source": "web", "occurred_at": anchor - dt.timedelta(days=rng.randrange(0, 120))}
            )  # fmt: skip
        tables["customers"][-1]["lifetime_value"] = lifetime
    return ((model, tables[model.__tablename__]) for model in INTEGER_KEYED)  # parents before children


def _returns_and_tickets(
    rng: random.Random,
    tables: dict[str, list[dict[str, Any]]],
    ids: IdAllocator,
    customer_id: int,
    order_id: int,
    lines: list[dict[str, Any]],
    shipment: dict[str, Any],
    anchor: dt.datetime,
) -> None:
    if shipment["status"] == "delivered" and lines and rng.random() < 0.06:
        line = lines[0]
        return_id = ids.take("returns")
        amount = line["unit_price"] * line["quantity"]
        refunded = rng.random() < 0.5
        tables["returns"].append(
            {"id": return_id, "order_line_id": line["id"], "reason": rng.choice(("wrong_size", "changed_mind",
             "not_as_described")), "condition": "opened", "status": "refunded" if refunded else "requested",
             "refund_amount": amount, "requested_at": shipment["delivered_at"] + dt.timedelta(days=3)}
        )  # fmt: skip
        if refunded:
            tables["refunds"].append(
                {"id": ids.take("refunds"), "return_id": return_id, "amount": amount, "method": "original_payment",
                 "created_at": shipment["delivered_at"] + dt.timedelta(days=8)}
            )  # fmt: skip
    if shipment["status"] in {"lost", "delayed"} and rng.random() < 0.5:
        category, priority = ("lost_parcel", "high") if shipment["status"] == "lost" else ("delivery", "normal")
        created = anchor - dt.timedelta(hours=rng.randrange(1, 30))
        tables["tickets"].append(
            {"id": ids.take("tickets"), "customer_id": customer_id, "order_id": order_id, "category": category,
             "priority": priority, "status": "open", "conversation_id": f"web-demo-{customer_id}",
             "assignee": None, "subject": f"Parcel for order SO-{100000 + order_id} is {shipment['status']}",
             "description": "The customer asked where their parcel is.", "resolution": None, "created_at": created,
             "sla_due": created + SLA[priority], "resolved_at": None}
        )  # fmt: skip
