"""The relevance set, the WANDS loader and the ranking metrics the search benchmark reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.demo_catalog import generate_demo_catalog
from catalog.evaluation import load_relevance_set, ndcg_at, recall_at, reciprocal_rank
from catalog.evaluation.wands import load_wands

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wands"


def test_relevance_set_is_big_varied_and_graded() -> None:
    catalog = generate_demo_catalog()
    judged = load_relevance_set(catalog)
    assert len(judged) >= 150
    assert all(any(g == 2 for g in q.grades.values()) for q in judged), "every query has an exact answer"
    queries = [q.query for q in judged]
    assert len(set(queries)) == len(queries)
    constrained = [q for q in queries if any(w in q for w in ("under", "over", "size", " red", "black", "white"))]
    assert len(constrained) >= 20
    red_shoes = next(q for q in judged if q.query == "red running shoes")
    by_id = {p.id: p for p in catalog}
    assert all(by_id[pid].attributes["color"] == "red" for pid, g in red_shoes.grades.items() if g == 2)
    assert any(g == 1 for g in red_shoes.grades.values())


def test_wands_loader_reads_products_queries_and_grades() -> None:
    products, judged = load_wands(FIXTURES)
    assert [p.id for p in products] == ["W0", "W1", "W2"]
    assert products[0].category == "Furniture > Living Room Furniture > Coffee Tables"
    assert products[2].rating == 0.0  # "not-a-number" read as no rating
    assert [(q.query, q.grades) for q in judged] == [
        ("oak coffee table", {"W0": 2, "W1": 1}),
        ("green chair", {"W2": 2}),
    ]


def test_wands_loader_names_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"product\.csv, query\.csv, label\.csv"):
        load_wands(tmp_path)


def test_metrics() -> None:
    grades = {"a": 2, "b": 1, "c": 2}
    assert ndcg_at(["a", "c", "b"], grades) == pytest.approx(1.0)
    assert ndcg_at(["x", "y"], grades) == 0.0
    assert 0 < ndcg_at(["b", "a", "c"], grades) < 1
    assert recall_at(["a", "x"], grades, k=50) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x", "b"], grades) == 0.5
    assert reciprocal_rank([], grades) == 0.0
