"""Interaction weighting, the models' shared interface, cold start, and the evaluation metrics."""

from __future__ import annotations

import datetime as dt

import pytest

from recommender.evaluation import Window, evaluate, holdout
from recommender.interactions import Event, build_matrix
from recommender.models import ALS, Hybrid, ItemKNN, Popularity, UserKNN

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def events() -> list[Event]:
    """Two tastes: runners buy running gear, cooks buy kitchen gear; the teapot is the best seller."""
    running = ["shoes", "shorts", "socks", "bottle"]
    kitchen = ["knife", "skillet", "grinder", "teapot"]
    out = []
    for n in range(12):
        taste = running if n % 2 == 0 else kitchen
        for item in taste[: 2 + n % 3]:
            out.append(Event(f"u{n}", item, "purchased", NOW - dt.timedelta(days=n)))
        out.append(Event(f"u{n}", "teapot", "viewed", NOW - dt.timedelta(days=1)))
    return out


def test_weights_decay_and_bad_events() -> None:
    data = build_matrix(
        [
            Event("a", "x", "purchased", NOW),
            Event("a", "x", "viewed", NOW),
            Event("a", "y", "purchased", NOW - dt.timedelta(days=90)),
            Event("a", "z", "liked", NOW),  # unknown kind
            Event("a", "w", "purchased", NOW, quantity=-2),  # returns are not taste
        ],
        now=NOW,
        half_life_days=90,
    )
    row = data.matrix[data.user_index["a"]].toarray().ravel()
    assert row[data.item_index["x"]] == pytest.approx(6.0)  # 5 + 1
    assert row[data.item_index["y"]] == pytest.approx(2.5)  # half of 5 after one half-life
    assert "z" not in data.item_index and "w" not in data.item_index


@pytest.mark.parametrize("model", [ItemKNN(10), UserKNN(5), Hybrid()])
def test_recommendations_follow_taste_and_skip_what_was_bought(model) -> None:  # type: ignore[no-untyped-def]
    data = build_matrix(events(), now=NOW)
    model.fit(data)
    runner = [item for item, _ in model.recommend("u0", 2)]  # u0 bought shoes and shorts
    assert set(runner) <= {"socks", "bottle", "teapot"}
    assert runner[0] in {"socks", "bottle"}
    assert not {"shoes", "shorts"} & set(runner)


def test_unknown_users_get_the_popular_items() -> None:
    data = build_matrix(events(), now=NOW)
    for model in (Popularity(), ItemKNN(10), UserKNN(5), ALS(8), Hybrid()):
        model.fit(data)
        assert model.recommend("never-seen", 1)[0][0] == "teapot"


def test_similar_items() -> None:
    model = ItemKNN(10).fit(build_matrix(events(), now=NOW))
    assert model.similar_items("knife", 2)[0][0] in {"skillet", "grinder"}
    assert model.similar_items("unknown") == []


def test_no_interactions_at_all() -> None:
    for model in (Popularity(), ALS(8)):
        model.fit(build_matrix([], now=NOW))
        assert model.recommend("anyone", 5) == []


def test_als_scores_every_item_for_a_known_user() -> None:
    data = build_matrix(events(), now=NOW)
    model = ALS(8, iterations=5).fit(data)
    assert model.scores(data.user_index["u0"]).shape == (len(data.items),)
    assert len(model.recommend("u0", 3)) == 3


def test_holdout_and_metrics() -> None:
    data = build_matrix(events(), now=NOW)
    window = holdout(data, [("u0", "socks"), ("u0", "shoes"), ("nobody", "socks"), ("u1", "unknown-item")])
    assert window.truth == {"u0": {"socks"}}  # bought before, unknown users and items left out
    result = evaluate(ItemKNN(10).fit(data), data, window, ks=(1, 5))
    assert result["users"] == 1 and result["hitrate@5"] == 1.0
    assert 0 < result["ndcg@5"] <= 1 and result["coverage@5"] > 0
    empty = evaluate(Popularity().fit(data), data, Window({}), ks=(5,))
    assert empty["users"] == 0
