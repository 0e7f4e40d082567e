"""CSAT ratings (store/feedback.py): one per chat, a score of 1-5, an optional comment of bounded length."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store.database import ShopDatabase
from store.errors import InvalidInput
from store.feedback import AlreadyRated, record_rating
from store.models import CsatRating


def test_a_chat_is_rated_once_with_its_comment(db: ShopDatabase) -> None:
    with db.transaction() as session:
        rating = record_rating(session, "web", "a" * 32, 4, "  quick and friendly  ")
    assert (rating.score, rating.comment) == (4, "quick and friendly")
    with db.transaction() as session, pytest.raises(AlreadyRated):
        record_rating(session, "web", "a" * 32, 1, None)
    with db.transaction() as session:
        rows = session.execute(select(CsatRating.session_id, CsatRating.score, CsatRating.comment)).all()
    assert rows == [("a" * 32, 4, "quick and friendly")]


@pytest.mark.parametrize(
    ("score", "comment"),
    [
        (0, None),
        (6, None),
        ("5", None),
        (4.5, None),
        (True, None),
        (None, None),
        (3, "x" * 1001),
        (3, ["a"]),
        (3, "a\x00b"),
    ],
)
def test_bad_scores_and_comments_are_refused(db: ShopDatabase, score: object, comment: object) -> None:
    with db.transaction() as session, pytest.raises(InvalidInput):
        record_rating(session, "web", "b" * 32, score, comment)
