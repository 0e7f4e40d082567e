"""`make bench-recommender`: every model side by side on UCI Online Retail, split by time.

Purchases are cleaned by the store's importer rules (orders are invoices, segments are countries,
item text is the product description, embedded by the same MiniLM model as the catalog).
Each model's hyperparameters are chosen on the validation window (train before 2011-07-01, validate
on July), the hybrid's weights on June and July together; the chosen settings are refitted on
everything before August and evaluated on August.
The learned re-ranker is trained on the two months before its target month (May and June for
July, June and July for August).
Figures go to reports/recommender.json, a chart to reports/recommender.png.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from datafiles import read_records
from recommender.associations import AssociationRules
from recommender.base import Recommender, scaled
from recommender.bundle import Bundle, BundleConfig, fit_bundle, fit_parts
from recommender.content import ContentBased
from recommender.evaluation import Window, evaluate, holdout
from recommender.factorisation import ALS, BPR
from recommender.interactions import Event, InteractionMatrix, ItemInfo, build_matrix
from recommender.neighbours import ItemKNN, UserKNN
from recommender.popularity import Popularity, SegmentPopularity, Trending
from recommender.reranker import FEATURES, Reranked, RerankerConfig, learn_reranker
from settings import PROJECT_ROOT, load_settings
from store.importers import ImportReport
from store.importers.online_retail import clean_lines

ONLINE_RETAIL = PROJECT_ROOT.parent / "shared" / "data" / "online_retail" / "online_retail_2010-12_to_2011-08.csv.gz"
EARLY_VALIDATION_START = dt.datetime(2011, 6, 1, tzinfo=dt.UTC)
VALIDATION_START = dt.datetime(2011, 7, 1, tzinfo=dt.UTC)
TEST_START = dt.datetime(2011, 8, 1, tzinfo=dt.UTC)
TEST_END = dt.datetime(2011, 9, 1, tzinfo=dt.UTC)
HALF_LIVES: tuple[float | None, ...] = (None, 90.0)
WEIGHT_STEPS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
RERANKER_GRID = (RerankerConfig(iterations=200, leaves=31, l2=0.0), RerankerConfig(iterations=100, leaves=15, l2=1.0))
BLENDED = ("item_knn", "user_knn", "als", "bpr", "content", "association", "trending", "segment_popularity")


@dataclass(frozen=True)
class Retail:
    """The cleaned data set: purchase events, each customer's country, each item's description."""

    events: list[Event]
    segments: dict[str, str]
    info: dict[str, ItemInfo]


@dataclass(frozen=True)
class Setting:
    """One point of a model's hyperparameter grid."""

    model: str
    label: str
    make: Callable[[], Recommender]
    half_life: float | None = None
    params: tuple[tuple[str, Any], ...] = ()


def load_retail(path: Path) -> Retail:
    """Purchase events of the file, cleaned by the store's Online Retail rules."""
    report = ImportReport(source=str(path))
    events: list[Event] = []
    segments: dict[str, str] = {}
    info: dict[str, ItemInfo] = {}
    for line in clean_lines(read_records(path), report):
        events.append(
            Event(line.customer, line.stock_code, "purchased", line.invoiced_at, line.quantity, basket=line.invoice)
        )
        segments[line.customer] = line.country
        info.setdefault(line.stock_code, ItemInfo(title=line.description.lower()))
    return Retail(events, segments, info)


def item_embeddings(info: dict[str, ItemInfo], cache_dir: Path) -> tuple[dict[str, np.ndarray], float]:
    """MiniLM vectors of the item descriptions (cached by content); returns them and the seconds spent."""
    items = sorted(info)
    texts = [info[it].title for it in items]
    key = hashlib.sha256("\n".join(f"{i}\t{t}" for i, t in zip(items, texts, strict=True)).encode()).hexdigest()[:16]
    cache = cache_dir / f"online-retail-embeddings-{key}.npy"
    started = time.perf_counter()
    if cache.is_file():
        vectors = np.load(cache)
    else:
        from catalog.embeddings import encode

        print(f"embedding {len(texts)} item descriptions (cached afterwards in {cache.parent})")
        vectors = encode(texts, show_progress=True, batch_size=128)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    return dict(zip(items, vectors, strict=True)), time.perf_counter() - started


def split(
    retail: Retail, start: dt.datetime, end: dt.datetime, half_life: float | None
) -> tuple[InteractionMatrix, list[tuple[str, str]]]:
    """Training matrix before `start`, and the (user, item) purchases in [start, end)."""
    train = build_matrix(
        (e for e in retail.events if e.at < start),
        now=start,
        half_life_days=half_life,
        segments=retail.segments,
        info=retail.info,
    )
    return train, [(e.user, e.item) for e in retail.events if start <= e.at < end]


def grid(embeddings: dict[str, np.ndarray]) -> list[Setting]:
    """Every single model's hyperparameter grid (tuned on the validation window only)."""
    settings = [
        Setting("popularity", "popularity", Popularity),
        Setting("trending", "trending", Trending),
        Setting("segment_popularity", "segment_popularity (country)", SegmentPopularity),
        Setting("content", "content (MiniLM descriptions)", partial(ContentBased, embeddings)),
    ]
    settings += [
        Setting("item_knn", f"item_knn k={n} {w}", partial(ItemKNN, n, w), params=(("neighbours", n), ("weighting", w)))
        for n in (20, 50, 100, 200)
        for w in ("none", "tfidf", "bm25")
    ]
    settings += [
        Setting("user_knn", f"user_knn k={n}", partial(UserKNN, n), params=(("neighbours", n),)) for n in (20, 50, 100)
    ]
    settings += [Setting("als", f"als factors={f}", partial(ALS, f), params=(("factors", f),)) for f in (32, 64, 128)]
    settings += [Setting("bpr", f"bpr factors={f}", partial(BPR, f), params=(("factors", f),)) for f in (32, 64, 128)]
    settings += [
        Setting("association", f"association min_support={s}", partial(AssociationRules, s), params=(("support", s),))
        for s in (0.002, 0.005, 0.01)
    ]
    return [replace(s, label=f"{s.label} half-life={h}", half_life=h) for s in settings for h in HALF_LIVES]


def config_from(chosen: dict[str, Setting], weights: dict[str, float], half_life: float | None) -> BundleConfig:
    """The serving configuration that the tuned settings describe."""
    params = {name: dict(setting.params) for name, setting in chosen.items()}
    return BundleConfig(
        half_life_days=half_life,
        item_neighbours=params["item_knn"]["neighbours"],
        item_weighting=params["item_knn"]["weighting"],
        user_neighbours=params["user_knn"]["neighbours"],
        als_factors=params["als"]["factors"],
        bpr_factors=params["bpr"]["factors"],
        min_support=params["association"]["support"],
        weights=weights,
    )


class BlendSearch:
    """Coordinate ascent over the hybrid's weights, on scores cached per validation user and part."""

    def __init__(self, parts: dict[str, Recommender], train: InteractionMatrix, window: Window) -> None:
        self.users = list(window.truth)
        self.truth = [{train.item_index[i] for i in window.truth[u]} for u in self.users]
        self.names = list(parts)
        histories = [next(iter(parts.values())).history(u) for u in self.users]
        self.scores = np.stack(
            [
                np.stack([scaled(parts[n].scores(h), h.columns).astype(np.float32) for h in histories])
                for n in self.names
            ]
        )  # parts x users x items
        self.seen = [h.columns for h in histories]

    def ndcg10(self, weights: dict[str, float]) -> float:
        """Validation NDCG@10 of one weighting."""
        vector = np.asarray([weights.get(n, 0.0) for n in self.names], dtype=np.float32)
        blended = np.tensordot(vector, self.scores, axes=1)
        total = 0.0
        for row, (seen, relevant) in enumerate(zip(self.seen, self.truth, strict=True)):
            scores = blended[row]
            scores[seen] = -np.inf
            top = np.argpartition(-scores, 10)[:10]
            top = top[np.argsort(-scores[top], kind="stable")]
            dcg = sum(1.0 / np.log2(i + 2) for i, c in enumerate(top) if c in relevant)
            ideal = sum(1.0 / np.log2(i + 2) for i in range(min(len(relevant), 10)))
            total += dcg / ideal
        return total / max(len(self.users), 1)

    def search(self, start: str, passes: int = 2) -> tuple[dict[str, float], float]:
        """From the best single part alone, change one weight at a time while NDCG@10 improves."""
        weights = {n: (1.0 if n == start else 0.0) for n in self.names}
        best = self.ndcg10(weights)
        for _ in range(passes):
            for name in self.names:
                for step in WEIGHT_STEPS:
                    trial = {**weights, name: step}
                    if trial == weights:
                        continue
                    value = self.ndcg10(trial)
                    if value > best + 1e-6:
                        weights, best = trial, value
        return weights, best


class JointSearch(BlendSearch):
    """The blend search over several validation windows at once: the mean NDCG@10 of the windows."""

    def __init__(self, searches: list[BlendSearch]) -> None:
        self.searches, self.names = searches, searches[0].names

    def ndcg10(self, weights: dict[str, float]) -> float:
        return float(np.mean([search.ndcg10(weights) for search in self.searches]))


def tune(retail: Retail, embeddings: dict[str, np.ndarray]) -> tuple[dict[str, Any], dict[str, Setting], BundleConfig]:
    """Validation: every grid point on July, then the hybrid's weights on June and July together.

    Weights tuned on one month chase that month (July's best sellers); averaging two windows
    gives weights that hold up a month later.
    """
    splits = {h: split(retail, VALIDATION_START, TEST_START, h) for h in HALF_LIVES}
    windows = {h: holdout(train, later) for h, (train, later) in splits.items()}
    validation: dict[str, float] = {}
    best: dict[tuple[str, float | None], tuple[Setting, float, Recommender]] = {}
    for setting in grid(embeddings):
        train, _ = splits[setting.half_life]
        model = setting.make().fit(train)
        ndcg = evaluate(model, train, windows[setting.half_life], ks=(10,))["ndcg@10"]
        validation[setting.label] = ndcg
        print(f"  validation ndcg@10 {ndcg:.4f}  {setting.label}", flush=True)
        key = (setting.model, setting.half_life)
        if key not in best or ndcg > best[key][1]:
            best[key] = (setting, ndcg, model)
    chosen: dict[str, Setting] = {}
    for model_name in {m for m, _ in best}:
        chosen[model_name] = max((v for (m, _), v in best.items() if m == model_name), key=lambda v: v[1])[0]
    blends: dict[str, Any] = {}
    best_blend: tuple[float, BundleConfig] | None = None
    for half_life in HALF_LIVES:
        tuned = {name: best[(name, half_life)][0] for name in BLENDED}
        searches = [
            BlendSearch({n: best[(n, half_life)][2] for n in BLENDED}, *splits[half_life][:1], windows[half_life])
        ]
        june_train, june_later = split(retail, EARLY_VALIDATION_START, VALIDATION_START, half_life)
        june_parts = {name: tuned[name].make().fit(june_train) for name in BLENDED}
        searches.append(BlendSearch(june_parts, june_train, holdout(june_train, june_later)))
        start = max(BLENDED, key=lambda name: best[(name, half_life)][1])
        weights, ndcg = JointSearch(searches).search(start)
        blends[f"half-life={half_life}"] = {"weights": weights, "ndcg@10 (June and July)": round(ndcg, 4)}
        print(f"  validation ndcg@10 {ndcg:.4f}  hybrid half-life={half_life} weights={weights}", flush=True)
        if best_blend is None or ndcg > best_blend[0]:
            best_blend = (ndcg, config_from(tuned, weights, half_life))
    assert best_blend is not None
    config = best_blend[1]
    reranker, reranker_figures = tune_reranker(retail, embeddings, config)
    return (
        {"singles": validation, "hybrid": blends, "reranked": reranker_figures},
        chosen,
        replace(config, reranker=reranker),
    )


def past_windows(
    retail: Retail, before: dt.datetime, half_life: float | None, months: int = 2
) -> list[tuple[InteractionMatrix, Window]]:
    """The re-ranker's labelled windows: for each of the `months` months before `before`, the
    matrix before that month and the new purchases in it."""
    out = []
    for back in range(months, 0, -1):
        start, end = _month(before, -back), _month(before, -back + 1)
        train, later = split(retail, start, end, half_life)
        out.append((train, holdout(train, later)))
    return out


def _month(day: dt.datetime, offset: int) -> dt.datetime:
    index = day.year * 12 + day.month - 1 + offset
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def tune_reranker(
    retail: Retail, embeddings: dict[str, np.ndarray], config: BundleConfig
) -> tuple[RerankerConfig, dict[str, float]]:
    """Learn the re-ranker on May and June, evaluate on July; the best settings win."""
    half_life = config.half_life_days
    history = [
        (fit_parts(FEATURES, past, embeddings, config), past, window)
        for past, window in past_windows(retail, VALIDATION_START, half_life)
    ]
    train, later = split(retail, VALIDATION_START, TEST_START, half_life)
    parts = fit_parts(FEATURES, train, embeddings, config)
    figures: dict[str, float] = {}
    best: tuple[float, RerankerConfig] | None = None
    for candidate in RERANKER_GRID:
        classifier = learn_reranker(history, candidate)
        if classifier is None:
            continue
        model = Reranked(parts, classifier, candidate).fit(train)
        ndcg = evaluate(model, train, holdout(train, later), ks=(10,))["ndcg@10"]
        label = f"reranked {candidate}"
        figures[label] = ndcg
        print(f"  validation ndcg@10 {ndcg:.4f}  {label} (learned on May and June)", flush=True)
        if best is None or ndcg > best[0]:
            best = (ndcg, candidate)
    return (best[1] if best else RerankerConfig()), figures


def test(
    retail: Retail, embeddings: dict[str, np.ndarray], chosen: dict[str, Setting], config: BundleConfig
) -> tuple[dict[str, dict[str, Any]], float, int]:
    """Refit the chosen settings on everything before August; evaluate on August."""
    results: dict[str, dict[str, Any]] = {}
    users = 0
    trains = {h: split(retail, TEST_START, TEST_END, h) for h in {*HALF_LIVES}}
    bundle_seconds = 0.0
    bundle: Bundle | None = None
    for name, setting in [*sorted(chosen.items()), ("hybrid", None), ("reranked", None)]:
        half_life = config.half_life_days if setting is None else setting.half_life
        train, later = trains[half_life]
        window = holdout(train, later)
        vectors = np.stack([embeddings.get(it, np.zeros(384, dtype=np.float32)) for it in train.items])
        started = time.perf_counter()
        if setting is None:
            if bundle is None:  # the served bundle: hybrid and re-ranker, learned on June and July
                bundle = fit_bundle(train, embeddings, config, history=past_windows(retail, TEST_START, half_life))
                bundle_seconds = time.perf_counter() - started
            model: Recommender = bundle.hybrid if name == "hybrid" else bundle.ranker
            fit_seconds = bundle_seconds
        else:
            model = setting.make().fit(train)
            fit_seconds = time.perf_counter() - started
        result: dict[str, Any] = dict(evaluate(model, train, window, item_vectors=vectors))
        timings = []
        for user in list(window.truth)[:1000]:
            t0 = time.perf_counter()
            model.recommend(user, 10)
            timings.append(time.perf_counter() - t0)
        result.update(
            setting=setting.label if setting else f"{name} half-life={half_life} (fit: the whole served bundle)",
            fit_seconds=round(fit_seconds, 2),
            recommend_p95_ms=round(float(np.percentile(timings, 95)) * 1000, 3),
        )
        results[name] = result
        users = int(result["users"])
        print(f"  test ndcg@10 {result['ndcg@10']:.4f}  {result['setting']}", flush=True)
    return results, bundle_seconds, users


def chart(results: dict[str, dict[str, Any]], path: Path) -> None:
    """NDCG@10 per model next to coverage, novelty and diversity (a PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(results, key=lambda n: results[n]["ndcg@10"])
    figure, axes = plt.subplots(1, 4, figsize=(16, 4.5), sharey=True)
    for axis, metric in zip(axes, ("ndcg@10", "coverage@20", "novelty@20", "diversity@20"), strict=True):
        colours = ["tab:orange" if n in ("hybrid", "reranked") else "tab:blue" for n in names]
        axis.barh(names, [results[n][metric] for n in names], color=colours)
        axis.set_title(metric)
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle("UCI Online Retail, test window 2011-08 (tuned on 2011-05 to 2011-07; hybrids in orange)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ONLINE_RETAIL)
    args = parser.parse_args()
    settings = load_settings()
    started = time.perf_counter()
    retail = load_retail(args.data)
    embeddings, embed_seconds = item_embeddings(retail.info, settings.data_dir / "cache")
    print(f"{len(retail.events)} purchase lines, {len(retail.info)} items; tuning on July 2011", flush=True)
    validation, chosen, config = tune(retail, embeddings)
    print("testing on August 2011 with the chosen settings", flush=True)
    results, bundle_seconds, users = test(retail, embeddings, chosen, config)
    singles = {n: r["ndcg@10"] for n, r in results.items() if n not in ("hybrid", "reranked", "popularity")}
    best_single = max(singles, key=lambda n: singles[n])
    targets: dict[str, Any] = {"best_single": best_single, "full_training_seconds": round(bundle_seconds, 2)}
    for name in ("hybrid", "reranked"):
        ndcg = results[name]["ndcg@10"]
        targets[f"{name}_vs_best_single"] = round(ndcg / max(singles[best_single], 1e-9), 3)
        targets[f"{name}_vs_popularity"] = round(ndcg / max(results["popularity"]["ndcg@10"], 1e-9), 3)
        targets[f"{name}_recommend_p95_ms"] = results[name]["recommend_p95_ms"]
    report = {
        "benchmark": "recommender",
        "machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "data": {
            "file": args.data.name,
            "purchase_events": len(retail.events),
            "items": len(retail.info),
            "train_before": str(TEST_START.date()),
            "validation_window": "2011-07 (training before 2011-07-01); hybrid weights on 2011-06 and 2011-07",
            "test_window": "2011-08",
            "test_users": users,
            "truth": "items bought in the window that the user had not bought before",
            "embedding_seconds": round(embed_seconds, 1),
        },
        "chosen_config": config.as_dict(),
        "targets": targets,
        "validation_ndcg@10": validation,
        "test": results,
    }
    out = settings.reports_dir / "recommender.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    chart(results, settings.reports_dir / "recommender.png")
    fields = ("ndcg@10", "recall@10", "hitrate@10", "map@10", "coverage@20", "novelty@20", "diversity@20")
    print(f"\ntest window 2011-08, {users} users evaluated")
    print(f"  {'model':<19}" + "".join(f"{f:>13}" for f in (*fields, "fit s", "p95 ms")))
    for name, r in sorted(results.items(), key=lambda pair: -pair[1]["ndcg@10"]):
        row = [r[f] for f in fields] + [r["fit_seconds"], r["recommend_p95_ms"]]
        print(f"  {name:<19}" + "".join(f"{v!s:>13}" for v in row))
    for name in ("reranked", "hybrid"):
        print(
            f"\n{name} = {targets[f'{name}_vs_best_single']}x best single ({best_single}), "
            f"{targets[f'{name}_vs_popularity']}x popularity",
            end="",
        )
    print(f"\nfull training of the served bundle {targets['full_training_seconds']} s")
    print(f"figures written to {out}, chart to {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
