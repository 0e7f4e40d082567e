"""The demo catalog, the catalog file format, the persisted index and product search."""

import json
from pathlib import Path

import pytest

from catalog.demo_catalog import PRODUCT_TYPES, generate_demo_catalog
from catalog.index import IndexMissing, build_index, index_is_current, load_index, sync_index
from catalog.products import CatalogFileError, Product, load_products, save_products


def test_demo_catalog_is_deterministic_and_covers_every_product_type() -> None:
    first, second = generate_demo_catalog(), generate_demo_catalog()
    assert first == second
    assert len({p.id for p in first}) == len(first) == 10 * len(PRODUCT_TYPES) >= 500
    assert len({p.category.split(" > ")[0] for p in first}) >= 10
    assert generate_demo_catalog(seed=1) != first


def test_catalog_file_round_trip(tmp_path: Path) -> None:
    products = generate_demo_catalog(products_per_type=1)
    save_products(tmp_path / "catalog.jsonl", products)
    assert load_products(tmp_path / "catalog.jsonl") == products


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "catalog.jsonl:2:"),
        ('["a list"]', "not a JSON object"),
        ('{"id": "X1", "title": "Mug", "category": "Home"}', "missing field 'price'"),
        ('{"id": "X1", "title": "Mug", "category": "Home", "price": "cheap"}', "bad value"),
        ('{"id": "X1", "title": "Mug", "category": "Home", "price": -3}', "price non-negative"),
        ('{"id": "P1", "title": "Mug", "category": "Home", "price": 3}', "duplicate product id 'P1'"),
    ],
)
def test_bad_catalog_lines_are_rejected_with_their_line_number(tmp_path: Path, line: str, message: str) -> None:
    good = json.dumps({"id": "P1", "title": "Teapot", "category": "Home", "price": 20})
    path = tmp_path / "catalog.jsonl"
    path.write_text(f"{good}\n{line}\n")
    with pytest.raises(CatalogFileError, match=message):
        load_products(path)


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("catalog")
    catalog_file = root / "catalog.jsonl"
    save_products(catalog_file, generate_demo_catalog())
    build_index(root / "index", catalog_file, show_progress=False)
    return root / "index", catalog_file


def test_index_is_rebuilt_only_when_the_catalog_changes(demo_index: tuple[Path, Path], tmp_path: Path) -> None:
    index_dir, catalog_file = demo_index
    assert index_is_current(index_dir, catalog_file)
    manifest = load_index(index_dir).manifest
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["products"] == len(generate_demo_catalog())

    changed = tmp_path / "catalog.jsonl"
    products = generate_demo_catalog()
    save_products(changed, [*products[:-1], Product(**{**products[-1].__dict__, "price": 1.0})])
    assert not index_is_current(index_dir, changed)


def test_missing_or_corrupt_index_is_reported(tmp_path: Path, demo_index: tuple[Path, Path]) -> None:
    with pytest.raises(IndexMissing, match="manifest missing"):
        load_index(tmp_path / "nothing")
    catalog_file = demo_index[1]
    broken = tmp_path / "broken"
    build_index(broken, catalog_file, show_progress=False)
    version = json.loads((broken / "manifest.json").read_text())["version"]
    (broken / version / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexMissing, match="unreadable"):
        load_index(broken)
    assert not index_is_current(tmp_path / "nothing", catalog_file)


def test_sync_applies_catalog_changes_incrementally(tmp_path: Path) -> None:
    catalog_file = tmp_path / "catalog.jsonl"
    products = generate_demo_catalog(products_per_type=2)
    save_products(catalog_file, products)
    index_dir = tmp_path / "index"
    assert sync_index(index_dir, catalog_file, show_progress=False).action == "rebuilt"
    assert sync_index(index_dir, catalog_file, show_progress=False).action == "current"

    renamed = Product(**{**products[0].__dict__, "title": "Northpeak Cloud Racer Marathon Shoes"})
    repriced = Product(**{**products[1].__dict__, "price": 9.99})
    added = Product(id="NEW1", title="Harbor & Pine Picnic Blanket", description="A waterproof picnic blanket.",
                    category="Outdoor > Camping", brand="Harbor & Pine", price=35.0, stock=4)  # fmt: skip
    save_products(catalog_file, [renamed, repriced, *products[3:], added])  # products[2] deleted
    report = sync_index(index_dir, catalog_file, show_progress=False)
    assert (report.action, report.added, report.updated, report.deleted) == ("incremental", 1, 2, 1)

    index = load_index(index_dir)
    assert index.vectors.ntotal == len(index.products) == len(products) - 1 + 1
    assert set(index.faiss_ids) == {p.id for p in [renamed, repriced, *products[3:], added]}
    assert index.products[index.faiss_ids[repriced.id]].price == 9.99
    assert index_is_current(index_dir, catalog_file)
    # the re-embedded and the new product are found by their new words
    from catalog.search import ProductSearch

    search = ProductSearch(index)
    assert search.search("cloud racer marathon", k=1).hits[0].product.id == renamed.id
    assert search.search("picnic blanket", k=1).hits[0].product.id == "NEW1"
    assert not any(h.product.id == products[2].id for h in search.search(products[2].title, k=20).hits)


def test_large_catalogs_get_an_hnsw_index(tmp_path: Path) -> None:
    catalog_file = tmp_path / "catalog.jsonl"
    save_products(catalog_file, generate_demo_catalog(products_per_type=1))
    manifest = build_index(tmp_path / "index", catalog_file, show_progress=False, hnsw_min_products=10)
    assert manifest["index_kind"] == "hnsw" and manifest["parameters"]["M"] == 32
    index = load_index(tmp_path / "index")
    from catalog.search import ProductSearch

    assert ProductSearch(index).search("hiking boots", k=1).hits[0].product.category == "Shoes > Hiking"


def test_a_mismatched_index_is_detected_and_rebuilt(tmp_path: Path) -> None:
    catalog_file = tmp_path / "catalog.jsonl"
    save_products(catalog_file, generate_demo_catalog(products_per_type=1))
    index_dir = tmp_path / "index"
    build_index(index_dir, catalog_file, show_progress=False)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    (index_dir / "manifest.json").write_text(json.dumps({**manifest, "model": "some-other-model"}))
    with pytest.raises(IndexMissing, match="another format or model"):
        load_index(index_dir)
    assert sync_index(index_dir, catalog_file, show_progress=False).action == "rebuilt"
    assert load_index(index_dir).manifest["model"] == "all-MiniLM-L6-v2"
