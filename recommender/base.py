"""The interface every recommender shares: fit on an interaction matrix, then score, recommend, explain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.interactions import EVENT_WEIGHTS, InteractionMatrix

SESSION_WEIGHT = EVENT_WEIGHTS["clicked"]


@dataclass(frozen=True)
class ItemFilter:
    """Which items may be recommended: a category, a price range, items to leave out."""

    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    exclude: frozenset[str] = frozenset()

    def mask(self, data: InteractionMatrix) -> np.ndarray:
        """True for every allowed column."""
        allowed = np.ones(len(data.items), dtype=bool)
        if self.category:
            allowed &= data.categories == self.category
        if self.min_price is not None:
            allowed &= ~(data.prices < self.min_price)  # an unknown price is not excluded by a bound
        if self.max_price is not None:
            allowed &= ~(data.prices > self.max_price)
        for item in self.exclude:
            column = data.item_index.get(item)
            if column is not None:
                allowed[column] = False
        return allowed


@dataclass(frozen=True)
class History:
    """What the recommender knows about one person: their matrix row (if any) and this session's items."""

    row: int | None
    vector: sp.csr_matrix  # 1 x items: the user's weights plus the session's items
    session: tuple[int, ...] = ()

    @property
    def columns(self) -> np.ndarray:
        """Columns the person interacted with."""
        return np.asarray(self.vector.indices)

    @property
    def empty(self) -> bool:
        """Nothing known: neither a history nor a session."""
        return bool(self.vector.nnz == 0)


class Recommender:
    """Fit once, then `scores` for a history; `recommend`, `similar_items` and `explain` build on it."""

    name = "base"
    data: InteractionMatrix

    def fit(self, data: InteractionMatrix) -> Recommender:
        """Learn from the interaction matrix; returns self."""
        self.data = data
        return self

    def scores(self, history: History) -> np.ndarray:
        """A non-negative score for every item (higher is better)."""
        raise NotImplementedError

    def history(self, user: str | None, session: Sequence[str] = ()) -> History:
        """The matrix row of a known user plus the session's items (unknown ids are ignored)."""
        row = self.data.user_index.get(user) if user is not None else None
        n_items = len(self.data.items)
        vector = self.data.matrix[row] if row is not None else sp.csr_matrix((1, n_items), dtype=np.float32)
        columns = tuple(dict.fromkeys(c for it in session if (c := self.data.item_index.get(it)) is not None))
        if columns:
            extra = sp.csr_matrix(
                (np.full(len(columns), SESSION_WEIGHT, dtype=np.float32), ([0] * len(columns), list(columns))),
                shape=(1, n_items),
            )
            vector = vector + extra
        return History(row, sp.csr_matrix(vector), columns)

    def recommend(
        self,
        user: str | None,
        k: int = 10,
        exclude_seen: bool = True,
        filters: ItemFilter | None = None,
        session: Sequence[str] = (),
    ) -> list[tuple[str, float]]:
        """The k best items for a user as (item id, score); unknown users get the cold-start answer."""
        history = self.history(user, session)
        scores = self.scores(history).astype(np.float64, copy=True)
        if exclude_seen and history.vector.nnz:
            scores[history.columns] = -np.inf
        if filters is not None:
            scores[~filters.mask(self.data)] = -np.inf
        return self._top(scores, k)

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        """Items most like one item: by default, what this model recommends to someone who just looked at it."""
        if item not in self.data.item_index:
            return []
        return [(it, s) for it, s in self.recommend(None, k, session=[item]) if s > 0]

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        """Why this item is recommended to this person, in words a customer understands."""
        return "recommended for you"

    def _top(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.data.items[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def anchor(self, history: History, affinity: np.ndarray) -> str:
        """The phrase naming the history item with the most affinity: "you bought X" / "you looked at X"."""
        columns = history.columns
        if not columns.size:
            return ""
        best = int(columns[int(np.argmax(affinity[columns]))])
        if affinity[best] <= 0:
            return ""
        bought = history.row is not None and self.data.purchased is not None and self.data.purchased[history.row, best]
        verb = "bought" if bought else "looked at"
        return f"you {verb} {self.data.title(best)}"


def top_k_per_row(similarity: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each row (the neighbours), zero the diagonal."""
    similarity = similarity.tolil()
    similarity.setdiag(0)
    similarity = similarity.tocsr()
    similarity.eliminate_zeros()
    rows, cols, vals = [], [], []
    for row in range(similarity.shape[0]):
        start, end = similarity.indptr[row], similarity.indptr[row + 1]
        if end == start:
            continue
        values = similarity.data[start:end]
        keep = np.argsort(-values)[:k]
        rows.extend([row] * len(keep))
        cols.extend(similarity.indices[start:end][keep].tolist())
        vals.extend(values[keep].tolist())
    return sp.csr_matrix((vals, (rows, cols)), shape=similarity.shape, dtype=np.float32)


def normalise_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row scaled to unit length (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ matrix)


def cosine(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Cosine similarity between the rows of a sparse matrix."""
    normalised = normalise_rows(matrix)
    return sp.csr_matrix(normalised @ normalised.T)


def scaled(scores: np.ndarray, ignore: np.ndarray | None = None) -> np.ndarray:
    """Scores divided by their maximum outside `ignore` (so parts blend on the same scale).

    The ignored columns are what the person already has: they usually score highest and would
    otherwise squeeze every new item's score towards zero.
    """
    candidates = scores
    if ignore is not None and ignore.size:
        candidates = scores.copy()
        candidates[ignore] = 0.0
    top = float(candidates.max()) if candidates.size else 0.0
    return scores / top if top > 0 else scores
