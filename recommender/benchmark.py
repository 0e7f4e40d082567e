"""`make bench-recommender`: every model side by side on UCI Online Retail, split by time.

Purchases are cleaned by the store's importer rules. Hyperparameters are chosen on the
validation window (train before 2011-07-01, validate on July); the chosen settings are then
refitted on everything before August and evaluated on August. Figures go to reports/recommender.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from datafiles import read_records
from recommender.evaluation import evaluate, holdout
from recommender.interactions import Event, InteractionMatrix, build_matrix
from recommender.models import ALS, Hybrid, ItemKNN, Popularity, Recommender, UserKNN
from settings import PROJECT_ROOT, load_settings
from store.importers import ImportReport
from store.importers.online_retail import clean_lines

ONLINE_RETAIL = PROJECT_ROOT.parent / "shared" / "data" / "online_retail" / "online_retail_2010-12_to_2011-08.csv.gz"
VALIDATION_START = dt.datetime(2011, 7, 1, tzinfo=dt.UTC)
TEST_START = dt.datetime(2011, 8, 1, tzinfo=dt.UTC)
TEST_END = dt.datetime(2011, 9, 1, tzinfo=dt.UTC)
HALF_LIVES: tuple[float | None, ...] = (None, 90.0)


@dataclass(frozen=True)
class Setting:
    """One point of a model's hyperparameter grid."""

    model: str
    label: str
    make: Callable[[], Recommender]
    half_life: float | None = None


def load_purchases(path: Path) -> list[Event]:
    """Purchase events of the file, cleaned by the store's Online Retail rules."""
    report = ImportReport(source=str(path))
    return [
        Event(user=line.customer, item=line.stock_code, kind="purchased", at=line.invoiced_at, quantity=line.quantity)
        for line in clean_lines(read_records(path), report)
    ]


def split(
    events: list[Event], start: dt.datetime, end: dt.datetime, half_life: float | None
) -> tuple[InteractionMatrix, list[tuple[str, str]]]:
    """Training matrix before `start`, and the (user, item) purchases in [start, end)."""
    train = build_matrix((e for e in events if e.at < start), now=start, half_life_days=half_life)
    return train, [(e.user, e.item) for e in events if start <= e.at < end]


def grid() -> list[Setting]:
    """Every model's hyperparameter grid (tuned on the validation window only)."""
    settings = [Setting("popularity", "popularity", partial(Popularity))]
    settings += [Setting("item_knn", f"item_knn k={n}", partial(ItemKNN, n)) for n in (20, 50, 100, 200)]
    settings += [Setting("user_knn", f"user_knn k={n}", partial(UserKNN, n)) for n in (20, 50, 100)]
    settings += [Setting("als", f"als factors={f}", partial(ALS, f)) for f in (32, 64, 128)]
    weights = ((1.0, 1.0, 0.0, 0.1), (1.0, 1.0, 0.5, 0.1), (1.0, 1.0, 1.0, 0.1), (0.5, 1.0, 1.0, 0.1))
    settings += [Setting("hybrid", f"hybrid w(item,user,als,pop)={w}", partial(Hybrid, w)) for w in weights]
    return [Setting(s.model, f"{s.label} half-life={h}", s.make, h) for s in settings for h in HALF_LIVES]


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ONLINE_RETAIL)
    args = parser.parse_args()
    events = load_purchases(args.data)
    validation: dict[str, float] = {}
    chosen: dict[str, tuple[Setting, float]] = {}
    splits = {h: split(events, VALIDATION_START, TEST_START, h) for h in HALF_LIVES}
    for setting in grid():
        train, later = splits[setting.half_life]
        ndcg = evaluate(setting.make().fit(train), train, holdout(train, later), ks=(10,))["ndcg@10"]
        validation[setting.label] = ndcg
        if setting.model not in chosen or ndcg > chosen[setting.model][1]:
            chosen[setting.model] = (setting, ndcg)

    test: dict[str, dict[str, Any]] = {}
    for name, (setting, _) in chosen.items():
        train, later = split(events, TEST_START, TEST_END, setting.half_life)
        window = holdout(train, later)
        started = time.perf_counter()
        model = setting.make().fit(train)
        fit_seconds = time.perf_counter() - started
        result: dict[str, Any] = dict(evaluate(model, train, window))
        timings = []
        for user in list(window.truth)[:1000]:
            t0 = time.perf_counter()
            model.recommend(user, 10)
            timings.append(time.perf_counter() - t0)
        result.update(setting=setting.label, fit_seconds=round(fit_seconds, 2),
                      recommend_p95_ms=round(float(np.percentile(timings, 95)) * 1000, 3))  # fmt: skip
        test[name] = result
    users = next(iter(test.values()))["users"] if test else 0
    report = {
        "benchmark": "recommender",
        "machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": {
            "file": args.data.name,
            "purchase_events": len(events),
            "train_before": str(TEST_START.date()),
            "validation_window": "2011-07 (training before 2011-07-01)",
            "test_window": "2011-08",
            "test_users": users,
            "truth": "items bought in the window that the user had not bought before",
        },
        "validation_ndcg@10": validation,
        "test": test,
    }
    out = load_settings().reports_dir / "recommender.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    fields = ("ndcg@10", "recall@10", "hitrate@10", "map@10", "coverage@20", "novelty@20", "fit_seconds")
    print(f"\ntest window 2011-08, {users} users evaluated")
    print(f"  {'model':<12}" + "".join(f"{f:>13}" for f in (*fields, "p95 ms")))
    for name, r in test.items():
        print(f"  {name:<12}" + "".join(f"{r[f]!s:>13}" for f in (*fields, "recommend_p95_ms")))
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
