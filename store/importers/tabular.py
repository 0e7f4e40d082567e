"""The generic importer: customers, products or orders from CSV/JSONL, with a column mapping.

The mapping names, for each of our fields, the column of the file that holds it, e.g.
{"name": "Full Name", "email": "E-mail"}. Fields not mapped are read from a column of their own name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.bulk import IdAllocator, advance_sequences, insert_rows
from store.errors import InvalidInput
from store.importers import ImportReport, read_records
from store.models import Customer, Order, OrderLine, Product
from store.validation import clean_text

FIELDS = {
    "customers": ("external_ref", "name", "email", "phone", "locale", "country"),
    "products": ("id", "title", "category", "price", "stock"),
    "orders": ("order_number", "customer_ref", "product_id", "quantity", "unit_price", "placed_at"),
}
REQUIRED = {
    "customers": ("name",),
    "products": ("id", "title", "category", "price"),
    "orders": ("order_number", "customer_ref", "product_id", "quantity", "unit_price", "placed_at"),
}


def _decimal(name: str, value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"{name} is not a number") from None
    if not number.is_finite() or number < 0:
        raise InvalidInput(f"{name} must be zero or more")
    return number.quantize(Decimal("0.01"))


def _whole(name: str, value: Any, minimum: int) -> int:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{name} is not a number") from None
    if number != int(number) or number < minimum:
        raise InvalidInput(f"{name} must be a whole number of at least {minimum}")
    return int(number)


def _mapped(record: Mapping[str, Any], kind: str, mapping: Mapping[str, str]) -> dict[str, Any]:
    values = {field: record.get(mapping.get(field, field)) for field in FIELDS[kind]}
    for field in REQUIRED[kind]:
        if values[field] is None or str(values[field]).strip() == "":
            raise InvalidInput(f"{field} (column {mapping.get(field, field)!r}) is empty or missing")
    return values


def import_table(session: Session, kind: str, path: Path, mapping: Mapping[str, str] | None = None) -> ImportReport:
    """Import one kind of record from a file; bad rows are rejected with a reason, the rest written."""
    if kind not in FIELDS:
        raise InvalidInput(f"kind must be one of {', '.join(FIELDS)}; got {kind!r}")
    unknown = set(mapping or {}) - set(FIELDS[kind])
    if unknown:
        raise InvalidInput(f"the mapping names fields that {kind} do not have: {', '.join(sorted(unknown))}")
    report = ImportReport(source=str(path))
    ids = IdAllocator(session)
    rows: dict[str, list[dict[str, Any]]] = {"customers": [], "products": [], "orders": [], "order_lines": []}
    emails = set(session.scalars(select(Customer.email).where(Customer.email.is_not(None))))
    refs = {r: i for r, i in session.execute(select(Customer.external_ref, Customer.id)) if r}
    products = set(session.scalars(select(Product.id)))
    existing_orders = set(session.scalars(select(Order.number)))
    new_orders: dict[str, dict[str, Any]] = {}
    for number, record in read_records(path):
        report.rows_read += 1
        try:
            if "__error__" in record:
                raise InvalidInput(str(record["__error__"]))
            values = _mapped(record, kind, mapping or {})
            if kind == "customers":
                email = (clean_text("email", values["email"], 320, required=False) or "").lower() or None
                if email and email in emails:
                    raise InvalidInput("a customer with this email exists already")
                ref = clean_text("external_ref", values["external_ref"], 64, required=False)
                if ref and ref in refs:
                    raise InvalidInput("a customer with this external_ref exists already")
                customer_id = ids.take("customers")
                rows["customers"].append({
                    "id": customer_id, "external_ref": ref, "name": clean_text("name", values["name"], 200),
                    "email": email, "phone": clean_text("phone", values["phone"], 40, required=False),
                    "locale": clean_text("locale", values["locale"] or "en", 16),
                    "country": clean_text("country", values["country"], 64, required=False),
                    "segment": "imported", "marketing_consent": False, "lifetime_value": Decimal("0"),
                    "created_at": dt.datetime.now(dt.UTC),
                })  # fmt: skip
                if email:
                    emails.add(email)
                if ref:
                    refs[ref] = customer_id
            elif kind == "products":
                product_id = clean_text("id", values["id"], 64) or ""
                if product_id in products:
                    raise InvalidInput(f"product {product_id!r} exists already")
                rows["products"].append({
                    "id": product_id, "title": clean_text("title", values["title"], 300),
                    "category": clean_text("category", values["category"], 200),
                    "price": _decimal("price", values["price"]),
                    "stock": _whole("stock", values["stock"] if values["stock"] not in (None, "") else 0, 0),
                })  # fmt: skip
                products.add(product_id)
            else:
                order_number = (clean_text("order_number", values["order_number"], 32) or "").upper()
                customer_ref = clean_text("customer_ref", values["customer_ref"], 64) or ""
                if customer_ref not in refs:
                    raise InvalidInput(f"no customer with external_ref {customer_ref!r}")
                product_id = clean_text("product_id", values["product_id"], 64) or ""
                if product_id not in products:
                    raise InvalidInput(f"no product {product_id!r}")
                if order_number in existing_orders:
                    raise InvalidInput(f"order {order_number} exists already")
                try:
                    placed = dt.datetime.fromisoformat(str(values["placed_at"]).strip())
                except ValueError:
                    raise InvalidInput("placed_at is not an ISO date and time") from None
                quantity = _whole("quantity", values["quantity"], 1)
                price = _decimal("unit_price", values["unit_price"])
                order_row = new_orders.get(order_number)
                if order_row is None:
                    order_row = new_orders[order_number] = {
                        "id": ids.take("orders"), "number": order_number, "customer_id": refs[customer_ref],
                        "status": "placed", "placed_at": placed, "currency": "USD", "total": Decimal("0"),
                        "shipping_address_id": None,
                    }  # fmt: skip
                    rows["orders"].append(order_row)
                order_row["total"] += price * quantity
                rows["order_lines"].append({
                    "id": ids.take("order_lines"), "order_id": order_row["id"], "product_id": product_id,
                    "quantity": quantity, "unit_price": price,
                })  # fmt: skip
        except InvalidInput as error:
            report.reject(number, str(error))
    report.written = {
        table: insert_rows(session, model, rows[table])
        for table, model in (
            ("customers", Customer),
            ("products", Product),
            ("orders", Order),
            ("order_lines", OrderLine),
        )
        if rows[table]
    }
    advance_sequences(session)
    return report
