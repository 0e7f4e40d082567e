"""A learned re-ranker over the other models' candidates (gradient-boosted trees, scikit-learn).

Each model proposes its best items; for every (person, candidate) the features are each model's
scaled score and rank, the item's popularity and the length of the person's history. The
classifier learns, from past months, which candidates people went on to buy: it is fitted on
labelled windows (models trained before a cut-off, labels = new purchases in the month after it),
then applied to models trained on everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender.base import History, Recommender, scaled
from recommender.evaluation import Window
from recommender.hybrid import Hybrid
from recommender.interactions import InteractionMatrix

# Models whose top items are the candidates, and models whose scores are features.
GENERATORS = ("item_knn", "user_knn", "als", "association", "trending")
FEATURES = ("item_knn", "user_knn", "als", "bpr", "content", "association", "trending", "segment_popularity")


@dataclass(frozen=True)
class RerankerConfig:
    """Candidates per generator and the trees' settings."""

    candidates: int = 50
    iterations: int = 100
    learning_rate: float = 0.05
    leaves: int = 15
    l2: float = 1.0


def candidate_features(
    parts: Mapping[str, Recommender], history: History, data: InteractionMatrix, per_generator: int
) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' columns and their feature rows (the same in training and serving)."""
    seen = history.columns
    scores = {name: scaled(parts[name].scores(history), seen) for name in FEATURES}
    candidates: set[int] = set()
    for name in GENERATORS:
        values = scores[name].astype(np.float64, copy=True)
        values[seen] = -np.inf
        k = min(per_generator, len(values) - 1)
        if k > 0:
            top = np.argpartition(-values, k)[:k]
            candidates.update(int(c) for c in top if np.isfinite(values[c]))
    columns = np.asarray(sorted(candidates), dtype=np.int64)
    features = []
    for name in FEATURES:
        values = scores[name][columns]
        order = np.argsort(-values, kind="stable")
        ranks = np.empty(len(columns))
        ranks[order] = np.arange(len(columns))
        features += [values, np.log1p(ranks)]
    buyers = np.asarray(data.matrix[:, columns].getnnz(axis=0), dtype=np.float64)
    features += [np.log1p(buyers), np.full(len(columns), np.log1p(len(seen)))]
    return columns, np.column_stack(features).astype(np.float32) if len(columns) else np.zeros(
        (0, 2 * len(FEATURES) + 2)
    )


def learn_reranker(
    windows: Sequence[tuple[Mapping[str, Recommender], InteractionMatrix, Window]],
    config: RerankerConfig = RerankerConfig(),
) -> Any:
    """Fit the classifier on labelled windows (fitted models, their matrix, what was bought next).

    Returns the fitted classifier, or None when the windows hold too few purchases to learn from.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    rows, labels = [], []
    for parts, data, window in windows:
        any_part = parts[FEATURES[0]]
        for user, bought in window.truth.items():
            columns, features = candidate_features(parts, any_part.history(user), data, config.candidates)
            truth = {data.item_index[item] for item in bought}
            rows.append(features)
            labels.append(np.asarray([c in truth for c in columns.tolist()]))
    positives = int(sum(label.sum() for label in labels))
    if positives < 20 or not rows:
        return None
    classifier = HistGradientBoostingClassifier(
        max_iter=config.iterations,
        learning_rate=config.learning_rate,
        max_leaf_nodes=config.leaves,
        l2_regularization=config.l2,
        random_state=1,
    )
    classifier.fit(np.vstack(rows), np.concatenate(labels))
    return classifier


class CompiledForest:
    """The fitted trees as flat node arrays, evaluated for all rows and trees at once with numpy.

    scikit-learn's own predict walks the trees one by one (about 6 ms for 100 trees and 150
    candidates); stepping every (row, tree) pair down one level per numpy operation gives the
    same probabilities in about a millisecond. Nodes of all trees share one numbering; a leaf
    points to itself, so finished walks stay put.
    """

    def __init__(self, classifier: Any) -> None:
        trees = [predictors[0].nodes for predictors in classifier._predictors]
        offsets = np.cumsum([0] + [len(nodes) for nodes in trees])
        nodes = np.concatenate(trees)
        own = np.arange(len(nodes))
        shift = np.repeat(offsets[:-1], [len(t) for t in trees])
        leaf = nodes["is_leaf"].astype(bool)
        self.feature = np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64)
        self.threshold = nodes["num_threshold"].astype(np.float64)
        self.left = np.where(leaf, own, nodes["left"].astype(np.int64) + shift)
        self.right = np.where(leaf, own, nodes["right"].astype(np.int64) + shift)
        self.missing_left = nodes["missing_go_to_left"].astype(bool)
        self.value = nodes["value"].astype(np.float64)
        self.leaf = leaf
        self.roots = offsets[:-1].astype(np.int64)
        self.depth = int(nodes["depth"].max())
        self.baseline = float(np.ravel(classifier._baseline_prediction)[0])

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(bought) for each row."""
        n_rows, n_features = features.shape
        flat = np.ascontiguousarray(features, dtype=np.float64).ravel()
        row_start = (np.arange(n_rows, dtype=np.int64) * n_features)[:, None]
        nodes = np.broadcast_to(self.roots, (n_rows, len(self.roots))).copy()
        for _ in range(self.depth):
            values = flat.take(row_start + self.feature.take(nodes))
            go_left = values <= self.threshold.take(nodes)
            missing = np.isnan(values)
            if missing.any():
                go_left |= missing & self.missing_left.take(nodes)
            nodes = np.where(go_left, self.left.take(nodes), self.right.take(nodes))
            if self.leaf.take(nodes).all():
                break
        raw = self.baseline + self.value.take(nodes).sum(axis=1)
        return np.asarray(1.0 / (1.0 + np.exp(-raw)))


class Reranked(Hybrid):
    """The re-ranker applied to models fitted on all the data; cold start and explanations as the hybrid's."""

    name = "reranked"

    def __init__(self, parts: Mapping[str, Recommender], classifier: object, config: RerankerConfig) -> None:
        super().__init__({name: (1.0, part) for name, part in parts.items()})
        self.classifier, self.config = classifier, config
        self.forest = CompiledForest(classifier)

    def scores(self, history: History) -> np.ndarray:
        if history.empty:
            return super().scores(history)
        parts = {name: part for name, (_, part) in self.parts.items()}
        columns, features = candidate_features(parts, history, self.data, self.config.candidates)
        scores = np.zeros(len(self.data.items), dtype=np.float64)
        if len(columns):
            scores[columns] = self.forest.probability(features) + 1e-9  # every candidate ranks above the rest
        return scores
