"""A conversation's product browsing: what was searched, what was shown, and how the customer refines it.

"cheaper", "in blue", "show more", "the second one" only make sense against the last search. This
module reads such a refinement out of the customer's words and turns it into the next search. The
chat action keeps the `Browsing` state in a slot as a plain dict; anything unreadable in it (slots
can be set by a user) reads as "nothing searched yet", never as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from catalog.filters import Filters, Vocabulary, parse_query
from catalog.products import Product

PAGE = 3  # products per answer
MAX_REMEMBERED = 60  # product ids remembered as shown, per search


@dataclass(frozen=True)
class Browsing:
    """The last search in a conversation and what the customer has seen of it."""

    query: str = ""
    filters: Filters = field(default_factory=Filters)
    shown: tuple[str, ...] = ()  # every product shown for this search, in order
    page: tuple[str, ...] = ()  # the latest products shown: what "the second one" points at
    focus: str | None = None  # the product being talked about
    clicked: tuple[str, ...] = ()  # products the customer picked in this conversation, latest last

    def to_slot(self) -> dict[str, Any]:
        """The state as JSON-friendly values, for a slot."""
        return {
            "query": self.query,
            "filters": {f.name: getattr(self.filters, f.name) for f in fields(Filters)},
            "shown": list(self.shown[-MAX_REMEMBERED:]),
            "page": list(self.page),
            "focus": self.focus,
            "clicked": list(self.clicked[-MAX_REMEMBERED:]),
        }

    @classmethod
    def from_slot(cls, value: object) -> Browsing:
        """The state a slot holds; empty for anything missing or malformed."""
        if not isinstance(value, dict):
            return cls()
        try:
            raw_filters = value.get("filters") or {}
            filters = Filters(
                min_price=_number(raw_filters.get("min_price")),
                max_price=_number(raw_filters.get("max_price")),
                **{
                    name: tuple(str(item) for item in raw_filters.get(name) or () if isinstance(item, str))
                    for name in ("categories", "brands", "colors", "sizes", "kinds")
                },
                in_stock=raw_filters.get("in_stock") is True,
            )
            focus = value.get("focus")
            return cls(
                query=str(value.get("query") or "")[:2000],
                filters=filters,
                shown=_ids(value.get("shown")),
                page=_ids(value.get("page"))[:PAGE],
                focus=str(focus) if isinstance(focus, str) and focus else None,
                clicked=_ids(value.get("clicked")),
            )
        except (AttributeError, TypeError):
            return cls()

    def searched(self, query: str, filters: Filters, page: list[str]) -> Browsing:
        """A new search and its first page."""
        return replace(self, query=query, filters=filters, shown=tuple(page), page=tuple(page))

    def showing(self, page: list[str]) -> Browsing:
        """The next page of the same search."""
        return replace(self, shown=(*self.shown, *page), page=tuple(page))

    def focused(self, product_id: str, clicked: bool = True) -> Browsing:
        """The customer is now talking about this product (and picked it, when `clicked`)."""
        picked = (*[p for p in self.clicked if p != product_id], product_id) if clicked else self.clicked
        return replace(self, focus=product_id, clicked=picked[-MAX_REMEMBERED:])


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


def _ids(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(item)[:64] for item in value if isinstance(item, str) and item)[-MAX_REMEMBERED:]


@dataclass(frozen=True)
class Refinement:
    """What the customer wants done to the last search.

    kind: 'cheaper', 'pricier', 'more' (next page), 'pick' (one of the shown products, by
    `position`, 0-based, -1 for the last), 'narrow' (new constraints in `filters`), or 'unclear'.
    """

    kind: str
    position: int | None = None
    filters: Filters = field(default_factory=Filters)


_CHEAPER = re.compile(
    r"\b(?:cheaper|less expensive|lower price[ds]?|less money|(?:too|so|very|a bit) (?:expensive|pricey|dear)"
    r"|more affordable|budget|inexpensive|cheap(?:er)? ones?|costs? less)\b",
    re.IGNORECASE,
)
_PRICIER = re.compile(
    r"\b(?:pricier|more expensive|higher end|high end|premium|fancier|better quality|top of the range"
    r"|(?:too|so|very) cheap)\b",
    re.IGNORECASE,
)
_MORE = re.compile(
    r"\b(?:more|next|others?|else|another|additional|keep going|rest)\b",
    re.IGNORECASE,
)
_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2,
    "fourth": 3, "4th": 3, "fifth": 4, "5th": 4, "last": -1, "final": -1, "bottom": -1, "top": 0,
}  # fmt: skip
_ORDINAL = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b(?!\s+(?:time|order|page))", re.IGNORECASE)
_NUMBERED = re.compile(r"(?:\b(?:number|no\.?|nr\.?|option|item|result)\s*|#)\s*([1-9])\b", re.IGNORECASE)
_ONLY_NUMBER = re.compile(r"^\s*([1-9])\s*[.!?]?\s*$")


def read_refinement(text: str, vocabulary: Vocabulary) -> Refinement:
    """Read how the customer refines the last search out of their words."""
    text = (text or "")[:2000]
    position = _position(text)
    if position is not None:
        return Refinement("pick", position=position)
    if _PRICIER.search(text):
        return Refinement("pricier")
    if _CHEAPER.search(text):
        return Refinement("cheaper")
    stated = parse_query(text, vocabulary).filters
    if not stated.is_empty():
        return Refinement("narrow", filters=stated)
    if _MORE.search(text):
        return Refinement("more")
    return Refinement("unclear")


def _position(text: str) -> int | None:
    for pattern in (_NUMBERED, _ONLY_NUMBER):
        match = pattern.search(text)
        if match:
            return int(match.group(1)) - 1
    match = _ORDINAL.search(text)
    return _ORDINALS[match.group(1).lower()] if match else None


def refined_filters(current: Filters, refinement: Refinement, page: list[Product]) -> Filters:
    """The filters of the search a refinement asks for, given the products just shown.

    "cheaper" means cheaper than everything just shown, "pricier" dearer than all of it; new
    constraints replace the same kind of constraint ("in blue" after "red ones") and keep the rest.
    When everything shown was of one category or product type, the refined search stays in it:
    "cheaper" after hiking boots means cheaper hiking boots, not cheaper things that mention boots.
    """
    categories = {product.category for product in page}
    if not current.categories and len(categories) == 1:
        current = replace(current, categories=tuple(categories))
    kinds = {product.attributes.get("type", "") for product in page}
    if not current.kinds and len(kinds) == 1 and "" not in kinds:
        current = replace(current, kinds=tuple(kinds))
    prices = [product.price for product in page]
    if refinement.kind == "cheaper" and prices:
        return replace(current, min_price=None, max_price=round(min(prices) - 0.01, 2))
    if refinement.kind == "pricier" and prices:
        return replace(current, max_price=None, min_price=round(max(prices) + 0.01, 2))
    if refinement.kind == "narrow":
        return current.merged(refinement.filters)
    return current
