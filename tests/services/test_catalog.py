"""The demo catalog, the catalog file format, the persisted index and product search."""

import json
from pathlib import Path

import pytest

from catalog.demo_catalog import PRODUCT_TYPES, generate_demo_catalog
from catalog.index import IndexMissing, build_index, index_is_current, load_index
from catalog.products import CatalogFileError, Product, load_products, save_products
from catalog.search import ProductSearch, clean_query


def test_demo_catalog_is_deterministic_and_covers_every_product_type() -> None:
    first, second = generate_demo_catalog(), generate_demo_catalog()
    assert first == second
    assert len({p.id for p in first}) == len(first) == 3 * len(PRODUCT_TYPES)
    assert len({p.category.split(" > ")[0] for p in first}) >= 8
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


def test_search_finds_running_shoes_and_explains_why(demo_index: tuple[Path, Path]) -> None:
    search = ProductSearch.from_directory(demo_index[0])
    hits = search.search("do you sell running shoes?", k=3)
    assert len(hits) == 3
    assert all(hit.product.category == "Shoes > Running" for hit in hits)
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert "running shoes" in hits[0].explanation


@pytest.mark.parametrize("query", ["snowboard", "pizza", "asdkj qwe", "   "])
def test_search_returns_nothing_for_what_the_shop_does_not_sell(demo_index: tuple[Path, Path], query: str) -> None:
    assert ProductSearch.from_directory(demo_index[0]).search(query) == []


@pytest.mark.parametrize(
    ("question", "product_words"),
    [
        ("Do you sell running shoes?", "running shoes"),
        ("have you got a coffee grinder", "coffee grinder"),
        ("I'm looking for a rain jacket!", "rain jacket"),
        ("do you sell", "do you sell"),  # nothing but framing: keep the words rather than search for nothing
    ],
)
def test_question_framing_is_removed_from_queries(question: str, product_words: str) -> None:
    assert clean_query(question) == product_words
