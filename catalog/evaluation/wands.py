"""The public WANDS format (Wayfair ANnotation DataSet): tab-separated product.csv, query.csv, label.csv.

Products become catalog products; labels become grades: Exact 2, Partial 1, Irrelevant 0.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from catalog.evaluation import JudgedQuery
from catalog.products import Product

GRADES = {"Exact": 2, "Partial": 1, "Irrelevant": 0}


def _rows(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def load_wands(directory: Path) -> tuple[list[Product], list[JudgedQuery]]:
    """Products and judged queries from a folder holding product.csv, query.csv and label.csv."""
    missing = [name for name in ("product.csv", "query.csv", "label.csv") if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} lacks {', '.join(missing)} (WANDS files)")
    products = []
    for row in _rows(directory / "product.csv"):
        try:
            rating = float(row.get("average_rating") or 0)
        except ValueError:
            rating = 0.0
        products.append(
            Product(
                id=f"W{row['product_id']}",
                title=(row.get("product_name") or "").strip() or f"product {row['product_id']}",
                description=" ".join((row.get("product_description") or "").split())[:2000],
                category=(row.get("category hierarchy") or row.get("product_class") or "").replace(" / ", " > "),
                brand="",
                price=0.0,
                rating=rating,
                attributes={
                    "class": row.get("product_class") or "",
                    "features": (row.get("product_features") or "")[:500],
                },
            )
        )
    queries = {row["query_id"]: row["query"] for row in _rows(directory / "query.csv")}
    grades: dict[str, dict[str, int]] = {qid: {} for qid in queries}
    for row in _rows(directory / "label.csv"):
        grade = GRADES.get(row.get("label", ""), 0)
        if row["query_id"] in grades and grade > 0:
            grades[row["query_id"]][f"W{row['product_id']}"] = grade
    return products, [JudgedQuery(queries[qid], grades[qid]) for qid in queries if grades[qid]]
