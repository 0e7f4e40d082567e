"""The catalog's product record and its JSON-lines file format."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from artifacts import write_atomically


class CatalogFileError(ValueError):
    """A catalog file line is not a valid product; the message names the file and line."""


@dataclass(frozen=True)
class Product:
    """One product the shop sells."""

    id: str
    title: str
    description: str
    category: str
    brand: str
    price: float
    currency: str = "USD"
    stock: int = 0
    rating: float = 0.0
    attributes: dict[str, str] = field(default_factory=dict)
    image_url: str = ""

    def search_text(self) -> str:
        """The text the search index embeds."""
        attrs = ", ".join(f"{k}: {v}" for k, v in sorted(self.attributes.items()))
        return f"{self.title}. {self.category}. {self.brand}. {self.description} {attrs}".strip()

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> Product:
        """Build a product from a decoded JSON object, rejecting missing or mistyped fields."""
        try:
            price = float(raw["price"])  # type: ignore[arg-type]
            product = cls(
                id=str(raw["id"]),
                title=str(raw["title"]),
                description=str(raw.get("description", "")),
                category=str(raw["category"]),
                brand=str(raw.get("brand", "")),
                price=price,
                currency=str(raw.get("currency", "USD")),
                stock=int(raw.get("stock", 0)),  # type: ignore[call-overload]
                rating=float(raw.get("rating", 0.0)),  # type: ignore[arg-type]
                attributes={str(k): str(v) for k, v in dict(raw.get("attributes") or {}).items()},  # type: ignore[call-overload]
                image_url=str(raw.get("image_url") or ""),
            )
        except KeyError as missing:
            raise ValueError(f"missing field {missing}") from None
        except (TypeError, ValueError) as bad:
            raise ValueError(f"bad value: {bad}") from None
        if not product.id or not product.title or price < 0:
            raise ValueError("id and title must be non-empty and price non-negative")
        return product


def load_products(path: Path) -> list[Product]:
    """Read a catalog file; a bad line raises CatalogFileError naming it, nothing is half-loaded."""
    products: list[Product] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            product = Product.from_dict(raw)
        except ValueError as error:
            raise CatalogFileError(f"{path}:{number}: {error}") from None
        if product.id in seen:
            raise CatalogFileError(f"{path}:{number}: duplicate product id {product.id!r}")
        seen.add(product.id)
        products.append(product)
    return products


def save_products(path: Path, products: list[Product]) -> None:
    """Write a catalog file atomically."""
    lines = (json.dumps(asdict(p), sort_keys=True, ensure_ascii=False) for p in products)
    write_atomically(path, ("\n".join(lines) + "\n").encode("utf-8"))
