"""From events (viewed, clicked, added to cart, purchased) to a weighted user x item matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

# How much an event says about a customer's taste.
EVENT_WEIGHTS = {"viewed": 1.0, "clicked": 2.0, "added_to_cart": 3.0, "purchased": 5.0}
# "Trending" weighs what happened in about the last week.
TREND_HALF_LIFE_DAYS = 7.0


@dataclass(frozen=True)
class Event:
    """One thing a user did with an item; `basket` groups the items of one order."""

    user: str
    item: str
    kind: str
    at: dt.datetime
    quantity: int = 1
    basket: str | None = None


@dataclass(frozen=True)
class ItemInfo:
    """What the shop knows about an item: used by filters and explanations."""

    title: str = ""
    category: str = ""
    price: float | None = None


@dataclass
class InteractionMatrix:
    """users x items weights (CSR), with the ids behind each row and column.

    `purchased` marks (user, item) pairs with a purchase (for "because you bought X"), `trend`
    holds each item's recent weight, `baskets` the column indexes of each order, `segments` the
    user's segment (country, loyalty tier...), `info` the item metadata.
    """

    matrix: sp.csr_matrix
    users: list[str]
    items: list[str]
    purchased: sp.csr_matrix | None = None
    trend: np.ndarray | None = None
    baskets: list[list[int]] = field(default_factory=list)
    segments: dict[str, str] = field(default_factory=dict)
    info: dict[str, ItemInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.users)}
        self.item_index = {it: i for i, it in enumerate(self.items)}
        if self.purchased is None:
            self.purchased = sp.csr_matrix(self.matrix.shape, dtype=np.float32)
        if self.trend is None:
            self.trend = np.zeros(len(self.items), dtype=np.float32)
        self.categories = np.asarray([self.info.get(it, ItemInfo()).category for it in self.items], dtype=object)
        self.prices = np.asarray(
            [np.nan if (p := self.info.get(it, ItemInfo()).price) is None else p for it in self.items], dtype=np.float64
        )

    def seen(self, user: str) -> set[int]:
        """Column indexes of the items a user interacted with."""
        row = self.user_index.get(user)
        if row is None:
            return set()
        return set(self.matrix.indices[self.matrix.indptr[row] : self.matrix.indptr[row + 1]].tolist())

    def title(self, column: int) -> str:
        """A readable name for an item column."""
        item = self.items[column]
        return self.info.get(item, ItemInfo()).title or item


def build_matrix(
    events: Iterable[Event],
    now: dt.datetime,
    half_life_days: float | None = 90.0,
    items: list[str] | None = None,
    segments: Mapping[str, str] | None = None,
    info: Mapping[str, ItemInfo] | None = None,
) -> InteractionMatrix:
    """Sum event weights per (user, item), each decayed by its age; unknown kinds and bad quantities dropped.

    With `items` the item universe is fixed (a shop's whole catalog, so new products have a column).
    """
    users: dict[str, int] = {}
    columns: dict[str, int] = {it: i for i, it in enumerate(items or [])}
    rows, cols, values = [], [], []
    bought_rows, bought_cols = [], []
    baskets: dict[str, set[int]] = {}
    trend: dict[int, float] = {}
    for event in events:
        weight = EVENT_WEIGHTS.get(event.kind)
        if weight is None or event.quantity <= 0 or not event.user or not event.item:
            continue
        if event.item not in columns:
            if items is not None:
                continue  # the item universe is fixed
            columns[event.item] = len(columns)
        age_days = max((now - event.at).total_seconds() / 86400.0, 0.0)
        decay = 0.5 ** (age_days / half_life_days) if half_life_days else 1.0
        row, column = users.setdefault(event.user, len(users)), columns[event.item]
        rows.append(row)
        cols.append(column)
        values.append(weight * decay)
        trend[column] = trend.get(column, 0.0) + weight * 0.5 ** (age_days / TREND_HALF_LIFE_DAYS)
        if event.kind == "purchased":
            bought_rows.append(row)
            bought_cols.append(column)
            if event.basket:
                baskets.setdefault(event.basket, set()).add(column)
    shape = (len(users), len(columns))
    matrix = sp.csr_matrix(
        (np.asarray(values, dtype=np.float32), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=shape,
    )
    matrix.sum_duplicates()
    purchased = sp.csr_matrix((np.ones(len(bought_rows), dtype=np.float32), (bought_rows, bought_cols)), shape=shape)
    purchased.sum_duplicates()
    purchased.data[:] = 1.0
    trend_vector = np.zeros(len(columns), dtype=np.float32)
    for column, value in trend.items():
        trend_vector[column] = value
    user_ids = list(users)
    return InteractionMatrix(
        matrix,
        user_ids,
        list(columns),
        purchased=purchased,
        trend=trend_vector,
        baskets=[sorted(b) for b in baskets.values() if len(b) > 1],
        segments={u: segments[u] for u in user_ids if segments and u in segments},
        info=dict(info or {}),
    )
