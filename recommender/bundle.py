"""The set of models the shop serves, fitted together: the hybrid, its parts, and the also-bought rules."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from recommender.associations import AssociationRules
from recommender.base import Recommender
from recommender.content import ContentBased
from recommender.factorisation import ALS, BPR
from recommender.hybrid import Hybrid
from recommender.interactions import InteractionMatrix
from recommender.neighbours import ItemKNN, UserKNN
from recommender.popularity import SegmentPopularity, Trending

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
    """What serving needs: the hybrid, the also-bought rules and more-like-this by content."""

    hybrid: Hybrid
    associations: AssociationRules
    content: ContentBased
    config: BundleConfig
    fit_seconds: dict[str, float]


def fit_bundle(
    data: InteractionMatrix,
    embeddings: Mapping[str, np.ndarray],
    config: BundleConfig | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Bundle:
    """Fit every model the shop serves, reporting each step through `progress`."""
    config = config or BundleConfig()
    names = [n for n, w in config.weights.items() if w] + ["association", "content"]
    fitted: dict[str, Recommender] = {}
    seconds: dict[str, float] = {}
    for step, name in enumerate(dict.fromkeys(names), start=1):
        progress(f"[{step}/{len(set(names))}] fitting {name}")
        started = time.perf_counter()
        fitted[name] = make_part(name, config, embeddings).fit(data)
        seconds[name] = round(time.perf_counter() - started, 3)
    hybrid = Hybrid({n: (w, fitted[n]) for n, w in config.weights.items() if w}).fit(data)
    associations = fitted["association"]
    content = fitted["content"]
    assert isinstance(associations, AssociationRules) and isinstance(content, ContentBased)
    return Bundle(hybrid, associations, content, config, seconds)
