"""Hybrid product search: relevance, filters from words and slots, explanations, and bad input."""

from __future__ import annotations

import re

import pytest

from catalog.demo_catalog import generate_demo_catalog
from catalog.filters import Filters, Vocabulary, parse_query
from catalog.index import build_index
from catalog.products import save_products
from catalog.search import Preferences, ProductSearch, clean_query


@pytest.fixture(scope="module")
def search(tmp_path_factory: pytest.TempPathFactory) -> ProductSearch:
    root = tmp_path_factory.mktemp("search")
    save_products(root / "catalog.jsonl", generate_demo_catalog())
    build_index(root / "index", root / "catalog.jsonl", show_progress=False)
    return ProductSearch.from_directory(root / "index")


def test_finds_running_shoes_and_explains_why(search: ProductSearch) -> None:
    hits = search.search("do you sell running shoes?", k=3).hits
    assert len(hits) == 3
    assert all(hit.product.category == "Shoes > Running" for hit in hits)
    assert hits[0].score >= hits[1].score >= hits[2].score
    # the reason is for the customer: the words that matched, no scores
    assert hits[0].explanation.startswith("Matches ") and "'running'" in hits[0].explanation
    assert not re.search(r"\d\.\d|similarity|score", hits[0].explanation)


@pytest.mark.parametrize("query", ["snowboard", "pizza", "asdkj qwe", "   ", "", "🙂🙂🙂", "zapatillas para correr"])
def test_nothing_for_what_the_shop_does_not_sell_or_cannot_read(search: ProductSearch, query: str) -> None:
    result = search.search(query)
    assert result.hits == [] and result.message is None


@pytest.mark.parametrize(
    "query",
    [
        "x" * 10_000,
        "running shoes " * 700,
        "shoes'); DROP TABLE products;--",
        ".*[a-z]+(",
        "%_%\\\\ shoes",
        "\x00shoes",
    ],
)
def test_hostile_queries_return_valid_results(search: ProductSearch, query: str) -> None:
    result = search.search(query)
    assert isinstance(result.hits, list)


def test_constraints_in_the_words_are_applied(search: ProductSearch) -> None:
    result = search.search("a warm waterproof jacket for hiking under 100", k=5)
    assert result.filters.max_price == 100.0
    assert result.hits and all(h.product.price <= 100 for h in result.hits)
    assert "Jacket" in result.hits[0].product.title
    assert "under $100.00" in result.hits[0].explanation

    hoodies = search.search("black hoodie size XL in stock", k=5)
    assert hoodies.filters == Filters(colors=("black",), sizes=("xl",), in_stock=True)
    for hit in hoodies.hits:
        assert hit.product.attributes["color"] == "black" and hit.product.stock > 0
        assert "XL" in hit.product.attributes["sizes"].split("/")


def test_slots_override_the_words(search: ProductSearch) -> None:
    result = search.search("running shoes under 200", Filters(max_price=80.0, brands=("northpeak",)), k=10)
    assert result.filters.max_price == 80.0
    assert all(h.product.price <= 80 and h.product.brand == "Northpeak" for h in result.hits)


@pytest.mark.parametrize(
    ("query", "constraint", "message_start"),
    [
        ("headphones under 5 dollars", "max_price", "nothing under $5.00; the cheapest is $"),
        ("red yoga mat", "color", "none in red; they come in"),
        ("hiking boots size 13", "size", "none in size 13"),
    ],
)
def test_filters_that_exclude_everything_say_which_and_offer_alternatives(
    search: ProductSearch, query: str, constraint: str, message_start: str
) -> None:
    result = search.search(query)
    assert result.hits == []
    assert result.excluded_by == constraint
    assert result.message is not None and result.message.startswith(message_start)
    assert result.alternatives
    noun = query.split(" under")[0].split(" size")[0].replace("red ", "")
    assert all(noun.split()[-1].rstrip("s") in h.product.title.lower() for h in result.alternatives)


def test_cheapest_alternative_price_is_real(search: ProductSearch) -> None:
    result = search.search("headphones under 5 dollars")
    cheapest = min(h.product.price for h in search.search("headphones", k=50).hits)
    assert result.message == f"nothing under $5.00; the cheapest is ${cheapest:.2f}"


def test_preferences_lift_a_liked_brand(search: ProductSearch) -> None:
    plain = search.search("wireless headphones", k=10).hits
    brand = plain[-1].product.brand
    liked = search.search("wireless headphones", k=10, preferences=Preferences(brands=frozenset({brand.lower()}))).hits
    assert liked[0].product.brand == brand
    assert "a brand you like" in liked[0].explanation


def test_similar_products_and_facets(search: ProductSearch) -> None:
    boots = search.search("hiking boots", k=1).hits[0].product
    similar = search.similar_products(boots.id, k=4)
    assert len(similar) == 4 and boots.id not in {h.product.id for h in similar}
    assert similar[0].product.category == "Shoes > Hiking"
    assert search.similar_products("NO-SUCH-ID") == []

    facets = search.facets("rain jacket")
    assert set(facets) == {"brands", "colors", "price_bands"}
    assert sum(facets["colors"].values()) > 0 and "yellow" in facets["colors"]
    assert all(band.startswith("$") for band in facets["price_bands"])


@pytest.mark.parametrize(
    ("text", "filters", "left"),
    [
        (
            "a warm waterproof jacket for hiking under 100",
            Filters(max_price=100.0),
            "a warm waterproof jacket for hiking",
        ),
        ("running shoes between 20 and 40", Filters(min_price=20.0, max_price=40.0), "running shoes"),
        ("headphones $50-$120", Filters(min_price=50.0, max_price=120.0), "headphones"),
        ("Northpeak boots over $150", Filters(min_price=150.0, brands=("northpeak",)), "boots"),
        ("red shoes size 10 under 80 dollars", Filters(max_price=80.0, colors=("red",), sizes=("10",)), "shoes"),
        ("tent", Filters(), "tent"),
        ("Northpeak", Filters(brands=("northpeak",)), "Northpeak"),
    ],
)
def test_query_constraints_are_parsed(text: str, filters: Filters, left: str) -> None:
    parsed = parse_query(text, Vocabulary.of(generate_demo_catalog(products_per_type=2)))
    assert parsed.filters == filters
    assert parsed.text == left


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
