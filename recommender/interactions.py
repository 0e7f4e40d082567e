"""From events (viewed, clicked, added to cart, purchased) to a weighted user x item matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# How much an event says about a customer's taste.
EVENT_WEIGHTS = {"viewed": 1.0, "clicked": 2.0, "added_to_cart": 3.0, "purchased": 5.0}


@dataclass(frozen=True)
class Event:
    """One thing a user did with an item."""

    user: str
    item: str
    kind: str
    at: dt.datetime
    quantity: int = 1


@dataclass
class InteractionMatrix:
    """users x items weights (CSR), with the ids behind each row and column."""

    matrix: sp.csr_matrix
    users: list[str]
    items: list[str]

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.users)}
        self.item_index = {it: i for i, it in enumerate(self.items)}

    def seen(self, user: str) -> set[int]:
        """Column indexes of the items a user interacted with."""
        row = self.user_index.get(user)
        if row is None:
            return set()
        return set(self.matrix.indices[self.matrix.indptr[row] : self.matrix.indptr[row + 1]].tolist())


def build_matrix(
    events: Iterable[Event],
    now: dt.datetime,
    half_life_days: float | None = 90.0,
    items: list[str] | None = None,
) -> InteractionMatrix:
    """Sum event weights per (user, item), each decayed by its age; unknown kinds and bad quantities dropped."""
    users: dict[str, int] = {}
    columns: dict[str, int] = {it: i for i, it in enumerate(items or [])}
    rows, cols, values = [], [], []
    for event in events:
        weight = EVENT_WEIGHTS.get(event.kind)
        if weight is None or event.quantity <= 0:
            continue
        if event.item not in columns:
            if items is not None:
                continue  # the item universe is fixed
            columns[event.item] = len(columns)
        age_days = max((now - event.at).total_seconds() / 86400.0, 0.0)
        decay = 0.5 ** (age_days / half_life_days) if half_life_days else 1.0
        rows.append(users.setdefault(event.user, len(users)))
        cols.append(columns[event.item])
        values.append(weight * decay)
    matrix = sp.csr_matrix(
        (np.asarray(values, dtype=np.float32), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(users), len(columns)),
    )
    matrix.sum_duplicates()
    return InteractionMatrix(matrix, list(users), list(columns))
