"""Interaction weighting, the models' shared interface, cold start, explanations and filters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from recommender.associations import AssociationRules
from recommender.base import ItemFilter, Recommender
from recommender.bundle import BundleConfig, fit_bundle
from recommender.content import ContentBased
from recommender.factorisation import ALS, BPR
from recommender.hybrid import Hybrid
from recommender.interactions import Event, ItemInfo, build_matrix
from recommender.neighbours import ItemKNN, UserKNN, weighted
from recommender.popularity import Popularity, SegmentPopularity, Trending

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RUNNING = ["shoes", "shorts", "socks", "bottle"]
KITCHEN = ["knife", "skillet", "grinder", "teapot"]
INFO = {
    **{it: ItemInfo(title=f"running {it}", category="Running", price=20.0 + 10 * n) for n, it in enumerate(RUNNING)},
    **{it: ItemInfo(title=f"kitchen {it}", category="Kitchen", price=15.0 + 10 * n) for n, it in enumerate(KITCHEN)},
    "trail-shoes": ItemInfo(title="trail shoes", category="Running", price=90.0),
}
# Content: running things point one way, kitchen things the other; the trail shoes are new (no events).
EMBEDDINGS = {it: np.asarray([1.0, 0.1 * n], dtype=np.float32) for n, it in enumerate(RUNNING)}
EMBEDDINGS |= {it: np.asarray([0.1 * n, 1.0], dtype=np.float32) for n, it in enumerate(KITCHEN)}
EMBEDDINGS["trail-shoes"] = np.asarray([1.0, 0.0], dtype=np.float32)


def events() -> list[Event]:
    """Two tastes: runners buy running gear, cooks buy kitchen gear; everyone looked at the teapot lately."""
    out = []
    for n in range(12):
        taste = RUNNING if n % 2 == 0 else KITCHEN
        for item in taste[: 2 + n % 3]:
            out.append(Event(f"u{n}", item, "purchased", NOW - dt.timedelta(days=n), basket=f"order{n}"))
        out.append(Event(f"u{n}", "teapot", "viewed", NOW - dt.timedelta(days=1)))
    return out


def data():  # type: ignore[no-untyped-def]
    segments = {f"u{n}": ("GB" if n < 6 else "FR") for n in range(12)}
    return build_matrix(events(), now=NOW, items=sorted(INFO), segments=segments, info=INFO)


def every_model() -> list[Recommender]:
    return [
        Popularity(), Trending(), SegmentPopularity(min_users=2), ItemKNN(10), ItemKNN(10, "tfidf"),
        ItemKNN(10, "bm25"), UserKNN(5), ALS(8, iterations=5), BPR(8, iterations=20), ContentBased(EMBEDDINGS),
        AssociationRules(min_support=0.1), fit_bundle(data(), EMBEDDINGS).hybrid,
    ]  # fmt: skip


def test_weights_decay_and_bad_events() -> None:
    matrix = build_matrix(
        [
            Event("a", "x", "purchased", NOW, basket="o1"),
            Event("a", "x", "viewed", NOW),
            Event("a", "y", "purchased", NOW - dt.timedelta(days=90), basket="o1"),
            Event("a", "z", "liked", NOW),  # unknown kind
            Event("a", "w", "purchased", NOW, quantity=-2),  # returns are not taste
            Event("", "x", "purchased", NOW),  # no user
        ],
        now=NOW,
        half_life_days=90,
    )
    row = matrix.matrix[matrix.user_index["a"]].toarray().ravel()
    assert row[matrix.item_index["x"]] == pytest.approx(6.0)  # 5 + 1
    assert row[matrix.item_index["y"]] == pytest.approx(2.5)  # half of 5 after one half-life
    assert "z" not in matrix.item_index and "w" not in matrix.item_index and matrix.users == ["a"]
    assert matrix.baskets == [[matrix.item_index["x"], matrix.item_index["y"]]]
    assert (
        matrix.trend is not None and matrix.trend[matrix.item_index["x"]] > 100 * matrix.trend[matrix.item_index["y"]]
    )
    assert matrix.purchased is not None and matrix.purchased[0, matrix.item_index["x"]] == 1.0


@pytest.mark.parametrize(
    "model",
    [ItemKNN(10), ItemKNN(10, "tfidf"), ItemKNN(10, "bm25"), UserKNN(5), ContentBased(EMBEDDINGS),
     AssociationRules(min_support=0.1)],
    ids=lambda m: f"{m.name}-{getattr(m, 'weighting', '')}",
)  # fmt: skip
def test_recommendations_follow_taste_and_skip_what_was_bought(model: Recommender) -> None:
    model.fit(data())
    runner = [item for item, _ in model.recommend("u0", 2)]  # u0 bought shoes and shorts
    assert runner[0] in {"socks", "bottle", "trail-shoes"}
    assert not {"shoes", "shorts"} & set(runner)


def test_the_hybrid_follows_taste() -> None:
    hybrid = fit_bundle(data(), EMBEDDINGS).hybrid
    top = [item for item, _ in hybrid.recommend("u0", 3)]
    assert top[0] in {"socks", "bottle", "trail-shoes"} and not {"shoes", "shorts"} & set(top)


@pytest.mark.parametrize("model", every_model(), ids=lambda m: m.name)
def test_unknown_users_and_items_never_raise(model: Recommender) -> None:
    model.fit(data())
    assert model.similar_items("no-such-item") == []
    assert isinstance(model.explain("never-seen", "no-such-item"), str)
    ranked = model.recommend("never-seen", 3, session=["no-such-item"])
    if isinstance(model, Trending):
        assert ranked[0][0] == "shoes"  # six recent purchases outweigh twelve views this week
    elif not isinstance(model, AssociationRules):  # rules need something in the basket
        assert ranked[0][0] == "teapot"  # cold start: the item most people chose


@pytest.mark.parametrize(
    "model", [ItemKNN(10), UserKNN(5), ALS(8, iterations=10), ContentBased(EMBEDDINGS)], ids=lambda m: m.name
)
def test_a_new_visitor_is_served_from_the_session(model: Recommender) -> None:
    model.fit(data())
    top = [item for item, _ in model.recommend(None, 2, session=["knife", "skillet"])]
    assert set(top) <= set(KITCHEN) - {"knife", "skillet"}


def test_filters_category_price_and_exclusions() -> None:
    model = ItemKNN(10).fit(data())
    kitchen = [item for item, _ in model.recommend("u0", 5, filters=ItemFilter(category="Kitchen"))]
    assert kitchen and set(kitchen) <= set(KITCHEN)
    cheap = model.recommend("u1", 10, filters=ItemFilter(max_price=30.0))
    assert cheap and all(INFO[item].price <= 30.0 for item, _ in cheap)  # type: ignore[operator]
    assert "socks" not in [i for i, _ in model.recommend("u0", 5, filters=ItemFilter(exclude=frozenset({"socks"})))]


def test_a_new_item_reaches_people_through_content() -> None:
    content = ContentBased(EMBEDDINGS).fit(data())
    assert "trail-shoes" in [item for item, _ in content.similar_items("shoes", 3)]
    assert ItemKNN(10).fit(data()).similar_items("trail-shoes") == []  # nobody bought it: CF cannot see it
    hybrid = fit_bundle(data(), EMBEDDINGS).hybrid
    scores = hybrid.scores(hybrid.history("u0"))
    assert scores[hybrid.data.item_index["trail-shoes"]] > 0.1  # only content can score it
    assert hybrid.part("item_knn").scores(hybrid.history("u0"))[hybrid.data.item_index["trail-shoes"]] == 0
    running = hybrid.recommend("u0", 3, filters=ItemFilter(category="Running"))
    assert [item for item, _ in running][-1] == "trail-shoes" and running[-1][1] > 0


def test_explanations_name_the_reason() -> None:
    matrix = data()
    assert ItemKNN(10).fit(matrix).explain("u0", "socks").startswith("because you bought running ")
    assert ItemKNN(10).fit(matrix).explain(None, "skillet", session=["knife"]) == "because you looked at kitchen knife"
    assert Trending().fit(matrix).explain(None, "teapot") == "popular in Kitchen this week"
    assert SegmentPopularity(min_users=2).fit(matrix).explain("u0", "shoes") == "popular with customers in GB"
    assert ContentBased(EMBEDDINGS).fit(matrix).explain("u0", "trail-shoes").startswith("similar to what you bought")
    assert "customers" in UserKNN(5).fit(matrix).explain("u0", "socks")
    hybrid = fit_bundle(matrix, EMBEDDINGS).hybrid
    reasons = hybrid.explanations("u0", ["socks", "no-such-item"])
    assert reasons == {"socks": hybrid.explain("u0", "socks"), "no-such-item": "recommended for you"}
    assert hybrid.explain("u0", "socks").startswith(("because you bought", "goes with", "similar to"))
    assert hybrid.explain(None, "teapot") in {"popular in Kitchen this week", "a best seller in Kitchen"}


def test_association_rules_support_confidence_lift() -> None:
    baskets = [["a", "b"]] * 4 + [["a", "c"]] * 2 + [["d", "e"]] * 4
    shopping = [
        Event(f"c{n}", item, "purchased", NOW, basket=f"o{n}") for n, basket in enumerate(baskets) for item in basket
    ]
    rules = AssociationRules(min_support=0.1, min_confidence=0.1).fit(build_matrix(shopping, now=NOW))
    rule = rules.rules_from("a")[0]
    assert (rule.consequent, rule.support, rule.confidence) == ("b", pytest.approx(0.4), pytest.approx(4 / 6))
    assert rule.lift == pytest.approx((4 / 6) / 0.4)
    assert [r.consequent for r in rules.rules_from("a")] == ["b", "c"]
    assert rules.rules_from("d")[0].consequent == "e" and rules.rules_from("zzz") == []
    assert rules.explain("c0", "e") == "often bought together"  # c0 had a and b: no rule leads to e


def test_segment_popularity() -> None:
    shopping = [Event(f"g{n}", "tea", "purchased", NOW) for n in range(3)]
    shopping += [Event(f"f{n}", "wine", "purchased", NOW) for n in range(2)] + [Event("f9", "bread", "purchased", NOW)]
    matrix = build_matrix(shopping, now=NOW, segments={**{f"g{n}": "GB" for n in range(3)}, "f0": "FR", "f1": "FR"})
    model = SegmentPopularity(min_users=2).fit(matrix)
    assert model.recommend("f0", 1, exclude_seen=False)[0][0] == "wine"
    assert model.recommend("g0", 1, exclude_seen=False)[0][0] == "tea"
    assert model.recommend("f9", 1, exclude_seen=False)[0][0] == "tea"  # no segment: overall best seller


@pytest.mark.parametrize("model", every_model()[:-1], ids=lambda m: m.name)
def test_no_interactions_at_all(model: Recommender) -> None:
    empty = build_matrix([], now=NOW)
    assert model.fit(empty).recommend("anyone", 5) == []
    catalog_only = build_matrix([], now=NOW, items=sorted(INFO), info=INFO)
    ranked = model.fit(catalog_only).recommend("anyone", 3)  # no error, whatever the model can say
    assert len(ranked) <= 3 and {item for item, _ in ranked} <= set(INFO)


def test_an_empty_shop_trains_a_bundle() -> None:
    bundle = fit_bundle(build_matrix([], now=NOW, items=sorted(INFO), info=INFO), {}, BundleConfig())
    suggested = bundle.hybrid.recommend(None, 3)
    assert len(suggested) == 3 and {item for item, _ in suggested} <= set(INFO)
    assert bundle.associations.rules_from("shoes") == []


def test_bm25_weighting_discounts_users_who_buy_everything() -> None:
    matrix = build_matrix(events() + [Event("all", it, "purchased", NOW) for it in RUNNING + KITCHEN], now=NOW)
    item_users = matrix.matrix.T.tocsr()
    column = matrix.user_index["all"]
    for scheme in ("tfidf", "bm25"):
        reweighted = weighted(item_users, scheme).toarray()
        assert reweighted[:, column].max() < reweighted[:, matrix.user_index["u0"]].max()
    with pytest.raises(ValueError, match="unknown weighting"):
        weighted(item_users, "magic")


def test_hybrid_reuses_fitted_parts() -> None:
    matrix = data()
    knn = ItemKNN(10).fit(matrix)
    similarity = knn.similarity
    hybrid = Hybrid({"item_knn": (1.0, knn)}).fit(matrix)
    assert hybrid.parts["item_knn"][1] is knn and knn.similarity is similarity
