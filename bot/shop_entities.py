"""Catalog-aware entity extraction: the shop's own vocabulary, and the patterns of ids, emails,
phone numbers and prices.

At training time the component reads the catalog file (`catalog_file`, JSON lines as written by
`python -m catalog build`) and turns its brands, colours, materials, product types and categories
into spaCy PhraseMatcher patterns; they are stored in the model, so serving needs no catalog. At
parse time it finds those phrases (longest match wins), order numbers (SO-123456, #123456,
"order 123456"), emails, phone numbers, prices and price ranges ("under 50", "between 20 and 40
dollars", "$30-$60"), normalises the values (order ids to SO-123456, prices to numbers, colours and
products to the catalog's words) and replaces DIET's entities where they overlap.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from catalog.prices import price_phrases

PATTERNS_FILE = "vocabulary.json"
EXTRACTOR = "ShopEntityExtractor"
COLOR_SYNONYMS = {"gray": "grey", "multicolor": "multicolour", "multi-colour": "multicolour", "navy blue": "navy"}
# Category words that are also everyday verbs or adjectives ("I go running") are not products.
NOT_PRODUCTS = frozenset({"running", "hiking", "casual", "accessories"})

ORDER_ID = re.compile(
    r"\b(?:so[-\s]?(\d{6}))\b|#\s?(\d{6})\b|\border\s*(?:number|no\.?|nr\.?|id)?\s*(?:is|was|:)?\s*(\d{6})\b",
    re.IGNORECASE,
)
# entities only our patterns find (see `merge`)
PATTERN_ONLY = frozenset({"order_id", "email"})
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(r"(?<![\w#-])\+?\d[\d\s().-]{5,18}\d(?![\w-])")


@dataclass(frozen=True)
class Found:
    """One entity found in the text."""

    entity: str
    start: int
    end: int
    value: str

    def overlaps(self, start: int, end: int) -> bool:
        """True when [start, end) shares a character with this entity."""
        return self.start < end and start < self.end


def plural_forms(phrase: str) -> set[str]:
    """The phrase, and its last word in singular and plural ("hoodie" -> "hoodies", "boots" -> "boot")."""
    words = phrase.split()
    last = words[-1]
    forms = {last}
    if last.endswith("ies"):
        forms.add(last[:-3] + "y")
    elif last.endswith(("ses", "xes", "ches", "shes")):
        forms.add(last[:-2])
    elif last.endswith("s") and not last.endswith("ss"):
        forms.add(last[:-1])
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        forms.add(last[:-1] + "ies")
    elif last.endswith(("s", "x", "ch", "sh")):
        forms.add(last + "es")
    else:
        forms.add(last + "s")
    return {" ".join([*words[:-1], form]) for form in forms}


def vocabulary_of(catalog_file: Path) -> dict[str, dict[str, str]]:
    """entity -> {phrase (lower case) -> canonical value} from the catalog's products."""
    vocabulary: dict[str, dict[str, str]] = {"brand": {}, "color": {}, "material": {}, "product": {}}
    for line in catalog_file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        product = json.loads(line)
        attributes = product.get("attributes") or {}
        if product.get("brand"):
            vocabulary["brand"][str(product["brand"]).lower()] = str(product["brand"])
        if attributes.get("color"):
            vocabulary["color"][str(attributes["color"]).lower()] = str(attributes["color"]).lower()
        if attributes.get("material"):
            vocabulary["material"][str(attributes["material"]).lower()] = str(attributes["material"]).lower()
        kind = str(attributes.get("type") or "").lower()
        if kind:
            for form in plural_forms(kind):
                vocabulary["product"][form] = kind
        for part in str(product.get("category") or "").split(">"):
            leaf = part.strip().lower()
            if leaf and leaf not in NOT_PRODUCTS:
                vocabulary["product"].setdefault(leaf, leaf)
    for synonym, canonical in COLOR_SYNONYMS.items():
        if canonical in vocabulary["color"]:
            vocabulary["color"][synonym] = canonical
    return vocabulary


def pattern_entities(text: str) -> Iterator[Found]:
    """Order ids, emails, phone numbers, price ranges, bounds and amounts (first come, first kept)."""
    taken: list[Found] = []

    def add(found: Found) -> Iterator[Found]:
        if not any(other.overlaps(found.start, found.end) for other in taken):
            taken.append(found)
            yield found

    for match in EMAIL.finditer(text):
        yield from add(Found("email", match.start(), match.end(), match.group(0)))
    for match in ORDER_ID.finditer(text):
        digits = next(g for g in match.groups() if g)
        yield from add(Found("order_id", match.start(), match.end(), f"SO-{digits}"))
    for phrase in price_phrases(text):
        entity = {"min": "price_min", "max": "price_max"}.get(phrase.kind, "price")
        yield from add(Found(entity, phrase.start, phrase.end, f"{phrase.value:g}"))
    for match in PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 7 <= len(digits) <= 15:
            yield from add(Found("phone", match.start(), match.end(), match.group(0).strip()))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class ShopEntityExtractor(GraphComponent):
    """Adds the catalog's and the patterns' entities; ours win where DIET's overlap them."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`catalog_file`: the shop's catalog (JSON lines) read at training time."""
        return {"catalog_file": None}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when the catalog changes."""
        path = Path(str(config.get("catalog_file")))
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "no catalog"

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._vocabulary = vocabulary or {}
        self._matcher = self._build_matcher(self._vocabulary)

    @staticmethod
    def _build_matcher(vocabulary: dict[str, dict[str, str]]) -> Any:
        import spacy
        from spacy.matcher import PhraseMatcher

        nlp = spacy.blank("en")
        matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for entity, phrases in vocabulary.items():
            matcher.add(entity, [nlp.make_doc(phrase) for phrase in sorted(phrases)])
        return nlp, matcher

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ShopEntityExtractor:
        """A new component with an empty vocabulary."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Read the catalog's vocabulary and keep it in the model."""
        catalog = self._config.get("catalog_file")
        if not catalog or not Path(catalog).is_file():
            raise ValueError(f"ShopEntityExtractor needs `catalog_file`: the shop's catalog, got {catalog!r}")
        vocabulary = vocabulary_of(Path(catalog))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / PATTERNS_FILE).write_text(json.dumps(vocabulary, sort_keys=True), encoding="utf-8")
        self._vocabulary = vocabulary
        self._matcher = self._build_matcher(vocabulary)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ShopEntityExtractor:
        """The trained component with its vocabulary."""
        with model_storage.read_from(resource) as directory:
            vocabulary = json.loads((directory / PATTERNS_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, vocabulary)

    def vocabulary_entities(self, text: str) -> list[Found]:
        """Catalog phrases in the text, longest first, without overlaps."""
        nlp, matcher = self._matcher
        doc = nlp.make_doc(text)
        spans = []
        for match_id, start, end in matcher(doc):
            entity = nlp.vocab.strings[match_id]
            span = doc[start:end]
            spans.append(Found(entity, span.start_char, span.end_char, self._vocabulary[entity][span.text.lower()]))
        spans.sort(key=lambda f: (-(f.end - f.start), f.start))
        kept: list[Found] = []
        for found in spans:
            if not any(other.overlaps(found.start, found.end) for other in kept):
                kept.append(found)
        return kept

    def entities(self, text: str) -> list[Found]:
        """Everything this component finds: patterns first, then the catalog's phrases."""
        found = list(pattern_entities(text))
        for phrase in self.vocabulary_entities(text):
            if not any(other.overlaps(phrase.start, phrase.end) for other in found):
                found.append(phrase)
        return sorted(found, key=lambda f: f.start)

    def process(self, messages: list[Message]) -> list[Message]:
        """Add our entities and merge them with the other extractors' (see `merge`)."""
        for message in messages:
            merged = merge(message.get(ENTITIES) or [], self.entities(message.get(TEXT) or ""))
            message.set(ENTITIES, merged, add_to_output=True)
        return messages


def merge(others: list[dict[str, Any]], ours: list[Found]) -> list[dict[str, Any]]:
    """Merge the other extractors' entities with ours.

    Order ids and emails are ours alone: the patterns decide what they look like, and another
    extractor's guess goes (DIET took a bare one-time code for an order id). Another extractor's
    entity that overlaps one of ours of a different type goes ("navy hoodie" as one product against
    our colour "navy" and product "hoodie"). Of the rest, a wider entity of the
    same type ("hiking socks" around our "socks") is more specific and stays instead of ours;
    otherwise ours win.
    """

    def span(e: dict[str, Any]) -> tuple[int, int]:
        return int(e.get("start", -1)), int(e.get("end", -1))

    survivors = [
        e
        for e in others
        if e.get("entity") not in PATTERN_ONLY
        and not any(f.overlaps(*span(e)) and f.entity != e.get("entity") for f in ours)
    ]
    kept_ours = [
        f
        for f in ours
        if not any(
            e.get("entity") == f.entity
            and span(e)[0] <= f.start
            and f.end <= span(e)[1]
            and span(e)[1] - span(e)[0] > f.end - f.start
            for e in survivors
        )
    ]
    kept = [e for e in survivors if not any(f.overlaps(*span(e)) for f in kept_ours)]
    for found in kept_ours:
        kept.append(
            {"entity": found.entity, "start": found.start, "end": found.end, "value": found.value,
             "confidence": 1.0, "extractor": EXTRACTOR}
        )  # fmt: skip
    return sorted(kept, key=lambda e: int(e.get("start", 0)))
