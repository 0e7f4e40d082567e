"""Refinements of the last search and answers about one product, from catalog data only."""

import pytest

from catalog.answers import answer_question
from catalog.browsing import Browsing, Refinement, read_refinement, refined_filters
from catalog.demo_catalog import generate_demo_catalog
from catalog.filters import Filters, Vocabulary
from catalog.products import Product

VOCABULARY = Vocabulary.of(generate_demo_catalog())


@pytest.mark.parametrize(
    ("text", "kind", "position"),
    [
        ("cheaper", "cheaper", None),
        ("those are way too expensive", "cheaper", None),
        ("anything more expensive?", "pricier", None),
        ("show more", "more", None),
        ("any others?", "more", None),
        ("the second one", "pick", 1),
        ("tell me about the 3rd", "pick", 2),
        ("number 1 please", "pick", 0),
        ("2", "pick", 1),
        ("#3", "pick", 2),
        ("the last one", "pick", -1),
        ("hmm", "unclear", None),
    ],
)
def test_refinements_are_read_from_the_customers_words(text: str, kind: str, position: int | None) -> None:
    refinement = read_refinement(text, VOCABULARY)
    assert (refinement.kind, refinement.position) == (kind, position)


def product(product_id: str, price: float, category: str = "Shoes > Running") -> Product:
    return Product(id=product_id, title=product_id, description="", category=category, brand="", price=price)


def test_new_constraints_narrow_and_replace_the_same_kind() -> None:
    refinement = read_refinement("any in blue under 40?", VOCABULARY)
    assert refinement.kind == "narrow"
    current = Filters(colors=("red",), brands=("northpeak",))
    narrowed = refined_filters(current, refinement, [])
    assert narrowed.colors == ("blue",)
    assert narrowed.max_price == 40
    assert narrowed.brands == ("northpeak",)  # kept


def test_cheaper_means_cheaper_than_everything_shown_in_the_same_category() -> None:
    page = [product("P1", 59.99), product("P2", 45.99), product("P3", 80.0)]
    cheaper = refined_filters(Filters(min_price=20.0), Refinement("cheaper"), page)
    assert (cheaper.max_price, cheaper.min_price, cheaper.categories) == (45.98, None, ("Shoes > Running",))
    pricier = refined_filters(Filters(max_price=100.0), Refinement("pricier"), page)
    assert (pricier.min_price, pricier.max_price) == (80.01, None)
    mixed = [product("P1", 10.0), product("P4", 20.0, "Bags")]
    assert refined_filters(Filters(), Refinement("cheaper"), mixed).categories == ()


def test_the_state_survives_a_slot_round_trip() -> None:
    state = Browsing().searched("rain jacket", Filters(colors=("navy",), max_price=90.0), ["P1", "P2", "P3"])
    state = state.showing(["P4", "P5"]).focused("P5")
    again = Browsing.from_slot(state.to_slot())
    assert again == state
    assert again.page == ("P4", "P5")
    assert again.clicked == ("P5",)


@pytest.mark.parametrize(
    "junk",
    [None, "text", 7, [], {"filters": "nope"}, {"shown": "P1"}, {"filters": {"max_price": "cheap", "colors": 3}}],
)
def test_a_malformed_slot_reads_as_nothing_searched(junk: object) -> None:
    assert Browsing.from_slot(junk) == Browsing()


JACKET = Product(
    id="P1",
    title="Tideway Trek Rain Jacket, navy",
    description="A packable waterproof rain jacket with taped seams, an adjustable hood and pit zips. Made of nylon.",
    category="Clothing > Jackets",
    brand="Tideway",
    price=89.99,
    stock=2,
    rating=4.4,
    attributes={"type": "Rain Jacket", "color": "navy", "material": "nylon", "sizes": "S/M/L/XL"},
)


@pytest.mark.parametrize(
    ("question", "expected", "known"),
    [
        ("in stock?", "Yes, the Tideway Trek Rain Jacket, navy is in stock (only a few left).", True),
        ("what sizes does it come in", "comes in sizes S, M, L, XL", True),
        ("what is it made of", "made of nylon", True),
        ("how much is it", "$89.99", True),
        ("is it waterproof?", "waterproof rain jacket with taped seams", True),
        ("does it have a hood", "adjustable hood", True),
        ("is it machine washable?", 'don\'t mention "machine washable"', False),
        ("does it fit a 15-inch laptop?", "don't give its measurements", False),
        ("does it run small", "don't say how the Tideway Trek Rain Jacket, navy fits. It comes in sizes", False),
    ],
)
def test_product_questions_are_answered_from_its_data(question: str, expected: str, known: bool) -> None:
    answer = answer_question(JACKET, question)
    assert expected in answer.text
    assert answer.known is known


def test_no_data_means_no_invented_answer() -> None:
    plain = Product(id="P2", title="Notebook", description="A notebook.", category="Office", brand="", price=6.0)
    assert answer_question(plain, "what colours?").known is False
    assert answer_question(plain, "is it vegan").known is False
    assert answer_question(plain, "in stock?").text == "Sorry, the Notebook is out of stock right now."
