"""Content-based recommendations from the catalog's product embeddings (the same MiniLM vectors search uses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from recommender.base import History, Recommender
from recommender.interactions import InteractionMatrix
from recommender.popularity import Popularity


class ContentBased(Recommender):
    """More-like-this by cosine between product embeddings; a user is the weighted mean of their items.

    The weights are the matrix's, so the profile is already decayed by age and event type. Items
    nobody has touched yet still have an embedding: this is the new item's way in.
    """

    name = "content"

    def __init__(self, embeddings: Mapping[str, np.ndarray]) -> None:
        self.embeddings = embeddings

    def fit(self, data: InteractionMatrix) -> ContentBased:
        super().fit(data)
        dimension = len(next(iter(self.embeddings.values()))) if self.embeddings else 1
        vectors = np.zeros((len(data.items), dimension), dtype=np.float32)
        for column, item in enumerate(data.items):
            vector = self.embeddings.get(item)
            if vector is not None:
                vectors[column] = vector
        norms = np.linalg.norm(vectors, axis=1)
        self.vectors = vectors / np.where(norms > 0, norms, 1.0)[:, None]
        self.known = norms > 0
        self.embeddings = {}  # the aligned matrix is all that is kept (and persisted)
        self.fallback = Popularity().fit(data)
        return self

    def _cosines(self, profile: np.ndarray) -> np.ndarray:
        norm = float(np.linalg.norm(profile))
        if norm == 0:
            return np.zeros(len(self.vectors), dtype=np.float32)
        return np.clip(self.vectors @ (profile / norm), 0.0, None)

    def scores(self, history: History) -> np.ndarray:
        if history.empty:
            return self.fallback.scores(history)
        weights = np.asarray(history.vector.data, dtype=np.float32)
        return self._cosines(weights @ self.vectors[history.columns])

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        column = self.data.item_index.get(item)
        if column is None or not self.known[column]:
            return []
        cosines = self._cosines(self.vectors[column])
        cosines[column] = -1.0
        return [(it, s) for it, s in self._top(cosines, k) if s > 0]

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        column = self.data.item_index.get(item)
        history = self.history(user, session)
        if column is None:
            return "recommended for you"
        anchor = self.anchor(history, self.vectors @ self.vectors[column])
        return f"similar to what {anchor}" if anchor else "one of our best sellers"
