"""`python -m recommender train`: fit the served models on the shop database, then swap them in atomically."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time

from recommender.artifact import ArtifactUnusable, load_bundle, save_bundle
from recommender.bundle import BundleConfig, fit_bundle
from recommender.shop_data import catalog_embeddings, load_shop
from settings import load_settings
from store.database import ShopDatabase


def train(if_missing: bool) -> int:
    """Train (or, with if_missing, keep a usable existing file); the served file changes only at the end."""
    settings = load_settings()
    target = settings.recommender_file
    if if_missing:
        try:
            _, manifest = load_bundle(target)
            print(f"recommender is present (trained at {manifest.get('trained_at', '?')}): {target}")
            return 0
        except ArtifactUnusable as unusable:
            print(f"training the recommender: {unusable}")
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    config = BundleConfig()
    db = ShopDatabase(settings.shop_database_url)
    try:
        print("loading orders and interactions from the shop database", flush=True)
        shop = load_shop(db)
    finally:
        db.dispose()
    data = shop.matrix_at(now, config.half_life_days)
    history = shop.labelled_windows(now, config.half_life_days)
    print(f"  {len(data.users)} users, {len(data.items)} products, {data.matrix.nnz} user-product pairs", flush=True)
    embeddings = catalog_embeddings(settings.catalog_index_dir)
    print(f"  {len(embeddings)} product embeddings from the search index", flush=True)
    bundle = fit_bundle(data, embeddings, config, lambda message: print(f"  {message}", flush=True), history)
    manifest = {
        "trained_at": now.isoformat(timespec="seconds"),
        "users": len(data.users),
        "products": len(data.items),
        "pairs": int(data.matrix.nnz),
        "baskets": len(data.baskets),
        "embeddings": len(embeddings),
        "config": config.as_dict(),
        "fit_seconds": bundle.fit_seconds,
        "ranker": "learned re-ranker" if bundle.reranked is not None else "weighted hybrid",
    }
    save_bundle(bundle, target, manifest)
    print(f"recommender trained in {time.perf_counter() - started:.1f} s and swapped in: {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m recommender", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train", help="fit the models on the shop database and swap them in")
    train_parser.add_argument("--if-missing", action="store_true", help="keep a usable existing model file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("faiss").setLevel(logging.WARNING)
    return train(args.if_missing)


if __name__ == "__main__":
    sys.exit(main())
