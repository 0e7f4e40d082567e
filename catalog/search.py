"""Find products for a customer's words: dense retrieval over the product index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog.embeddings import encode
from catalog.index import ProductIndex, load_index
from catalog.products import Product

# Cosine similarity below which a product is not a match for the query. Measured on the demo
# catalog: product-type queries score 0.49-0.66 against their products, while things the shop does
# not sell ("snowboard", "bikes", "pizza") and nonsense stay under 0.3.
MIN_SCORE = 0.42


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
        query = " ".join(query.split())
        if not query:
            return []
        vector = encode([query])
        scores, ids = self._index.vectors.search(vector, min(k, len(self._index.products)))
        hits = []
        for score, row in zip(scores[0], ids[0]):
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
