"""Recommenders behind one interface: fit on an interaction matrix, then score every item for a user."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.interactions import InteractionMatrix


def _top_k_per_row(similarity: sp.csr_matrix, k: int) -> sp.csr_matrix:
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


def _cosine(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Cosine similarity between the rows of a sparse matrix."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    normalised = sp.diags(1.0 / norms) @ matrix
    return (normalised @ normalised.T).tocsr()


class Recommender:
    """The shared interface: fit once, then `scores` for a user row (None for an unknown user)."""

    name = "base"

    def fit(self, data: InteractionMatrix) -> Recommender:
        """Learn from the interaction matrix; returns self."""
        self.data = data
        return self

    def scores(self, user_row: int | None) -> np.ndarray:
        """A score for every item (higher is better)."""
        raise NotImplementedError

    def recommend(self, user: str, k: int = 10, exclude_seen: bool = True) -> list[tuple[str, float]]:
        """The k best items for a user as (item id, score); unknown users get the cold-start answer."""
        row = self.data.user_index.get(user)
        scores = self.scores(row).astype(np.float64, copy=True)
        if exclude_seen and row is not None:
            scores[list(self.data.seen(user))] = -np.inf
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.data.items[i], float(scores[i])) for i in top if np.isfinite(scores[i])]


class Popularity(Recommender):
    """The most-bought items overall: the baseline every model must beat, and the cold-start answer."""

    name = "popularity"

    def fit(self, data: InteractionMatrix) -> Popularity:
        super().fit(data)
        binary = data.matrix.copy()
        binary.data[:] = 1.0
        self.popularity = np.asarray(binary.sum(axis=0)).ravel().astype(np.float32)
        return self

    def scores(self, user_row: int | None) -> np.ndarray:
        return self.popularity


class ItemKNN(Recommender):
    """Items similar (cosine over who bought them) to the items the user has."""

    name = "item_knn"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours

    def fit(self, data: InteractionMatrix) -> ItemKNN:
        super().fit(data)
        self.similarity = _top_k_per_row(_cosine(data.matrix.T.tocsr()), self.neighbours).T.tocsr()
        self.fallback = Popularity().fit(data)
        return self

    def scores(self, user_row: int | None) -> np.ndarray:
        if user_row is None:
            return self.fallback.scores(None)
        return np.asarray((self.data.matrix[user_row] @ self.similarity).todense()).ravel()

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        """Items most similar to one item."""
        column = self.data.item_index.get(item)
        if column is None:
            return []
        row = self.similarity.T.tocsr()[column].toarray().ravel()
        top = np.argsort(-row)[:k]
        return [(self.data.items[i], float(row[i])) for i in top if row[i] > 0]


class UserKNN(Recommender):
    """What customers with similar baskets bought."""

    name = "user_knn"

    def __init__(self, neighbours: int = 50) -> None:
        self.neighbours = neighbours

    def fit(self, data: InteractionMatrix) -> UserKNN:
        super().fit(data)
        self.similarity = _top_k_per_row(_cosine(data.matrix), self.neighbours)
        self.fallback = Popularity().fit(data)
        return self

    def scores(self, user_row: int | None) -> np.ndarray:
        if user_row is None:
            return self.fallback.scores(None)
        return np.asarray((self.similarity[user_row] @ self.data.matrix).todense()).ravel()


class ALS(Recommender):
    """Implicit-feedback matrix factorisation (alternating least squares, `implicit`)."""

    name = "als"

    def __init__(
        self, factors: int = 64, regularization: float = 0.05, iterations: int = 15, alpha: float = 2.0
    ) -> None:
        self.factors, self.regularization, self.iterations, self.alpha = factors, regularization, iterations, alpha

    def fit(self, data: InteractionMatrix) -> ALS:
        from implicit.cpu.als import AlternatingLeastSquares

        super().fit(data)
        self.fallback = Popularity().fit(data)
        model = AlternatingLeastSquares(
            factors=self.factors, regularization=self.regularization, iterations=self.iterations, random_state=1
        )
        if data.matrix.nnz:
            model.fit((data.matrix * self.alpha).tocsr(), show_progress=False)
            self.user_factors = np.asarray(model.user_factors)
            self.item_factors = np.asarray(model.item_factors)
        else:
            self.user_factors = np.zeros((data.matrix.shape[0], self.factors), dtype=np.float32)
            self.item_factors = np.zeros((data.matrix.shape[1], self.factors), dtype=np.float32)
        return self

    def scores(self, user_row: int | None) -> np.ndarray:
        if user_row is None:
            return self.fallback.scores(None)
        raw: np.ndarray = self.item_factors @ self.user_factors[user_row]
        return raw - raw.min() if raw.size else raw  # non-negative, so it blends like the others


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


class Hybrid(Recommender):
    """A weighted blend of item-kNN, user-kNN, ALS and popularity scores, each scaled to [0, 1]."""

    name = "hybrid"

    def __init__(
        self,
        weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 0.1),
        item_neighbours: int = 20,
        user_neighbours: int = 100,
        factors: int = 64,
    ) -> None:
        self.weights = weights
        self.parts: list[Recommender] = [ItemKNN(item_neighbours), UserKNN(user_neighbours), ALS(factors), Popularity()]

    def fit(self, data: InteractionMatrix) -> Hybrid:
        super().fit(data)
        for weight, part in zip(self.weights, self.parts, strict=True):
            if weight or isinstance(part, Popularity):
                part.fit(data)
        return self

    def scores(self, user_row: int | None) -> np.ndarray:
        blended = np.zeros(len(self.data.items), dtype=np.float64)
        for weight, part in zip(self.weights, self.parts, strict=True):
            if weight:
                blended += weight * _scaled(part.scores(user_row))
        return blended
