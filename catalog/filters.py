"""Hard constraints on products (price, category, brand, colour, size, stock) and reading them from text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from catalog.prices import price_phrases
from catalog.products import Product


@dataclass(frozen=True)
class Filters:
    """Constraints a product must meet. Empty tuples and None mean "no constraint"."""

    min_price: float | None = None
    max_price: float | None = None
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    in_stock: bool = False
    kinds: tuple[str, ...] = ()  # product types (the `type` attribute), e.g. "Rain Jacket"

    def is_empty(self) -> bool:
        """True when nothing is constrained."""
        return self == Filters()

    def merged(self, override: Filters | None) -> Filters:
        """These filters with every constraint set in `override` taking precedence (slots over parsed text)."""
        if override is None:
            return self
        changes = {
            name: value
            for name, value in override.__dict__.items()
            if value not in (None, (), False) and value != getattr(Filters(), name)
        }
        return replace(self, **changes)

    def failing_constraint(self, product: Product) -> str | None:
        """The first constraint the product fails ('price', 'brand', ...), or None if it passes all."""
        if self.min_price is not None and product.price < self.min_price:
            return "min_price"
        if self.max_price is not None and product.price > self.max_price:
            return "max_price"
        if self.categories and not any(c.lower() in product.category.lower() for c in self.categories):
            return "category"
        if self.brands and product.brand.lower() not in {b.lower() for b in self.brands}:
            return "brand"
        if self.colors and product.attributes.get("color", "").lower() not in {c.lower() for c in self.colors}:
            return "color"
        if self.sizes:
            offered = {s.lower() for s in product.attributes.get("sizes", "").split("/") if s}
            if not offered & {s.lower() for s in self.sizes}:
                return "size"
        if self.in_stock and product.stock <= 0:
            return "in_stock"
        if self.kinds and product.attributes.get("type", "").lower() not in {k.lower() for k in self.kinds}:
            return "kind"
        return None

    def accepts(self, product: Product) -> bool:
        """True when the product meets every constraint."""
        return self.failing_constraint(product) is None

    def without(self, constraint: str) -> Filters:
        """These filters with one constraint (as failing_constraint names it) dropped."""
        name = {"color": "colors", "brand": "brands", "size": "sizes", "category": "categories", "kind": "kinds"}.get(
            constraint, constraint
        )
        return replace(self, **{name: getattr(Filters(), name)})

    def describe(self) -> list[str]:
        """The constraints in words, e.g. ['under $50.00', 'in black']."""
        words = []
        if self.min_price is not None and self.max_price is not None:
            words.append(f"between ${self.min_price:.2f} and ${self.max_price:.2f}")
        elif self.max_price is not None:
            words.append(f"under ${self.max_price:.2f}")
        elif self.min_price is not None:
            words.append(f"over ${self.min_price:.2f}")
        words += [f"in {c}" for c in self.categories] + [f"by {b}" for b in self.brands]
        words += [f"in {c}" for c in self.colors] + [f"in size {s}" for s in self.sizes]
        words += [f"{'an' if k[:1].lower() in 'aeiou' else 'a'} {k}" for k in self.kinds]
        if self.in_stock:
            words.append("in stock")
        return words


@dataclass(frozen=True)
class Vocabulary:
    """Brands, colours and sizes that exist in the catalog: what the query parser can recognise."""

    brands: frozenset[str] = frozenset()
    colors: frozenset[str] = frozenset()
    sizes: frozenset[str] = frozenset()

    @classmethod
    def of(cls, products: Iterable[Product]) -> Vocabulary:
        """The vocabulary of a catalog."""
        brands: set[str] = set()
        colors: set[str] = set()
        sizes: set[str] = set()
        for product in products:
            brands.add(product.brand.lower())
            colors.add(product.attributes.get("color", "").lower())
            sizes.update(s.lower() for s in product.attributes.get("sizes", "").split("/"))
        return cls(frozenset(brands - {""}), frozenset(colors - {""}), frozenset(sizes - {""}))


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into what to search for and the constraints it stated."""

    text: str
    filters: Filters = field(default_factory=Filters)


_IN_STOCK = re.compile(r"\b(?:in stock|available now|available today|ships? today|in-stock)\b", re.IGNORECASE)
_SIZE = re.compile(r"\bsize\s+([0-9]{1,2}(?:\.5)?k?|xxs|xs|s|m|l|xl|xxl|one size)\b", re.IGNORECASE)
_LETTER_SIZE = re.compile(r"\b(xxs|xs|xl|xxl)\b", re.IGNORECASE)


def parse_query(text: str, vocabulary: Vocabulary) -> ParsedQuery:
    """Read price, stock, size, colour and brand constraints out of a customer's words.

    The constraints' words are removed from the search text: "red yoga mat" searches for yoga mats
    and filters on red, rather than finding everything red. A query that is nothing but
    constraints ("Northpeak") keeps its words as the search text.
    """
    min_price = max_price = None
    phrases = price_phrases(text)
    for phrase in phrases:
        if phrase.kind == "min" and min_price is None:
            min_price = phrase.value
        elif phrase.kind == "max" and max_price is None:
            max_price = phrase.value
    remaining = "".join(
        " " if any(p.kind != "price" and p.phrase_start <= i < p.phrase_end for p in phrases) else character
        for i, character in enumerate(text)
    )
    in_stock = bool(_IN_STOCK.search(remaining))
    remaining = _IN_STOCK.sub(" ", remaining)
    sizes = [m.group(1).lower() for m in _SIZE.finditer(remaining)]  # "size 13": kept even if nobody has it
    remaining = _SIZE.sub(" ", remaining)
    sizes += [m.group(1).lower() for m in _LETTER_SIZE.finditer(remaining) if m.group(1).lower() in vocabulary.sizes]
    lowered = f" {re.sub(r'[^a-z0-9&]+', ' ', remaining.lower())} "
    colors = tuple(sorted(c for c in vocabulary.colors if f" {c} " in lowered))
    brands = tuple(sorted(b for b in vocabulary.brands if f" {b} " in lowered))
    filters = Filters(
        min_price=min_price,
        max_price=max_price,
        brands=brands,
        colors=colors,
        sizes=tuple(dict.fromkeys(sizes)),
        in_stock=in_stock,
    )
    searched = lowered
    for word in (*colors, *brands):
        searched = searched.replace(f" {word} ", " ")
    text_left = " ".join(searched.split()) or " ".join(remaining.split())
    return ParsedQuery(text=text_left, filters=filters)
