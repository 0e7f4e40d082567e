"""Popularity baselines: best sellers overall, trending this week, and popular within a customer segment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recommender.base import History, Recommender
from recommender.interactions import InteractionMatrix


def buyer_counts(data: InteractionMatrix) -> np.ndarray:
    """How many users interacted with each item."""
    binary = data.matrix.copy()
    binary.data[:] = 1.0
    return np.asarray(binary.sum(axis=0)).ravel().astype(np.float32)


class Popularity(Recommender):
    """The items most customers chose: the baseline every model must beat, and the cold-start answer."""

    name = "popularity"

    def fit(self, data: InteractionMatrix) -> Popularity:
        super().fit(data)
        self.popularity = buyer_counts(data)
        return self

    def scores(self, history: History) -> np.ndarray:
        return self.popularity

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        column = self.data.item_index.get(item)
        category = self.data.categories[column] if column is not None else ""
        return f"a best seller in {category}" if category else "one of our best sellers"


class Trending(Recommender):
    """What is being bought now: interactions weighted with a one-week half-life (ties broken by popularity)."""

    name = "trending"

    def fit(self, data: InteractionMatrix) -> Trending:
        super().fit(data)
        assert data.trend is not None
        popularity = buyer_counts(data)
        tie_break = popularity / max(float(popularity.max(initial=0.0)), 1.0) * 1e-3
        self.trend = data.trend.astype(np.float32) + tie_break
        return self

    def scores(self, history: History) -> np.ndarray:
        return self.trend

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        column = self.data.item_index.get(item)
        category = self.data.categories[column] if column is not None else ""
        return f"popular in {category} this week" if category else "popular this week"


class SegmentPopularity(Recommender):
    """Best sellers among customers of the user's segment (country, loyalty tier); everyone else gets global."""

    name = "segment_popularity"

    def __init__(self, min_users: int = 5) -> None:
        self.min_users = min_users

    def fit(self, data: InteractionMatrix) -> SegmentPopularity:
        super().fit(data)
        self.overall = buyer_counts(data)
        binary = data.matrix.copy()
        binary.data[:] = 1.0
        self.by_segment: dict[str, np.ndarray] = {}
        members: dict[str, list[int]] = {}
        for user, segment in data.segments.items():
            members.setdefault(segment, []).append(data.user_index[user])
        for segment, rows in members.items():
            if len(rows) >= self.min_users:
                counts = np.asarray(binary[rows].sum(axis=0)).ravel().astype(np.float32)
                self.by_segment[segment] = counts + self.overall / max(float(self.overall.max(initial=0.0)), 1.0) * 1e-3
        return self

    def _segment(self, history: History) -> str | None:
        if history.row is None:
            return None
        segment = self.data.segments.get(self.data.users[history.row])
        return segment if segment in self.by_segment else None

    def scores(self, history: History) -> np.ndarray:
        segment = self._segment(history)
        return self.by_segment[segment] if segment is not None else self.overall

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        segment = self._segment(self.history(user, session))
        return f"popular with customers in {segment}" if segment else "one of our best sellers"
