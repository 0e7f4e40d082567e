"""The actions' API on a real (SQLite) shop: personal suggestions, also-bought, fallbacks and retraining."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from catalog.demo_catalog import generate_demo_catalog
from catalog.products import save_products
from recommender.artifact import load_bundle, save_bundle
from recommender.bundle import fit_bundle
from recommender.service import Context, RecommendationService
from recommender.shop_data import load_shop
from settings import PROJECT_ROOT
from store.database import ShopDatabase
from store.demo import DemoSize, generate_demo_shop
from store.models import Order, OrderLine, Product

ANCHOR = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
CATALOG = generate_demo_catalog()
CATEGORIES = sorted({p.category for p in CATALOG})


def embeddings() -> dict[str, np.ndarray]:
    """Stand-in product vectors: the category's direction plus a little per-product noise."""
    out = {}
    for product in CATALOG:
        vector = np.zeros(len(CATEGORIES) + 8, dtype=np.float32)
        vector[CATEGORIES.index(product.category)] = 1.0
        vector[len(CATEGORIES) :] = np.random.default_rng(zlib.crc32(product.id.encode())).normal(0, 0.1, 8)
        out[product.id] = vector
    return out


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ShopDatabase, Path, Path]]:
    """A demo shop of 60 customers, its catalog file, and a trained bundle file."""
    root = tmp_path_factory.mktemp("recommender-shop")
    db = ShopDatabase(f"sqlite:///{root / 'shop.db'}")
    db.upgrade()
    with db.transaction() as session:
        generate_demo_shop(session, DemoSize(customers=60), anchor=ANCHOR, catalog=CATALOG)
    catalog_file = root / "catalog.jsonl"
    save_products(catalog_file, CATALOG)
    bundle_file = root / "models" / "recommender" / "bundle.pkl"
    signal = load_shop(db)
    history = signal.labelled_windows(ANCHOR, 90.0)
    bundle = fit_bundle(signal.matrix_at(ANCHOR, 90.0), embeddings(), history=history)
    assert bundle.reranked is not None  # the demo shop has enough history to learn the re-ranker
    save_bundle(bundle, bundle_file, {"trained_at": "test"})
    yield db, catalog_file, bundle_file
    db.dispose()


def purchases(db: ShopDatabase) -> dict[int, set[str]]:
    with db.transaction() as session:
        rows = session.execute(
            select(Order.customer_id, OrderLine.product_id).join(OrderLine, OrderLine.order_id == Order.id)
        ).all()
    bought: dict[int, set[str]] = {}
    for customer, product in rows:
        bought.setdefault(customer, set()).add(product)
    return bought


def test_a_known_customer_gets_new_things_with_reasons(shop: tuple[ShopDatabase, Path, Path]) -> None:
    db, catalog_file, bundle_file = shop
    service = RecommendationService(bundle_file, db, catalog_file)
    customer, bought = max(purchases(db).items(), key=lambda pair: len(pair[1]))
    suggestions = service.recommend_for_customer(customer, k=5)
    assert len(suggestions) == 5 and service.status.startswith("serving")
    assert not {s.product_id for s in suggestions} & bought
    titles = {p.id: p.title for p in CATALOG}
    assert all(s.title == titles[s.product_id] and s.explanation for s in suggestions)
    assert any(s.explanation.startswith(("because you bought", "goes with what you bought")) for s in suggestions)


def test_context_category_budget_and_product_in_view(shop: tuple[ShopDatabase, Path, Path]) -> None:
    db, catalog_file, bundle_file = shop
    service = RecommendationService(bundle_file, db, catalog_file)
    by_id = {p.id: p for p in CATALOG}
    in_view = next(p for p in CATALOG if p.price > 40)
    context = Context(category=in_view.category, product_id=in_view.id, budget=in_view.price)
    for customer in (next(iter(purchases(db))), None, 10_000_000):  # known, anonymous, unknown id
        suggestions = service.recommend_for_customer(customer, context, k=4)
        assert suggestions, customer
        assert all(by_id[s.product_id].category == in_view.category for s in suggestions)
        assert all(by_id[s.product_id].price <= in_view.price for s in suggestions)
        assert in_view.id not in {s.product_id for s in suggestions}


def test_a_new_visitor_is_served_from_popularity_then_the_session(shop: tuple[ShopDatabase, Path, Path]) -> None:
    db, catalog_file, bundle_file = shop
    service = RecommendationService(bundle_file, db, catalog_file)
    cold = service.recommend_for_customer(None, k=3)
    assert len(cold) == 3 and all("popular" in s.explanation or "best seller" in s.explanation for s in cold)
    clicked = tuple(p.id for p in CATALOG if p.category == CATEGORIES[0])[:2]
    warm = service.recommend_for_customer(None, Context(session_items=(*clicked, "no-such-product")), k=3)
    assert warm and not set(clicked) & {s.product_id for s in warm}
    assert any("you looked at" in s.explanation for s in warm)


def test_also_bought(shop: tuple[ShopDatabase, Path, Path]) -> None:
    db, catalog_file, bundle_file = shop
    service = RecommendationService(bundle_file, db, catalog_file)
    best_seller = Counter(p for bought in purchases(db).values() for p in bought).most_common(1)[0][0]
    together = service.also_bought(best_seller, 5)
    assert len(together) == 5 and best_seller not in {s.product_id for s in together}
    assert len({s.product_id for s in together}) == 5 and all(s.explanation for s in together)
    assert service.also_bought("no-such-product", 3)  # unknown: popular products, no error
    assert service.also_bought(best_seller, 0) == [] and len(service.also_bought(best_seller, 10_000)) <= 50


def test_a_corrupt_file_serves_popularity_until_retrained(
    shop: tuple[ShopDatabase, Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db, catalog_file, good_file = shop
    broken = tmp_path / "bundle.pkl"
    broken.write_bytes(good_file.read_bytes()[:1000])  # a torn copy
    service = RecommendationService(broken, db, catalog_file)
    suggestions = service.recommend_for_customer(next(iter(purchases(db))), k=3)
    assert service.status.startswith("popularity fallback") and "unreadable" in caplog.text
    counts = Counter(p for bought in purchases(db).values() for p in bought)
    assert counts[suggestions[0].product_id] == max(counts.values())
    assert suggestions[0].explanation.startswith("a best seller in")
    broken.write_bytes(good_file.read_bytes())  # the retrain command's atomic swap, as the service sees it
    os.utime(broken, ns=(1, 1))
    service.recommend_for_customer(None, k=1)
    assert service.status.startswith("serving")


def test_no_orders_and_no_model_rank_the_catalog(tmp_path: Path) -> None:
    db = ShopDatabase(f"sqlite:///{tmp_path / 'empty.db'}")
    db.upgrade()
    catalog_file = tmp_path / "catalog.jsonl"
    save_products(catalog_file, CATALOG)
    service = RecommendationService(tmp_path / "missing.pkl", db, catalog_file)
    suggestions = service.recommend_for_customer(1, k=3)
    best = max(p.rating for p in CATALOG)
    assert next(s.score for s in suggestions) == best and "best-rated" in suggestions[0].explanation
    assert RecommendationService(tmp_path / "missing.pkl", db, tmp_path / "no-catalog").also_bought("x") == []
    db.dispose()


def run_train(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recommender", "train", *args],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_train_command_swaps_atomically(shop: tuple[ShopDatabase, Path, Path], tmp_path: Path) -> None:
    db, _, _ = shop
    env = {**os.environ, "SHOP_DATA_DIR": str(tmp_path / "var"), "SHOP_MODELS_DIR": str(tmp_path / "models"),
           "SHOP_DATABASE_URL": str(db.engine.url)}  # fmt: skip
    first = run_train(env)
    assert first.returncode == 0, first.stderr
    assert "[1/" in first.stdout and "swapped in" in first.stdout
    target = tmp_path / "models" / "recommender" / "bundle.pkl"
    bundle, manifest = load_bundle(target)
    with db.transaction() as session:
        assert manifest["products"] == len(session.scalars(select(Product.id)).all())
    assert manifest["ranker"] in {"learned re-ranker", "weighted hybrid"}
    assert "is present" in run_train(env, "--if-missing").stdout
    before = target.read_bytes()
    failed = run_train({**env, "SHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'nowhere' / 'shop.db'}"})
    assert failed.returncode != 0 and target.read_bytes() == before  # a failed retrain keeps serving the old one
    target.write_bytes(b"not a model")
    assert "training the recommender" in run_train(env, "--if-missing").stdout
    assert load_bundle(target)[0].hybrid.data.items == bundle.hybrid.data.items
