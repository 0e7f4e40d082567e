"""The learned re-ranker: learned from past months, applied to models fitted on everything."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from recommender.bundle import fit_bundle
from recommender.evaluation import holdout
from recommender.interactions import Event, ItemInfo, build_matrix
from recommender.reranker import Reranked

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
TASTES = {"run": [f"run{n}" for n in range(12)], "cook": [f"cook{n}" for n in range(12)]}
INFO = {item: ItemInfo(title=item, category=taste) for taste, items in TASTES.items() for item in items}


def shop(users: int = 160) -> list[Event]:
    """Customers buy within their taste, a few items a month over three months."""
    rng = random.Random(3)
    events = []
    for n in range(users):
        taste = TASTES["run" if n % 2 else "cook"]
        for month in range(3):
            for item in rng.sample(taste, 2):
                at = NOW - dt.timedelta(days=90 - 30 * month - rng.randrange(0, 29))
                events.append(Event(f"u{n}", item, "purchased", at, basket=f"o{n}-{month}"))
    return events


def windows(events: list[Event]):  # type: ignore[no-untyped-def]
    out = []
    for back in (2, 1):
        start = NOW - dt.timedelta(days=30 * back)
        past = build_matrix([e for e in events if e.at < start], now=start, items=sorted(INFO), info=INFO)
        later = [(e.user, e.item) for e in events if start <= e.at < start + dt.timedelta(days=30)]
        out.append((past, holdout(past, later)))
    return out


def test_the_reranker_is_learned_and_follows_taste() -> None:
    events = shop()
    data = build_matrix(events, now=NOW, items=sorted(INFO), info=INFO)
    messages: list[str] = []
    bundle = fit_bundle(data, {}, progress=messages.append, history=windows(events))
    assert isinstance(bundle.reranked, Reranked) and bundle.ranker is bundle.reranked
    assert any("learning from the past windows" in m for m in messages) and "reranker" in bundle.fit_seconds
    runner = "u1"
    top = bundle.ranker.recommend(runner, 5)
    assert len(top) == 5 and all(item.startswith("run") for item, _ in top)
    assert not {item for item, _ in top} & {data.items[c] for c in data.seen(runner)}
    assert bundle.ranker.explain(runner, top[0][0])
    assert bundle.ranker.recommend(None, 3, session=["cook1"])[0][0].startswith("cook")
    assert len(bundle.ranker.recommend("stranger", 3)) == 3  # cold start: trending and best sellers


def test_too_little_history_serves_the_weighted_hybrid() -> None:
    events = shop(users=4)
    data = build_matrix(events, now=NOW, items=sorted(INFO), info=INFO)
    messages: list[str] = []
    bundle = fit_bundle(data, {}, progress=messages.append, history=windows(events))
    assert bundle.reranked is None and bundle.ranker is bundle.hybrid
    assert any("too few later purchases" in m for m in messages)


def test_the_compiled_forest_matches_scikit_learn() -> None:
    from recommender.reranker import CompiledForest

    events = shop()
    data = build_matrix(events, now=NOW, items=sorted(INFO), info=INFO)
    reranked = fit_bundle(data, {}, history=windows(events)).reranked
    assert reranked is not None
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, reranked.classifier.n_features_in_)) * 2  # type: ignore[attr-defined]
    features[::17, 3] = np.nan  # missing values follow the trees' learned direction
    expected = reranked.classifier.predict_proba(features)[:, 1]  # type: ignore[attr-defined]
    assert np.allclose(CompiledForest(reranked.classifier).probability(features), expected, atol=1e-9)
