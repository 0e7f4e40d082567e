"""Import products into the catalog from a shop's CSV or JSON-lines export, with a column mapping.

The mapping names, for each catalog field, the column that holds it ({"title": "Name"}); fields not
mapped are read from a column of their own name. `attr:<name>` fields become attributes
({"attr:color": "Colour"}). Bad rows are rejected with a reason; good ones replace the catalog's
products of the same id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.products import Product
from datafiles import read_records

FIELDS = ("id", "title", "description", "category", "brand", "price", "currency", "stock", "rating", "image_url")


@dataclass
class CatalogImport:
    """The merged catalog and what was rejected."""

    products: list[Product]
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def import_catalog(path: Path, mapping: Mapping[str, str], existing: list[Product] | None = None) -> CatalogImport:
    """Read products from a file and merge them into `existing` by id (imported rows win)."""
    unknown = [k for k in mapping if k not in FIELDS and not k.startswith("attr:")]
    if unknown:
        raise ValueError(f"unknown catalog fields in the mapping: {', '.join(unknown)}")
    merged = {p.id: p for p in existing or []}
    result = CatalogImport(products=[])
    seen: set[str] = set()
    for number, record in read_records(path):
        if "__error__" in record:
            result.rejected.append((number, str(record["__error__"])))
            continue
        raw: dict[str, Any] = {}
        for name in FIELDS:
            value = record.get(mapping.get(name, name))
            if value not in (None, ""):
                raw[name] = value
        raw["attributes"] = {
            key.removeprefix("attr:"): record.get(column)
            for key, column in mapping.items()
            if key.startswith("attr:") and record.get(column) not in (None, "")
        }
        try:
            product = Product.from_dict(raw)
        except ValueError as error:
            result.rejected.append((number, str(error)))
            continue
        if product.id in seen:
            result.rejected.append((number, f"duplicate product id {product.id!r} in the file"))
            continue
        seen.add(product.id)
        merged[product.id] = product
        result.imported += 1
    result.products = list(merged.values())
    return result
