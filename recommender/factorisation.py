"""Implicit-feedback matrix factorisation with `implicit`: alternating least squares and BPR."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from recommender.base import History, Recommender
from recommender.interactions import InteractionMatrix
from recommender.popularity import Popularity


class _Factorisation(Recommender):
    """Users and items as vectors; a score is their dot product. Subclasses learn the vectors."""

    factors: int
    regularization: float

    def fit(self, data: InteractionMatrix) -> _Factorisation:
        super().fit(data)
        self.fallback = Popularity().fit(data)
        if data.matrix.nnz:
            user_factors, item_factors = self._learn(data)
        else:
            user_factors = np.zeros((data.matrix.shape[0], self.factors), dtype=np.float32)
            item_factors = np.zeros((data.matrix.shape[1], self.factors), dtype=np.float32)
        self.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        norms = np.linalg.norm(self.item_factors, axis=1)
        self.unit_items = self.item_factors / np.where(norms > 0, norms, 1.0)[:, None]
        return self

    def _learn(self, data: InteractionMatrix) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _fold_in(self, history: History) -> np.ndarray:
        """A user vector for someone not in the training data (or with a session on top)."""
        columns = history.columns
        return np.asarray(self.item_factors[columns].mean(axis=0))

    def scores(self, history: History) -> np.ndarray:
        if history.empty:
            return self.fallback.scores(history)
        user = self.user_factors[history.row] if history.row is not None and not history.session else None
        if user is None:
            user = self._fold_in(history)
        raw: np.ndarray = self.item_factors @ user
        return raw - raw.min() if raw.size else raw  # non-negative, so it blends like the others

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        column = self.data.item_index.get(item)
        history = self.history(user, session)
        if column is None or history.empty:
            return "one of our best sellers"
        anchor = self.anchor(history, self.unit_items @ self.unit_items[column])
        return f"goes with what {anchor}" if anchor else "matches your shopping history"


class ALS(_Factorisation):
    """Alternating least squares on confidence-weighted interactions (Hu, Koren and Volinsky)."""

    name = "als"

    def __init__(
        self, factors: int = 64, regularization: float = 0.05, iterations: int = 15, alpha: float = 2.0
    ) -> None:
        self.factors, self.regularization, self.iterations, self.alpha = factors, regularization, iterations, alpha

    def _learn(self, data: InteractionMatrix) -> tuple[np.ndarray, np.ndarray]:
        from implicit.cpu.als import AlternatingLeastSquares

        with threadpool_limits(1, "blas"):  # implicit runs its own threads; nested BLAS threads only slow it
            model = AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization, iterations=self.iterations, random_state=1
            )
            model.fit((data.matrix * self.alpha).tocsr(), show_progress=False)
        return np.asarray(model.user_factors), np.asarray(model.item_factors)

    def _fold_in(self, history: History) -> np.ndarray:
        """The exact ALS user step for this history: solve (YᵀCY + λI) x = YᵀC·1."""
        columns = history.columns
        confidence = np.asarray(history.vector.data, dtype=np.float64) * self.alpha
        items = self.item_factors[columns].astype(np.float64)
        gram = self.item_factors.T.astype(np.float64) @ self.item_factors.astype(np.float64)
        lhs = gram + items.T @ (items * confidence[:, None]) + self.regularization * np.eye(self.factors)
        rhs = items.T @ (1.0 + confidence)
        return np.linalg.solve(lhs, rhs).astype(np.float32)


class BPR(_Factorisation):
    """Bayesian personalised ranking: learns to rank what a user chose above what they did not."""

    name = "bpr"

    def __init__(
        self, factors: int = 64, learning_rate: float = 0.05, regularization: float = 0.01, iterations: int = 100
    ) -> None:
        self.factors, self.learning_rate = factors, learning_rate
        self.regularization, self.iterations = regularization, iterations

    def _learn(self, data: InteractionMatrix) -> tuple[np.ndarray, np.ndarray]:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        model = BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=1,
        )
        model.fit(data.matrix.tocsr(), show_progress=False)
        return np.asarray(model.user_factors), np.asarray(model.item_factors)
