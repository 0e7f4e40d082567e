"""Neighbourhood collaborative filtering: items bought by the same people, people who buy the same items."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from recommender.base import History, Recommender, cosine, normalise_rows, top_k_per_row
from recommender.interactions import InteractionMatrix
from recommender.popularity import Popularity

WEIGHTINGS = ("none", "tfidf", "bm25")


def weighted(item_users: sp.csr_matrix, weighting: str, k1: float = 1.2, b: float = 0.75) -> sp.csr_matrix:
    """Re-weight an items x users matrix: users who buy everything say little about any two items.

    tfidf: each user's weight times log(items / items the user touched); bm25: that idf with BM25's
    saturation of large weights and normalisation by how many users an item has.
    """
    if weighting == "none":
        return item_users
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    matrix = sp.coo_matrix(item_users, dtype=np.float64)
    n_items = max(matrix.shape[0], 1)
    per_user = np.bincount(matrix.col, minlength=matrix.shape[1])
    idf = np.log(n_items / np.maximum(per_user, 1)) + 1.0
    if weighting == "tfidf":
        data = matrix.data * idf[matrix.col]
    else:
        length = np.bincount(matrix.row, minlength=matrix.shape[0]).astype(np.float64)
        norm = (1.0 - b) + b * length / max(float(length.mean()) if length.size else 0.0, 1e-9)
        data = matrix.data * (k1 + 1.0) / (k1 * norm[matrix.row] + matrix.data) * idf[matrix.col]
    return sp.csr_matrix((data.astype(np.float32), (matrix.row, matrix.col)), shape=matrix.shape)


class ItemKNN(Recommender):
    """Items similar (cosine over who chose them) to the items the user has."""

    name = "item_knn"

    def __init__(self, neighbours: int = 100, weighting: str = "none") -> None:
        self.neighbours, self.weighting = neighbours, weighting

    def fit(self, data: InteractionMatrix) -> ItemKNN:
        super().fit(data)
        item_users = weighted(data.matrix.T.tocsr(), self.weighting)
        neighbours = top_k_per_row(cosine(item_users), self.neighbours)  # row j: j's nearest items
        self.similarity = neighbours.T.tocsr()  # [i, j]: how much having i speaks for j
        self.neighbour_rows = neighbours
        self.fallback = Popularity().fit(data)
        return self

    def scores(self, history: History) -> np.ndarray:
        if history.empty:
            return self.fallback.scores(history)
        return np.asarray((history.vector @ self.similarity).todense()).ravel()

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        column = self.data.item_index.get(item)
        if column is None:
            return []
        row = self.neighbour_rows[column].toarray().ravel()
        top = np.argsort(-row, kind="stable")[:k]
        return [(self.data.items[i], float(row[i])) for i in top if row[i] > 0]

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        column = self.data.item_index.get(item)
        history = self.history(user, session)
        if column is None:
            return "recommended for you"
        anchor = self.anchor(history, self.similarity[:, column].toarray().ravel())
        return f"because {anchor}" if anchor else "one of our best sellers"


class UserKNN(Recommender):
    """What customers with similar baskets chose."""

    name = "user_knn"

    def __init__(self, neighbours: int = 50) -> None:
        self.neighbours = neighbours

    def fit(self, data: InteractionMatrix) -> UserKNN:
        super().fit(data)
        self.similarity = top_k_per_row(cosine(data.matrix), self.neighbours)
        self.normalised = normalise_rows(data.matrix)
        self.fallback = Popularity().fit(data)
        return self

    def _neighbours(self, history: History) -> sp.csr_matrix:
        if history.row is not None and not history.session:
            return self.similarity[history.row]
        similarity = np.asarray((self.normalised @ normalise_rows(history.vector).T).todense()).ravel()
        if history.row is not None:
            similarity[history.row] = 0.0
        keep = np.argsort(-similarity)[: self.neighbours]
        keep = keep[similarity[keep] > 0]
        return sp.csr_matrix(
            (similarity[keep], ([0] * len(keep), keep)), shape=(1, self.data.matrix.shape[0]), dtype=np.float32
        )

    def scores(self, history: History) -> np.ndarray:
        if history.empty:
            return self.fallback.scores(history)
        return np.asarray((self._neighbours(history) @ self.data.matrix).todense()).ravel()

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        column = self.data.item_index.get(item)
        history = self.history(user, session)
        if column is None or history.empty:
            return "one of our best sellers"
        neighbours = self._neighbours(history)
        chose = int(self.data.matrix[neighbours.indices, column].getnnz())
        return f"{chose} customers with tastes like yours chose it" if chose > 1 else "customers like you chose it"
