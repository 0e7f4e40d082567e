"""Answers to questions about one product, from the catalog's data only.

"is it waterproof?", "what sizes?", "in stock?", "does it fit a 15-inch laptop?": each question is
matched to the fields that can answer it (stock, sizes, colour, material, price, rating) or looked
up in the product's own description and attributes. When the data does not say, the answer says so
(`known=False`) and the assistant offers a person: nothing is ever guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.prices import money
from catalog.products import Product


@dataclass(frozen=True)
class Answer:
    """What to tell the customer, and whether the catalog actually knew."""

    text: str
    known: bool
    topic: str


_STOCK = re.compile(
    r"\b(?:in stock|stock|available|availability|sold out|back in|when can i get|have any left)\b", re.I
)
_SIZES = re.compile(r"\b(?:sizes?|sizing|fit me|run (?:small|big|large)|true to size|size up|size down)\b", re.I)
_FIT = re.compile(r"\b(?:run|runs|true to size|size up|size down|fit me)\b", re.I)
_COLOR = re.compile(r"\b(?:colou?rs?|shades?)\b", re.I)
_MATERIAL = re.compile(r"\b(?:made of|made from|material|fabric|what is it made|leather|cotton|wool|real)\b", re.I)
_PRICE = re.compile(r"\b(?:how much|price|cost|costs)\b", re.I)
_RATING = re.compile(r"\b(?:rating|rated|reviews?|stars?|any good|good quality)\b", re.I)
# A measurement the customer needs ("15-inch laptop", "2 cm branches", "24 hours").
_MEASURE = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*-?\s*(inch(?:es)?|in\b|\"|cm|mm|litres?|liters?|l\b|kg|hours?|h\b)", re.I)
# Yes/no feature questions: "is it waterproof", "does it have pockets", "machine washable?"
_FEATURE = re.compile(
    r"^(?:(?:is|are|does|do|can|will|has|have)\s+(?:it|they|this|that|these|those|the \w+(?: \w+)?)\s+)?"
    r"(?:(?:be|have|come with|got|a|an)\s+)?(?P<feature>[a-z][a-z -]{2,40}?)\s*\??$",
    re.I,
)
_FILLER = frozenset(
    {"it", "they", "this", "that", "one", "the", "a", "an", "is", "are", "does", "do", "can", "will", "be",
     "have", "has", "with", "come", "really", "actually", "fully", "properly", "still", "please", "pls", "u",
     "you", "tell", "me", "what", "which", "how", "if", "whether", "of", "for", "to", "in", "on", "and", "or",
     "just", "any", "some"}
)  # fmt: skip


def answer_question(product: Product, question: str) -> Answer:
    """The answer to a customer's question about `product`, from its data only."""
    question = (question or "")[:1000]
    name = product.title
    sizes = [s for s in product.attributes.get("sizes", "").split("/") if s]
    if _STOCK.search(question):
        if product.stock > 0:
            few = " (only a few left)" if product.stock <= 3 else ""
            return Answer(f"Yes, the {name} is in stock{few}.", True, "stock")
        return Answer(f"Sorry, the {name} is out of stock right now.", True, "stock")
    if _SIZES.search(question):
        listed = f"It comes in sizes {', '.join(sizes)}." if sizes else "The details list no size options."
        if _FIT.search(question):
            return Answer(f"The product details don't say how the {name} fits. {listed}", False, "fit")
        return Answer(f"The {name} comes in sizes {', '.join(sizes)}." if sizes else listed, bool(sizes), "sizes")
    measure = _MEASURE.search(question)
    if measure:
        return _measured(product, measure.group(0).strip())
    if _COLOR.search(question) and product.attributes.get("color"):
        return Answer(f"This {name} is {product.attributes['color']}.", True, "color")
    if _MATERIAL.search(question) and product.attributes.get("material"):
        return Answer(f"The {name} is made of {product.attributes['material']}.", True, "material")
    if _PRICE.search(question):
        return Answer(f"The {name} costs {money(product.price, product.currency)}.", True, "price")
    if _RATING.search(question) and product.rating:
        return Answer(f"Customers rate the {name} {product.rating:.1f} out of 5.", True, "rating")
    return _feature(product, question)


def _product_text(product: Product) -> str:
    attributes = " ".join(f"{k} {v}" for k, v in product.attributes.items())
    return f"{product.title}. {product.description} {attributes}".lower()


def _sentence_with(product: Product, words: list[str]) -> str | None:
    for sentence in re.split(r"(?<=[.!?])\s+", product.description):
        lowered = sentence.lower()
        if all(word in lowered for word in words):
            return sentence.strip()
    return None


def _measured(product: Product, measure: str) -> Answer:
    number = re.match(r"\d+(?:[.,]\d+)?", measure)
    if number and number.group(0) in _product_text(product):
        sentence = _sentence_with(product, [number.group(0)])
        if sentence:
            return Answer(f'The details of the {product.title} say: "{sentence}"', True, "measure")
    return Answer(
        f"The product details of the {product.title} don't give its measurements, so I can't say for sure "
        f"about {measure}.",
        False,
        "measure",
    )


def _feature(product: Product, question: str) -> Answer:
    match = _FEATURE.match(question.strip().lower().rstrip("?!. "))
    words = re.findall(r"[a-z0-9]+", (match.group("feature") if match else question).lower())
    wanted = [w for w in words if w not in _FILLER]
    if not wanted:
        return Answer(f"What would you like to know about the {product.title}?", False, "unclear")
    text = _product_text(product)
    stems = [w[:-1] if len(w) > 4 and w.endswith("s") else w for w in wanted]
    if all(stem in text for stem in stems):
        sentence = _sentence_with(product, stems)
        quoted = f': "{sentence}"' if sentence else "."
        return Answer(f"Yes, according to its details{quoted}", True, "feature")
    return Answer(
        f"The product details of the {product.title} don't mention \"{' '.join(wanted)}\", and I don't want to guess.",
        False,
        "feature",
    )
