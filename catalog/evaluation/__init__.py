"""Measuring search relevance: our labelled relevance set, the WANDS format, and ranking metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from catalog.products import Product

RELEVANCE_SET = Path(__file__).resolve().parent / "relevance_set.yml"


@dataclass(frozen=True)
class JudgedQuery:
    """A query and the graded relevance (2 exact, 1 partial) of the products that are relevant."""

    query: str
    grades: dict[str, int]


def _matches(product: Product, rule: Mapping[str, Any]) -> bool:
    attributes = product.attributes
    if "type" in rule and attributes.get("type") not in set(rule["type"]):
        return False
    if "color" in rule and attributes.get("color", "").lower() != str(rule["color"]).lower():
        return False
    if "brand" in rule and product.brand.lower() != str(rule["brand"]).lower():
        return False
    if "max_price" in rule and product.price > float(rule["max_price"]):
        return False
    if "min_price" in rule and product.price < float(rule["min_price"]):
        return False
    if "size" in rule:
        sizes = {s.lower() for s in attributes.get("sizes", "").split("/")}
        if str(rule["size"]).lower() not in sizes:
            return False
    return True


def load_relevance_set(products: Sequence[Product], path: Path = RELEVANCE_SET) -> list[JudgedQuery]:
    """Our labelled queries, graded against a catalog by their rules."""
    judged = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
        grades: dict[str, int] = {}
        for product in products:
            if _matches(product, entry["rel"]):
                grades[product.id] = 2
            elif entry.get("part", {}).get("type") and _matches(product, entry["part"]):
                grades[product.id] = 1
        judged.append(JudgedQuery(str(entry["q"]), grades))
    return judged


def ndcg_at(ranking: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the top k, with gains 2^grade - 1."""
    dcg = sum((2 ** grades.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranking[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranking: Sequence[str], grades: Mapping[str, int], k: int = 50) -> float:
    """Share of the relevant products (grade >= 1) found in the top k."""
    relevant = {pid for pid, g in grades.items() if g > 0}
    return len(relevant & set(ranking[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranking: Sequence[str], grades: Mapping[str, int]) -> float:
    """1 / rank of the first relevant product (0 when none is ranked)."""
    return next((1.0 / (i + 1) for i, pid in enumerate(ranking) if grades.get(pid, 0) > 0), 0.0)
