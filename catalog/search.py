"""Find products for a customer's words: dense retrieval over the product index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog.embeddings import encode
from catalog.index import ProductIndex, load_index
from catalog.products import Product

# Cosine similarity below which a product is not a match for the query. Measured on the demo
# catalog (after clean_query): product questions score 0.49-0.66 against their products, while
# things the shop does not sell ("snowboards", "bikes", "pizza") and nonsense stay at or under 0.30.
MIN_SCORE = 0.42

# Words that frame a shopping question but say nothing about the product; they dilute the query
# embedding ("have you got a coffee grinder" scores 0.42 against grinders, "coffee grinder" 0.60).
QUESTION_WORDS = frozenset(
    {
        *("a", "an", "any", "are", "can", "carry", "do", "does", "find", "for", "get", "got", "have"),
        *("i", "i'd", "i'm", "im", "is", "looking", "me", "need", "please", "sell", "selling", "shop"),
        *("show", "some", "stock", "store", "the", "there", "to", "u", "want", "we", "you", "your"),
    }
)


def clean_query(text: str) -> str:
    """The product words of a customer's question: punctuation and question framing removed."""
    words = [w.strip("?!.,;:\"'()") for w in text.lower().split()]
    kept = [w for w in words if w and w not in QUESTION_WORDS]
    return " ".join(kept) if kept else " ".join(w for w in words if w)


@dataclass(frozen=True)
class SearchHit:
    """A product that matched, how well, and why."""

    product: Product
    score: float
    explanation: str


class ProductSearch:
    """Search over one loaded product index."""

    def __init__(self, index: ProductIndex) -> None:
        self._index = index

    @classmethod
    def from_directory(cls, index_dir: Path) -> ProductSearch:
        """Load the current index from disk (IndexMissing if there is none)."""
        return cls(load_index(index_dir))

    def search(self, query: str, k: int = 5, min_score: float = MIN_SCORE) -> list[SearchHit]:
        """Up to k products matching the query, best first; empty when nothing matches well enough."""
        query = clean_query(query)
        if not query:
            return []
        vector = encode([query])
        scores, ids = self._index.vectors.search(vector, min(k, len(self._index.products)))
        hits = []
        for score, row in zip(scores[0], ids[0], strict=True):
            if row < 0 or score < min_score:
                continue
            product = self._index.products[int(row)]
            hits.append(
                SearchHit(
                    product=product,
                    score=float(score),
                    explanation=f"close in meaning to '{query}' ({product.category}, similarity {score:.2f})",
                )
            )
        return hits
