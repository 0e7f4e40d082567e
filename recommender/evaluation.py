"""Offline evaluation: split by time, then ranking metrics and beyond-accuracy measures."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.base import Recommender, normalise_rows
from recommender.interactions import InteractionMatrix

KS = (5, 10, 20)


@dataclass(frozen=True)
class Window:
    """What each evaluated user bought in a later period (items new to them only)."""

    truth: dict[str, set[str]]


def holdout(train: InteractionMatrix, later_purchases: Iterable[tuple[str, str]]) -> Window:
    """Ground truth per user known in training: items bought later that they had not had before."""
    truth: dict[str, set[str]] = {}
    for user, item in later_purchases:
        if user not in train.user_index or item not in train.item_index:
            continue
        if train.item_index[item] in train.seen(user):
            continue
        truth.setdefault(user, set()).add(item)
    return Window(truth)


def _ndcg(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def _average_precision(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    hits, total = 0, 0.0
    for i, item in enumerate(ranked[:k]):
        if item in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / min(len(relevant), k) if relevant else 0.0


def intra_list_diversity(columns: Sequence[int], unit_vectors: np.ndarray) -> float:
    """Mean pairwise (1 - cosine) of a list's items: 0 when all alike, higher when varied."""
    if len(columns) < 2:
        return 0.0
    vectors = unit_vectors[list(columns)]
    similarity = vectors @ vectors.T
    n = len(columns)
    return float((n * n - similarity.sum()) / (n * (n - 1)))  # the diagonal adds n ones, (1 - 1) = 0


def item_unit_vectors(train: InteractionMatrix, item_vectors: np.ndarray | None) -> np.ndarray:
    """Unit vectors per item column: content embeddings when given, else who-bought-it columns."""
    if item_vectors is not None:
        norms = np.linalg.norm(item_vectors, axis=1)
        return item_vectors / np.where(norms > 0, norms, 1.0)[:, None]
    return np.asarray(normalise_rows(train.matrix.T.tocsr()).todense(), dtype=np.float32)


def evaluate(
    model: Recommender,
    train: InteractionMatrix,
    window: Window,
    ks: Sequence[int] = KS,
    item_vectors: np.ndarray | None = None,
) -> dict[str, float]:
    """Rank for every user of the window with the model, then `score_rankings`."""
    rankings = {user: [item for item, _ in model.recommend(user, max(ks))] for user in window.truth}
    return score_rankings(rankings, train, window, ks, item_vectors)


def score_rankings(
    rankings: dict[str, list[str]],
    train: InteractionMatrix,
    window: Window,
    ks: Sequence[int] = KS,
    item_vectors: np.ndarray | None = None,
) -> dict[str, float]:
    """Precision, recall, NDCG, MAP and hit rate at each k; coverage, novelty, diversity, popularity bias at max k.

    Novelty is the mean self-information -log2(share of users who had the item); diversity the
    intra-list diversity over `item_vectors` (aligned with train.items; None: co-purchase columns);
    popularity bias the mean popularity percentile of recommended items (1.0 = only best sellers).
    """
    top_k = max(ks)
    popularity = np.asarray((train.matrix > 0).sum(axis=0)).ravel().astype(np.float64)
    share = popularity / max(train.matrix.shape[0], 1)
    percentile = popularity.argsort().argsort() / max(len(popularity) - 1, 1)
    units = item_unit_vectors(train, item_vectors) if rankings else np.zeros((0, 0))
    metrics: dict[str, list[float]] = {}
    recommended: set[str] = set()
    novelty, bias, diversity = [], [], []
    for user, relevant in window.truth.items():
        ranked = rankings.get(user, [])[:top_k]
        recommended.update(ranked)
        for k in ks:
            hits = len(set(ranked[:k]) & relevant)
            metrics.setdefault(f"precision@{k}", []).append(hits / k)
            metrics.setdefault(f"recall@{k}", []).append(hits / len(relevant))
            metrics.setdefault(f"ndcg@{k}", []).append(_ndcg(ranked, relevant, k))
            metrics.setdefault(f"map@{k}", []).append(_average_precision(ranked, relevant, k))
            metrics.setdefault(f"hitrate@{k}", []).append(1.0 if hits else 0.0)
        columns = [train.item_index[i] for i in ranked]
        novelty.append(statistics.fmean(-math.log2(max(share[c], 1e-9)) for c in columns) if columns else 0.0)
        bias.append(statistics.fmean(percentile[c] for c in columns) if columns else 0.0)
        diversity.append(intra_list_diversity(columns, units))
    result = {name: round(statistics.fmean(values), 4) for name, values in metrics.items()}
    result[f"coverage@{top_k}"] = round(len(recommended) / max(len(train.items), 1), 4)
    result[f"novelty@{top_k}"] = round(statistics.fmean(novelty), 3) if novelty else 0.0
    result[f"diversity@{top_k}"] = round(statistics.fmean(diversity), 4) if diversity else 0.0
    result[f"popularity_percentile@{top_k}"] = round(statistics.fmean(bias), 4) if bias else 0.0
    result["users"] = len(window.truth)
    return result
