"""The set of models the shop serves, fitted together: the hybrid, its parts, and the also-bought rules."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from recommender.associations import AssociationRules
from recommender.base import Recommender
from recommender.content import ContentBased
from recommender.evaluation import Window
from recommender.factorisation import ALS, BPR
from recommender.hybrid import Hybrid
from recommender.interactions import InteractionMatrix
from recommender.neighbours import ItemKNN, UserKNN
from recommender.popularity import SegmentPopularity, Trending
from recommender.reranker import FEATURES, Reranked, RerankerConfig, learn_reranker

# Chosen by `make bench-recommender` on the June and July 2011 validation windows of UCI Online Retail.
DEFAULT_WEIGHTS = {
    "item_knn": 1.0,
    "user_knn": 0.0,
    "als": 0.25,
    "bpr": 0.25,
    "content": 0.5,
    "association": 0.0,
    "trending": 1.0,
    "segment_popularity": 0.0,
}


@dataclass(frozen=True)
class BundleConfig:
    """Hyperparameters of every served model and the hybrid's weights."""

    half_life_days: float | None = 90.0
    item_neighbours: int = 200
    item_weighting: str = "bm25"
    user_neighbours: int = 100
    als_factors: int = 64
    bpr_factors: int = 128
    min_support: float = 0.005
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    reranker: RerankerConfig = field(default_factory=RerankerConfig)

    def as_dict(self) -> dict[str, Any]:
        """For manifests and reports."""
        return asdict(self)


def make_part(name: str, config: BundleConfig, embeddings: Mapping[str, np.ndarray]) -> Recommender:
    """One model of the bundle, unfitted."""
    makers: dict[str, Callable[[], Recommender]] = {
        "item_knn": lambda: ItemKNN(config.item_neighbours, config.item_weighting),
        "user_knn": lambda: UserKNN(config.user_neighbours),
        "als": lambda: ALS(config.als_factors),
        "bpr": lambda: BPR(config.bpr_factors),
        "content": lambda: ContentBased(embeddings),
        "association": lambda: AssociationRules(config.min_support),
        "trending": Trending,
        "segment_popularity": SegmentPopularity,
    }
    if name not in makers:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(makers)}")
    return makers[name]()


@dataclass
class Bundle:
    """What serving needs: the ranker, the also-bought rules and more-like-this by content.

    The ranker is the learned re-ranker when there was enough history to learn it, else the
    weighted hybrid.
    """

    hybrid: Hybrid
    associations: AssociationRules
    content: ContentBased
    config: BundleConfig
    fit_seconds: dict[str, float]
    reranked: Reranked | None = None

    @property
    def ranker(self) -> Hybrid:
        """The model that answers recommendation requests."""
        return self.reranked if self.reranked is not None else self.hybrid


def fit_parts(
    names: Sequence[str],
    data: InteractionMatrix,
    embeddings: Mapping[str, np.ndarray],
    config: BundleConfig,
    progress: Callable[[str], None] = lambda message: None,
    seconds: dict[str, float] | None = None,
) -> dict[str, Recommender]:
    """Fit the named models on one matrix."""
    fitted: dict[str, Recommender] = {}
    for step, name in enumerate(names, start=1):
        progress(f"[{step}/{len(names)}] fitting {name}")
        started = time.perf_counter()
        fitted[name] = make_part(name, config, embeddings).fit(data)
        if seconds is not None:
            seconds[name] = round(time.perf_counter() - started, 3)
    return fitted


def fit_bundle(
    data: InteractionMatrix,
    embeddings: Mapping[str, np.ndarray],
    config: BundleConfig | None = None,
    progress: Callable[[str], None] = lambda message: None,
    history: Sequence[tuple[InteractionMatrix, Window]] = (),
) -> Bundle:
    """Fit every model the shop serves, reporting each step through `progress`.

    `history` holds labelled windows (the matrix before a cut-off, the new purchases after it);
    with them, the re-ranker is learned from the models fitted on each window.
    """
    config = config or BundleConfig()
    names = list(dict.fromkeys([n for n, w in config.weights.items() if w] + ["association", "content"]))
    if history:
        names = list(dict.fromkeys([*names, *FEATURES]))
    seconds: dict[str, float] = {}
    fitted = fit_parts(names, data, embeddings, config, progress, seconds)
    hybrid = Hybrid({n: (w, fitted[n]) for n, w in config.weights.items() if w}).fit(data)
    associations = fitted["association"]
    content = fitted["content"]
    assert isinstance(associations, AssociationRules) and isinstance(content, ContentBased)
    reranked: Reranked | None = None
    if history:
        started = time.perf_counter()
        windows = []
        for number, (past, window) in enumerate(history, start=1):
            progress(f"re-ranker: models of past window {number}/{len(history)} ({len(window.truth)} buyers)")
            windows.append((fit_parts(FEATURES, past, embeddings, config), past, window))
        progress("re-ranker: learning from the past windows")
        classifier = learn_reranker(windows, config.reranker)
        if classifier is None:
            progress("re-ranker: too few later purchases to learn from; serving the weighted hybrid")
        else:
            reranked = Reranked({n: fitted[n] for n in FEATURES}, classifier, config.reranker)
            reranked.fit(data)
        seconds["reranker"] = round(time.perf_counter() - started, 3)
    return Bundle(hybrid, associations, content, config, seconds, reranked)
