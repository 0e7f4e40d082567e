"""The UCI Online Retail transaction format: cleaning rules, and an import into the store.

Columns: InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country.
The cleaning rules are also what the recommender's benchmark uses, so both see the same purchases.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.bulk import IdAllocator, advance_sequences, insert_rows
from store.importers import ImportReport, read_records
from store.models import Customer, Interaction, Order, OrderLine, Product, Shipment

PRODUCT_CODE = re.compile(r"^\d{5}[A-Za-z]{0,2}$")  # 85123A; POST, M, D, BANK CHARGES, DOT, ... are not products
COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")


@dataclass(frozen=True)
class RetailLine:
    """One accepted purchase line."""

    invoice: str
    stock_code: str
    description: str
    quantity: int
    invoiced_at: dt.datetime
    unit_price: Decimal
    customer: str
    country: str


def clean_line(record: dict[str, Any]) -> RetailLine | str:
    """The purchase line, or the reason it is not one."""
    if "__error__" in record:
        return str(record["__error__"])
    missing = [c for c in COLUMNS if c not in record]
    if missing:
        return f"missing columns: {', '.join(missing)}"
    invoice = str(record["InvoiceNo"]).strip()
    code = str(record["StockCode"]).strip()
    if invoice.upper().startswith("C"):
        return "cancellation invoice"
    if not PRODUCT_CODE.match(code):
        return "non-product code"
    customer = str(record["CustomerID"] or "").strip().removesuffix(".0")
    if not customer:
        return "no customer id"
    try:
        quantity_value = float(record["Quantity"])
    except (TypeError, ValueError):
        return "quantity is not a number"
    if quantity_value <= 0 or quantity_value != int(quantity_value):
        return "quantity is not a positive whole number"
    try:
        price = Decimal(str(record["UnitPrice"]).strip())
    except InvalidOperation:
        return "price is not a number"
    if not price.is_finite() or price <= 0:
        return "price is not positive"
    try:
        invoiced = dt.datetime.fromisoformat(str(record["InvoiceDate"]).strip()).replace(tzinfo=dt.UTC)
    except ValueError:
        return "date is not a date"
    description = " ".join(str(record["Description"] or "").split())[:300] or code
    country = str(record["Country"] or "").strip()[:64]
    cents = price.quantize(Decimal("0.01"))
    return RetailLine(invoice, code.upper(), description, int(quantity_value), invoiced, cents, customer, country)


def clean_lines(records: Iterable[tuple[int, dict[str, Any]]], report: ImportReport) -> Iterator[RetailLine]:
    """Accepted lines of a file; the rest go to the report with their reason."""
    for number, record in records:
        report.rows_read += 1
        line = clean_line(record)
        if isinstance(line, str):
            report.reject(number, line)
        else:
            yield line


Row = dict[str, Any]


@dataclass
class _Batch:
    """Rows an import will write, keyed so repeated customers, products and invoices merge."""

    customers: dict[str, int]
    known_products: set[str]
    known_orders: set[str]
    new_customers: list[Row] = field(default_factory=list)
    products: dict[str, Row] = field(default_factory=dict)
    orders: dict[str, Row] = field(default_factory=dict)
    lines: dict[tuple[str, str], Row] = field(default_factory=dict)
    shipments: list[Row] = field(default_factory=list)
    purchases: list[Row] = field(default_factory=list)

    def customer_id(self, line: RetailLine, ids: IdAllocator) -> int:
        ref = f"OR-{line.customer}"
        if ref not in self.customers:
            self.customers[ref] = ids.take("customers")
            self.new_customers.append(
                {"id": self.customers[ref], "external_ref": ref, "name": f"Online Retail customer {line.customer}",
                 "country": line.country, "locale": "en", "segment": "imported", "marketing_consent": False,
                 "lifetime_value": Decimal("0"), "created_at": line.invoiced_at}
            )  # fmt: skip
        return self.customers[ref]

    def product_id(self, line: RetailLine) -> str:
        product_id = f"OR-{line.stock_code}"
        if product_id not in self.known_products and product_id not in self.products:
            self.products[product_id] = {"id": product_id, "title": line.description, "category": "Online Retail",
                                         "price": line.unit_price, "stock": 0}  # fmt: skip
        return product_id

    def add(self, line: RetailLine, ids: IdAllocator) -> bool:
        """Add a purchase line; False if its invoice was imported before."""
        number = f"OR-{line.invoice}"
        if number in self.known_orders:
            return False
        customer_id, product_id = self.customer_id(line, ids), self.product_id(line)
        order = self.orders.get(number)
        if order is None:
            order = self.orders[number] = {
                "id": ids.take("orders"), "number": number, "customer_id": customer_id, "status": "delivered",
                "placed_at": line.invoiced_at, "currency": "GBP", "total": Decimal("0"), "shipping_address_id": None,
            }  # fmt: skip
            self.shipments.append({"id": ids.take("shipments"), "order_id": order["id"], "status": "delivered",
                                   "delivered_at": line.invoiced_at + dt.timedelta(days=3)})  # fmt: skip
        existing = self.lines.get((number, product_id))
        if existing is not None:  # the same product twice on one invoice: one line
            existing["quantity"] += line.quantity
        else:
            self.lines[(number, product_id)] = {"id": ids.take("order_lines"), "order_id": order["id"],
                                                "product_id": product_id, "quantity": line.quantity,
                                                "unit_price": line.unit_price}  # fmt: skip
            self.purchases.append({"id": ids.take("interactions"), "customer_id": customer_id,
                                   "product_id": product_id, "kind": "purchased", "source": "online_retail",
                                   "occurred_at": line.invoiced_at})  # fmt: skip
        order["total"] += line.unit_price * line.quantity
        return True


def import_online_retail(
    session: Session, path: Path, progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None
) -> ImportReport:
    """Import a file into the store: customers, products, orders (invoices), lines and purchases."""
    report = ImportReport(source=str(path))
    records: Iterable[tuple[int, dict[str, Any]]] = read_records(path)
    if progress is not None:
        records = progress(records)
    ids = IdAllocator(session)
    imported = Customer.external_ref.like("OR-%")
    batch = _Batch(
        customers={
            ref: cid for ref, cid in session.execute(select(Customer.external_ref, Customer.id).where(imported)) if ref
        },
        known_products=set(session.scalars(select(Product.id).where(Product.id.like("OR-%")))),
        known_orders=set(session.scalars(select(Order.number).where(Order.number.like("OR-%")))),
    )  # fmt: skip
    for line in clean_lines(records, report):
        if not batch.add(line, ids):
            report.reject(0, "invoice already imported")
    report.written = {
        "customers": insert_rows(session, Customer, batch.new_customers),
        "products": insert_rows(session, Product, list(batch.products.values())),
        "orders": insert_rows(session, Order, list(batch.orders.values())),
        "order_lines": insert_rows(session, OrderLine, list(batch.lines.values())),
        "shipments": insert_rows(session, Shipment, batch.shipments),
        "interactions": insert_rows(session, Interaction, batch.purchases),
    }
    advance_sequences(session)
    return report
