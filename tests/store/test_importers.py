"""Importers: column mapping, rejected rows with reasons, all-or-nothing, and the Online Retail rules."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store.database import ShopDatabase
from store.errors import InvalidInput
from store.importers.online_retail import clean_line, import_online_retail
from store.importers.tabular import import_table
from store.models import Customer, Interaction, Order, OrderLine, Product

RETAIL_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
# Written for this test in the format of the public file: one row per rule.
RETAIL_ROWS = [
    "536001,85123A,HEART LANTERN,6.0,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",  # accepted
    "536001,85123A,HEART LANTERN,2.0,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",  # same item: merged
    "536001,71053,METAL LANTERN,1.0,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",  # accepted
    '536002,22752,"TEA SET, BLUE",2.0,2010-12-02 10:00:00,7.65,13047.0,France',  # accepted, comma in quotes
    "C536003,22752,TEA SET,-1.0,2010-12-02 11:00:00,7.65,13047.0,France",  # cancellation
    "536004,POST,POSTAGE,1.0,2010-12-02 11:00:00,18.0,12583.0,France",  # non-product code
    "536005,BANK CHARGES,Bank Charges,1.0,2010-12-02 11:00:00,15.0,12583.0,France",  # non-product code
    "536006,22633,HAND WARMER,6.0,2010-12-02 11:00:00,1.85,,United Kingdom",  # no customer
    "536007,22633,HAND WARMER,-6.0,2010-12-02 11:00:00,1.85,17850.0,United Kingdom",  # negative quantity
    "536008,22633,HAND WARMER,6.0,2010-12-02 11:00:00,0.0,17850.0,United Kingdom",  # zero price
    "536009,22633,HAND WARMER,6.0,yesterday,1.85,17850.0,United Kingdom",  # bad date
    "536010,22633,HAND WARMER,lots,2010-12-02 11:00:00,1.85,17850.0,United Kingdom",  # bad quantity
]


def retail_file(tmp_path: Path, rows: list[str] = RETAIL_ROWS) -> Path:
    path = tmp_path / "retail.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(RETAIL_HEADER + "\n".join(rows) + "\n")
    return path


def test_online_retail_rules(db: ShopDatabase, tmp_path: Path) -> None:
    with db.transaction() as session:
        report = import_online_retail(session, retail_file(tmp_path))
    assert report.rows_read == len(RETAIL_ROWS)
    assert report.rejection_counts() == {
        "non-product code": 2,
        "cancellation invoice": 1,
        "no customer id": 1,
        "quantity is not a positive whole number": 1,
        "price is not positive": 1,
        "date is not a date": 1,
        "quantity is not a number": 1,
    }
    assert [r.row for r in report.rejected][:2] == [6, 7]  # file rows, the header being row 1
    assert report.written == {
        "customers": 2, "products": 3, "orders": 2, "order_lines": 3, "shipments": 2, "interactions": 3,
    }  # fmt: skip
    with db.transaction() as session:
        merged = session.scalars(select(OrderLine).where(OrderLine.product_id == "OR-85123A")).one()
        assert merged.quantity == 8
        assert session.get(Product, "OR-22752").title == "TEA SET, BLUE"  # type: ignore[union-attr]
        assert session.scalar(select(Order.total).where(Order.number == "OR-536001")) == Decimal("23.79")


def test_importing_the_same_file_twice_adds_nothing(db: ShopDatabase, tmp_path: Path) -> None:
    path = retail_file(tmp_path)
    with db.transaction() as session:
        import_online_retail(session, path)
    with db.transaction() as session:
        again = import_online_retail(session, path)
    assert again.written["orders"] == 0 and again.written["customers"] == 0
    assert again.rejection_counts()["invoice already imported"] == 4
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 3


def test_clean_line_reports_missing_columns() -> None:
    assert clean_line({"InvoiceNo": "1"}).startswith("missing columns: StockCode")  # type: ignore[union-attr]


def test_generic_import_with_mapping_and_rejections(db: ShopDatabase, tmp_path: Path) -> None:
    customers = tmp_path / "people.csv"
    customers.write_text(
        "Ref,Full Name,E-mail\n"
        "C1,Grace Hopper,grace@example.com\n"
        "C2,,nobody@example.com\n"  # no name
        "C3,Alan Turing,GRACE@example.com\n"  # duplicate email, other case
        "C4,'; DROP TABLE customers; --,bobby@example.com\n"
    )
    products = tmp_path / "products.jsonl"
    products.write_text(
        json.dumps({"sku": "T1", "name": "Teapot", "category": "Home", "price": "24.50"}) + "\n"
        + "{broken json\n"
        + json.dumps({"sku": "T2", "name": "Mug", "category": "Home", "price": "-1"}) + "\n"
    )  # fmt: skip
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_number,customer_ref,product_id,quantity,unit_price,placed_at\n"
        "a-1,C1,T1,2,24.50,2026-10-01T10:00:00+00:00\n"
        "a-1,C1,T1,1,24.50,2026-10-01T10:00:00+00:00\n"
        "a-2,C9,T1,1,24.50,2026-10-01T10:00:00+00:00\n"  # unknown customer
        "a-3,C1,T1,0,24.50,2026-10-01T10:00:00+00:00\n"  # zero quantity
    )
    with db.transaction() as session:
        people = import_table(
            session, "customers", customers, {"external_ref": "Ref", "name": "Full Name", "email": "E-mail"}
        )
        goods = import_table(session, "products", products, {"id": "sku", "title": "name"})
        sales = import_table(session, "orders", orders)
    assert people.written == {"customers": 2}
    assert [(r.row, r.reason) for r in people.rejected] == [
        (3, "name (column 'Full Name') is empty or missing"),
        (4, "a customer with this email exists already"),
    ]
    assert goods.written == {"products": 1}
    assert [r.row for r in goods.rejected] == [2, 3] and goods.rejected[0].reason.startswith("not valid JSON")
    assert sales.written == {"orders": 1, "order_lines": 2}
    assert [r.reason for r in sales.rejected] == [
        "no customer with external_ref 'C9'",
        "quantity must be a whole number of at least 1",
    ]
    with db.transaction() as session:
        assert session.scalar(select(Order.total).where(Order.number == "A-1")) == Decimal("73.50")
        assert (
            session.scalar(select(Customer.name).where(Customer.external_ref == "C4")) == "'; DROP TABLE customers; --"
        )


def test_an_import_that_fails_midway_writes_nothing(db: ShopDatabase, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name\nGrace Hopper\n")
    with pytest.raises(InvalidInput, match="do not have: shoe_size"), db.transaction() as session:
        import_table(session, "customers", path, {"shoe_size": "name"})
    with pytest.raises(RuntimeError), db.transaction() as session:
        import_table(session, "customers", path)
        raise RuntimeError("the connection dropped before commit")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
