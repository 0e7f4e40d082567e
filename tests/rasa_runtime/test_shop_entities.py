"""ShopEntityExtractor: the catalog's words and the shop's patterns become normalised entities."""

import json
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.shop_entities import ShopEntityExtractor, merge, pattern_entities, plural_forms, vocabulary_of

PRODUCTS = [
    {"id": "P1", "title": "Northpeak Trail Running Shoes, gray", "category": "Shoes > Running", "brand": "Northpeak",
     "attributes": {"type": "Trail Running Shoes", "color": "grey", "material": "mesh"}},
    {"id": "P2", "title": "Harbor & Pine Hoodie", "category": "Clothing > Tops", "brand": "Harbor & Pine",
     "attributes": {"type": "Hoodie", "color": "navy", "material": "organic cotton"}},
    {"id": "P3", "title": "Lumen Desk Lamp", "category": "Home > Lighting", "brand": "Lumen",
     "attributes": {"type": "Desk Lamp", "color": "white", "material": "aluminium"}},
]  # fmt: skip


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in PRODUCTS) + "\n")
    return path


def trained(tmp_path: Path, catalog: Path) -> ShopEntityExtractor:
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("shop_entities")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**ShopEntityExtractor.get_default_config(), "catalog_file": str(catalog)}
    ShopEntityExtractor.create(config, storage, resource, context).train(TrainingData())
    catalog.unlink()  # serving needs no catalog: the vocabulary is in the model
    return ShopEntityExtractor.load(config, storage, resource, context)


def entities(component: ShopEntityExtractor, text: str, others: list[dict] | None = None) -> list[tuple[str, str]]:
    message = Message.build(text=text)
    message.set("entities", others or [])
    (processed,) = component.process([message])
    return [(e["entity"], e["value"]) for e in processed.get("entities")]


def test_plural_forms() -> None:
    assert plural_forms("hoodie") == {"hoodie", "hoodies"}
    assert plural_forms("hiking boots") == {"hiking boots", "hiking boot"}
    assert plural_forms("duvet cover set") == {"duvet cover set", "duvet cover sets"}
    assert plural_forms("battery") == {"battery", "batteries"}
    assert plural_forms("glass") == {"glass", "glasses"}


def test_vocabulary_from_the_catalog(catalog: Path) -> None:
    vocabulary = vocabulary_of(catalog)
    assert vocabulary["brand"]["harbor & pine"] == "Harbor & Pine"
    assert vocabulary["color"]["gray"] == "grey"  # synonym of a catalog colour
    assert vocabulary["product"]["hoodies"] == "hoodie" and vocabulary["product"]["lighting"] == "lighting"
    assert "running" not in vocabulary["product"]  # "I go running" is not a product


def test_catalog_words_are_found_and_normalised(tmp_path: Path, catalog: Path) -> None:
    component = trained(tmp_path, catalog)
    assert entities(component, "Do you have NAVY Harbor & Pine hoodies in organic cotton?") == [
        ("color", "navy"), ("brand", "Harbor & Pine"), ("product", "hoodie"), ("material", "organic cotton"),
    ]  # fmt: skip
    assert entities(component, "gray trail running shoes") == [("color", "grey"), ("product", "trail running shoes")]
    assert entities(component, "a lamp for my desk") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is SO-104233?", [("order_id", "SO-104233")]),
        ("order #104233 hasn't come", [("order_id", "SO-104233")]),
        ("my order number is 104233", [("order_id", "SO-104233")]),
        ("so104233 please", [("order_id", "SO-104233")]),
        ("under 50", [("price_max", "50")]),
        ("less than $30", [("price_max", "30")]),
        ("between 20 and 40 dollars", [("price_min", "20"), ("price_max", "40")]),
        ("from £20 to £40", [("price_min", "20"), ("price_max", "40")]),
        ("anything $30-$60?", [("price_min", "30"), ("price_max", "60")]),
        ("over 100 bucks", [("price_min", "100")]),
        ("the 49.99 dollar one", [("price", "49.99")]),
        ("I was charged €12,50", [("price", "12.5")]),
        ("mail me at ana.k@example.com", [("email", "ana.k@example.com")]),
        ("call +44 7700 900123", [("phone", "+44 7700 900123")]),
        ("size 9 in 2 colours", []),
    ],
)
def test_patterns(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(f.entity, f.value) for f in pattern_entities(text)] == expected


def test_ours_replace_overlapping_entities_except_a_wider_one_of_the_same_type(tmp_path: Path, catalog: Path) -> None:
    component = trained(tmp_path, catalog)
    diet = [{"entity": "product", "start": 0, "end": 11, "value": "navy hoodie", "extractor": "DIETClassifier"}]
    assert entities(component, "navy hoodie", diet) == [("color", "navy"), ("product", "hoodie")]
    wider = [{"entity": "product", "start": 0, "end": 12, "value": "zip hoodies", "extractor": "DIETClassifier"}]
    assert merge(wider, []) == wider
    assert entities(component, "zip hoodies", [{**wider[0], "start": 0, "end": 11}]) == [("product", "zip hoodies")]
    size = [{"entity": "size", "start": 9, "end": 10, "value": "M", "extractor": "DIETClassifier"}]
    assert entities(component, "hoodie in M", size) == [("product", "hoodie"), ("size", "M")]


def test_order_ids_and_emails_come_from_our_patterns_only(tmp_path: Path, catalog: Path) -> None:
    component = trained(tmp_path, catalog)
    code = [{"entity": "order_id", "start": 0, "end": 6, "value": "172846", "extractor": "DIETClassifier"}]
    assert entities(component, "172846", code) == []  # a one-time code is not an order number
    guessed = [{"entity": "email", "start": 7, "end": 15, "value": "ana at x", "extractor": "DIETClassifier"}]
    assert entities(component, "mail: ana at x", guessed) == []
    given = [{"entity": "order_id", "start": 6, "end": 15, "value": "SO-108145", "extractor": "DIETClassifier"}]
    assert entities(component, "order SO-108145 pls", given) == [("order_id", "SO-108145")]
