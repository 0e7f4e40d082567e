"""The hybrid: a weighted blend of the other models, each scaled to [0, 1], with explicit cold-start paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from recommender.base import History, Recommender, scaled
from recommender.interactions import InteractionMatrix
from recommender.popularity import Popularity, Trending

# Someone we know nothing about (no history, no session) sees what sells now and what sells overall.
COLD_START_WEIGHTS = {"trending": 1.0, "popularity": 1.0}


class Hybrid(Recommender):
    """sum_m weight_m * scores_m / max(scores_m) over the parts; explanations come from the part that counted most.

    The maximum is taken over the items the person does not have yet (the candidates).

    Parts already fitted on the same matrix are reused (the benchmark tunes weights without refitting).
    A new user with a session is scored by the parts from the session's items; a new item (no
    interactions) can only score through the parts that read content, so it keeps its chance.
    """

    name = "hybrid"

    def __init__(self, parts: Mapping[str, tuple[float, Recommender]]) -> None:
        self.parts = dict(parts)

    def fit(self, data: InteractionMatrix) -> Hybrid:
        super().fit(data)
        for _, part in self.parts.values():
            if getattr(part, "data", None) is not data:
                part.fit(data)
        self.cold = {
            "trending": Trending().fit(data),
            "popularity": Popularity().fit(data),
        }
        return self

    def contributions(self, history: History) -> dict[str, np.ndarray]:
        """Each part's weighted, scaled scores."""
        if history.empty:
            return {name: w * scaled(self.cold[name].scores(history)) for name, w in COLD_START_WEIGHTS.items()}
        seen = history.columns
        return {name: w * scaled(part.scores(history), seen) for name, (w, part) in self.parts.items() if w}

    def scores(self, history: History) -> np.ndarray:
        blended = np.zeros(len(self.data.items), dtype=np.float64)
        for contribution in self.contributions(history).values():
            blended += contribution
        return blended

    def part(self, name: str) -> Recommender:
        """One of the blended models (or a cold-start one)."""
        return self.parts[name][1] if name in self.parts else self.cold[name]

    def explain(self, user: str | None, item: str, session: Sequence[str] = ()) -> str:
        return self.explanations(user, [item], session)[item]

    def explanations(self, user: str | None, items: Sequence[str], session: Sequence[str] = ()) -> dict[str, str]:
        """Why each item is recommended: the reason of the part that counted most for it.

        The parts' scores are computed once for all items (a list of k suggestions costs one scoring).
        """
        contributions = self.contributions(self.history(user, session))
        out = {}
        for item in items:
            column = self.data.item_index.get(item)
            if column is None or not contributions:
                out[item] = "recommended for you"
                continue
            strongest = max(contributions, key=lambda name: float(contributions[name][column]))
            out[item] = self.part(strongest).explain(user, item, session)
        return out
