"""The offline evaluation: time-split ground truth, ranking metrics and beyond-accuracy measures."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.evaluation import Window, evaluate, holdout, intra_list_diversity, score_rankings
from recommender.neighbours import ItemKNN
from recommender.popularity import Popularity
from tests.recommender.test_recommenders import data


def test_holdout_and_metrics() -> None:
    matrix = data()
    window = holdout(matrix, [("u0", "socks"), ("u0", "shoes"), ("nobody", "socks"), ("u1", "unknown-item")])
    assert window.truth == {"u0": {"socks"}}  # bought before, unknown users and items left out
    result = evaluate(ItemKNN(10).fit(matrix), matrix, window, ks=(1, 5))
    assert result["users"] == 1 and result["hitrate@5"] == 1.0
    assert 0 < result["ndcg@5"] <= 1 and result["coverage@5"] > 0
    empty = evaluate(Popularity().fit(matrix), matrix, Window({}), ks=(5,))
    assert empty["users"] == 0


def test_ranking_metrics_by_hand() -> None:
    matrix = data()
    window = Window({"u0": {"socks", "bottle"}})
    result = score_rankings({"u0": ["socks", "knife", "bottle"]}, matrix, window, ks=(1, 3))
    assert result["precision@1"] == 1.0 and result["precision@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["recall@1"] == 0.5 and result["recall@3"] == 1.0
    ideal = 1 + 1 / np.log2(3)
    assert result["ndcg@3"] == pytest.approx((1 + 1 / np.log2(4)) / ideal, abs=1e-4)
    assert result["map@3"] == pytest.approx((1 + 2 / 3) / 2, abs=1e-4)
    assert result["coverage@3"] == pytest.approx(3 / len(matrix.items), abs=1e-4)
    assert result["novelty@3"] > 0 and 0 <= result["popularity_percentile@3"] <= 1


def test_intra_list_diversity() -> None:
    units = np.asarray([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert intra_list_diversity([0, 1], units) == pytest.approx(0.0)
    assert intra_list_diversity([0, 2], units) == pytest.approx(1.0)
    assert intra_list_diversity([0, 1, 2], units) == pytest.approx(2 / 3)
    assert intra_list_diversity([0], units) == 0.0
