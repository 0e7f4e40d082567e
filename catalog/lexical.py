"""Keyword retrieval over the products' text with BM25 (bm25s)."""

from __future__ import annotations

import re

import bm25s
import numpy as np

from catalog.products import Product

_TOKEN = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    """A light English plural stemmer: jackets -> jacket, boxes -> box, batteries -> battery."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, lightly stemmed word tokens; the same for products and queries."""
    return [_stem(w) for w in _TOKEN.findall(text.lower())]


class LexicalIndex:
    """BM25 over the products' search text; rows are positions in the `faiss_ids` list given."""

    def __init__(self, products: list[Product], faiss_ids: list[int]) -> None:
        self._faiss_ids = np.asarray(faiss_ids, dtype=np.int64)
        self._retriever = bm25s.BM25()
        corpus = [tokens(p.search_text()) or ["_"] for p in products]
        self._retriever.index(corpus, show_progress=False)
        self._vocabulary = {t for doc in corpus for t in doc}
        self._words = {int(fid): frozenset(doc) for fid, doc in zip(faiss_ids, corpus, strict=True)}

    def words_of(self, faiss_id: int) -> frozenset[str]:
        """The (stemmed) words of one product's text."""
        return self._words.get(faiss_id, frozenset())

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(FAISS ids, BM25 scores) of up to k products sharing words with the query, best first."""
        words = [w for w in tokens(query) if w in self._vocabulary]
        k = min(k, len(self._faiss_ids))
        if not words or k == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        rows, scores = self._retriever.retrieve([words], k=k, show_progress=False, n_threads=1)
        keep = scores[0] > 0
        return self._faiss_ids[rows[0][keep]], scores[0][keep]
