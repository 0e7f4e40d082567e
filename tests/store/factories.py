"""Small builders for store tests: a customer with a delivered order, and the like."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from store.customers import create_customer, link_identity
from store.models import Order, OrderLine, Product, Shipment


def add_product(session: Session, product_id: str = "P1", price: str = "40.00", category: str = "Shoes") -> str:
    if session.get(Product, product_id) is None:
        session.add(
            Product(id=product_id, title=f"Product {product_id}", category=category, price=Decimal(price), stock=5)
        )
        session.flush()
    return product_id


def add_order(
    session: Session,
    customer_id: int,
    number: str,
    placed_at: dt.datetime,
    shipment_status: str = "delivered",
    delivered_at: dt.datetime | None = None,
    lines: tuple[tuple[str, int, str], ...] = (("P1", 1, "40.00"),),
) -> Order:
    order = Order(number=number, customer_id=customer_id, status="paid", placed_at=placed_at, total=Decimal("0"))
    session.add(order)
    session.flush()
    for product_id, quantity, price in lines:
        add_product(session, product_id, price)
        session.add(OrderLine(order_id=order.id, product_id=product_id, quantity=quantity, unit_price=Decimal(price)))
    session.add(
        Shipment(
            order_id=order.id,
            status=shipment_status,
            carrier="ParcelPost",
            tracking_number=f"TRK-{number}",
            delivered_at=delivered_at if shipment_status == "delivered" else None,
        )
    )
    session.flush()
    session.refresh(order)
    return order


def add_customer(
    session: Session, name: str = "Ada Berg", email: str = "ada@example.com", web_id: str = "web-ada"
) -> int:
    customer = create_customer(session, name=name, email=email, phone="+44 20 7946 0958")
    link_identity(session, customer.id, "web", web_id, verified=True)
    return customer.id
