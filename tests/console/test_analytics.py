"""Analytics: each figure on hand-built data (SQLite and PostgreSQL), the channel filter, empty ranges, bad input,
escaping of customer-written names, and the charts themselves."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from console.analytics import Period, build_report
from console.charts import Series, bars, line, nice_ceiling, stacked_columns
from console.models import ConversationIntent, ConversationSummary
from store.customers import create_customer
from store.database import ShopDatabase
from store.models import CsatRating, Interaction, Ticket
from tests.console.conftest import ROLE_USERS, Console, log_in
from tests.local_services import ensure_postgres
from tests.store.factories import add_product

EVIL_INTENT = "<script>alert('intent')</script>"
EVIL_CHANNEL = 'web"><img src=x onerror=alert(1)>'
OCTOBER = Period(dt.date(2026, 10, 1), dt.date(2026, 10, 7))
PG_DATABASE = f"console_analytics_test_{os.getpid()}"


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Chat:
    sender: str
    channel: str
    started: dt.datetime
    messages: int = 1
    handed_off: bool = False
    fallback: bool = False
    ticket: int | None = None
    sentiment: float | None = 0.0
    intents: tuple[str, ...] = ("greet",)


CHATS = [
    Chat("c1", "socketio", at(1, 10), 2, sentiment=0.5, intents=("greet", "product_search")),
    Chat(
        "c2",
        "socketio",
        at(1, 23, 59, 59),
        handed_off=True,
        ticket=1,
        sentiment=-0.6,
        intents=("human_handoff", "greet"),
    ),
    Chat("c3", "telegram", at(2, 0), 3, fallback=True, sentiment=0.0, intents=("greet", EVIL_INTENT)),
    Chat("c4", "telegram", at(3, 8), ticket=5, sentiment=-0.3, intents=("complaint",)),  # -0.3 itself is neutral
    Chat("c5", "rest", at(3, 9), 2, sentiment=None),  # no sentiment: in the counts, not in the sentiment figures
    # outside: after the last day, before the first, and a chat opened without a word from the customer
    Chat("c6", "socketio", at(8, 0), sentiment=0.9, intents=("goodbye",)),
    Chat("c7", "socketio", at(30, 23, 59, 59, month=9), handed_off=True, intents=("goodbye",)),
    Chat("c8", "telegram", at(2, 9), messages=0, intents=()),
]


def seed(session: Session) -> None:
    """The hand-built week of October 2026 the expected figures below are worked out from."""
    for chat in CHATS:
        session.add(
            ConversationSummary(
                sender_id=chat.sender,
                channel=chat.channel,
                started_at=chat.started,
                last_event_at=chat.started + dt.timedelta(minutes=5),
                user_messages=chat.messages,
                avg_sentiment=chat.sentiment,
                handed_off=chat.handed_off,
                had_fallback=chat.fallback,
                ticket_id=chat.ticket,
            )
        )
    session.flush()  # the summaries before their intents (no ORM relationship orders them)
    for chat in CHATS:
        session.add_all(ConversationIntent(sender_id=chat.sender, intent=intent) for intent in chat.intents)
    for chat_id, score, day in (("c1", 5, 1), ("c3", 4, 2), ("c4", 1, 3), ("not-synced", 4, 5), ("c6", 2, 8)):
        session.add(CsatRating(channel="web", session_id=chat_id, score=score, created_at=at(day)))

    x = create_customer(session, name="Xena Example", email="x@example.com").id
    y = create_customer(session, name="Yann Example", email="y@example.com").id
    for product in ("P1", "P2", "P3"):
        add_product(session, product)

    def did(kind: str, product: str, when: dt.datetime, customer: int | None = None, chat: str | None = None) -> None:
        session.add(Interaction(kind=kind, product_id=product, customer_id=customer, session_id=chat, occurred_at=when))

    did("recommended", "P1", at(2), customer=x)  # clicked (twice: counts once) and bought 7 days later, after the range
    did("clicked", "P1", at(3), customer=x)
    did("clicked", "P1", at(4), customer=x)
    did("purchased", "P1", at(9, 11, 59), customer=x)
    did("recommended", "P2", at(2), customer=x)  # clicked a second too late; another customer's cart does not count
    did("clicked", "P2", at(9, 12, 0, 1), customer=x)
    did("added_to_cart", "P2", at(3), customer=y)
    did("recommended", "P1", at(4), chat="s-anon")  # put in the cart by the same anonymous chat, clicked by another
    did("added_to_cart", "P1", at(4, 13), chat="s-anon")
    did("clicked", "P1", at(4, 13), chat="s-other")
    did("recommended", "P3", at(6), customer=x)  # clicked only before it was recommended
    did("clicked", "P3", at(5), customer=x)
    did("recommended", "P1", at(30, month=9), customer=x)  # before the range: not an impression of it
    did("shown", "P2", at(5), chat="s-anon")  # a search result, clicked
    did("clicked", "P2", at(5, 12, 30), chat="s-anon")
    did("shown", "P3", at(5), chat="s-anon")

    def handoff(
        created: dt.datetime, assignee: str | None, seconds: int | None, chat: str, category: str = "handoff"
    ) -> None:
        session.add(
            Ticket(
                category=category,
                priority="normal",
                subject="wants a person",
                conversation_id=chat,
                assignee=assignee,
                created_at=created,
                sla_due=created + dt.timedelta(hours=1),
                claimed_at=created if assignee else None,
                first_response_at=created + dt.timedelta(seconds=seconds) if seconds is not None else None,
            )
        )

    handoff(at(1, 10), "sam@example.com", 120, "c2")
    handoff(at(2, 10), "sam@example.com", 60, "c1")
    handoff(at(3, 10), "sam@example.com", 600, "c1")
    handoff(at(3, 11), "kim@example.com", 30, "c3")
    handoff(at(3, 12), "kim@example.com", 90, "c1")
    handoff(at(4, 10), None, None, "c4")  # still waiting: a handoff, not answered
    handoff(at(4, 11), "kim@example.com", 5, "c3", category="complaint")  # not a handoff
    handoff(at(8, 10), "kim@example.com", 5, "c6")  # after the range


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[ShopDatabase]:
    """A migrated shop database holding the seed, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = ShopDatabase(f"sqlite:///{tmp_path}/shop.db")
        cleanup = None
    else:
        host, port = ensure_postgres()
        cleanup = create_engine(f"postgresql+psycopg://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT")
        with cleanup.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
        # a session time zone far from UTC: the days must still be UTC days
        database = ShopDatabase(
            f"postgresql://postgres@{host}:{port}/{PG_DATABASE}?options=-ctimezone%3DPacific/Kiritimati"
        )
    database.upgrade()
    with database.transaction() as session:
        seed(session)
    try:
        yield database
    finally:
        database.dispose()
        if cleanup is not None:
            with cleanup.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            cleanup.dispose()


def test_every_figure_on_hand_built_data(shop: ShopDatabase) -> None:
    with shop.transaction() as session:
        report = build_report(session, OCTOBER)

    conversations = report.conversations
    assert conversations.total == 5  # c1-c5
    assert (conversations.contained, conversations.containment) == (3, 0.6)  # c1, c3, c5: no person, no ticket
    assert (conversations.handed_off, conversations.handoff_rate) == (1, 0.2)
    assert (conversations.fallback, conversations.fallback_rate) == (1, 0.2)
    assert conversations.per_day == {
        "2026-10-01": {"socketio": 2},  # 23:59:59 UTC is still the 1st
        "2026-10-02": {"telegram": 1},
        "2026-10-03": {"telegram": 1, "rest": 1},
    }
    assert conversations.channels == ["socketio", "telegram", "rest"]  # busiest first, then by name
    assert conversations.sentiment == {"negative": 1, "neutral": 2, "positive": 1}
    assert conversations.sentiment_trend == pytest.approx({"2026-10-01": -0.05, "2026-10-02": 0.0, "2026-10-03": -0.3})

    assert [(i.intent, i.conversations) for i in report.intents] == [
        ("greet", 4),
        (EVIL_INTENT, 1),  # ties by name; '<' sorts before letters
        ("complaint", 1),
        ("human_handoff", 1),
        ("product_search", 1),
    ]

    assert report.csat.distribution == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}
    assert (report.csat.count, report.csat.mean) == (4, 3.5)  # by the day rated, synced chat or not

    suggestions, search = report.recommendations["recommended"], report.recommendations["shown"]
    assert (suggestions.impressions, suggestions.clicked, suggestions.added_to_cart, suggestions.purchased) == (
        4,
        1,
        1,
        1,
    )
    assert (suggestions.click_through, suggestions.cart_rate, suggestions.conversion) == (0.25, 0.25, 0.25)
    assert (search.impressions, search.clicked, search.added_to_cart, search.purchased) == (2, 1, 0, 0)
    assert search.click_through == 0.5

    first = report.first_response
    assert first.handoffs == 6
    assert first.overall is not None
    assert (first.overall.answered, first.overall.median_seconds) == (5, pytest.approx(90, abs=0.01))
    assert [(r.assignee, r.answered, round(r.median_seconds, 2)) for r in first.per_assignee] == [
        ("kim@example.com", 2, 60.0),  # the mean of the two middle values
        ("sam@example.com", 3, 120.0),
    ]
    assert report.channels == ["rest", "socketio", "telegram"]


def test_one_channel(shop: ShopDatabase) -> None:
    with shop.transaction() as session:
        report = build_report(session, Period(OCTOBER.date_from, OCTOBER.date_to, "telegram"))
    conversations = report.conversations
    assert (conversations.total, conversations.contained, conversations.handed_off, conversations.fallback) == (
        2,
        1,
        0,
        1,
    )
    assert conversations.per_day == {"2026-10-02": {"telegram": 1}, "2026-10-03": {"telegram": 1}}
    assert sorted((i.intent, i.conversations) for i in report.intents) == [
        (EVIL_INTENT, 1),
        ("complaint", 1),
        ("greet", 1),
    ]
    assert report.csat.distribution == {1: 1, 2: 0, 3: 0, 4: 1, 5: 0}  # c3 and c4's ratings
    assert report.first_response.handoffs == 2  # the tickets of c3 and c4
    assert report.first_response.overall is not None
    assert (report.first_response.overall.answered, report.first_response.overall.median_seconds) == (
        1,
        pytest.approx(30, abs=0.01),
    )


def test_a_range_without_data_has_no_rates(shop: ShopDatabase) -> None:
    with shop.transaction() as session:
        report = build_report(session, Period(dt.date(2025, 1, 1), dt.date(2025, 1, 31)))
    conversations = report.conversations
    assert conversations.total == 0
    assert conversations.containment is None and conversations.handoff_rate is None
    assert conversations.fallback_rate is None and conversations.sentiment_trend == {}
    assert report.intents == [] and report.csat.count == 0 and report.csat.mean is None
    assert all(f.impressions == 0 and f.click_through is None for f in report.recommendations.values())
    assert report.first_response.handoffs == 0 and report.first_response.overall is None


def _october(console: Console) -> None:
    with console.state.db.transaction() as session:
        seed(session)
        session.add(
            ConversationSummary(
                sender_id="evil",
                channel=EVIL_CHANNEL,
                started_at=at(7),
                last_event_at=at(7),
                user_messages=1,
                avg_sentiment=0.0,
            )
        )
        session.flush()
        session.add(ConversationIntent(sender_id="evil", intent=EVIL_INTENT))


def test_the_page_shows_the_figures_with_charts_and_tables(console: Console) -> None:
    _october(console)
    client = console.client()
    log_in(client, ROLE_USERS["annotator"])
    page = client.get("/analytics?from=2026-10-01&to=2026-10-07")
    assert page.status_code == 200
    html = page.text

    def figure(name: str) -> str:
        match = re.search(rf'id="{name}">([^<]*)<', html)
        assert match, name
        return match.group(1)

    assert figure("fig-conversations") == "6"  # the five above and the hostile channel's
    assert figure("fig-containment") == "66.7 %"
    assert figure("fig-handoff") == "16.7 %"
    assert figure("fig-fallback") == "16.7 %"
    assert figure("fig-csat") == "3.50"
    assert figure("fig-first-response") == "1 min 30 s"
    assert figure("sentiment-neutral") == "3"
    assert figure("csat-4") == "2"
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 5
    assert html.count('role="img"') == 5
    assert "<title>Conversations per day by channel</title>" in html
    assert re.search(r'id="impressions-recommended">.*?25\.0 % \(1\)', html, re.S)
    assert "kim@example.com" in html and "2 min 0 s" in html  # sam's median


def test_customer_written_names_stay_text(console: Console) -> None:
    _october(console)
    client = console.client()
    log_in(client, ROLE_USERS["agent"])
    html = client.get("/analytics?from=2026-10-01&to=2026-10-07").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html  # in the chart and in the table
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 2  # the channel option and the table header
    assert html.count("&lt;img src=x") >= 3  # and the chart legend (cut short)
    filtered = client.get("/analytics", params={"from": "2026-10-01", "to": "2026-10-07", "channel": EVIL_CHANNEL})
    assert filtered.status_code == 200 and "<img src=x" not in filtered.text
    assert re.search(r'id="fig-conversations">1<', filtered.text)


def test_an_empty_range_says_no_data(console: Console) -> None:
    client = console.client()
    log_in(client, ROLE_USERS["agent"])
    page = client.get("/analytics?from=2025-01-01&to=2025-01-31")
    assert page.status_code == 200
    assert re.search(r'id="fig-conversations">0<', page.text)
    assert re.search(r'id="fig-containment">no data<', page.text)
    assert re.search(r'id="fig-csat">no data<', page.text)
    assert "No conversations in this range." in page.text and "No ratings in this range." in page.text
    assert "<svg" not in page.text


def test_the_default_range_is_the_last_30_days(console: Console) -> None:
    client = console.client()
    log_in(client, ROLE_USERS["admin"])
    html = client.get("/analytics").text
    today = dt.datetime.now(dt.UTC).date()
    assert f'name="to" value="{today.isoformat()}"' in html
    assert f'name="from" value="{(today - dt.timedelta(days=29)).isoformat()}"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-02-30", "&#39;from&#39; must be a date like 2026-11-28."),
        ("to=yesterday", "&#39;to&#39; must be a date like 2026-11-28."),
        ("from=2026-10-08&to=2026-10-07", "&#39;from&#39; must not be after &#39;to&#39;."),
        ("from=2025-01-01&to=2026-01-02", "The range can span at most 366 days."),
        ("channel=" + "x" * 65, "&#39;channel&#39; is longer than 64 characters."),
    ],
)
def test_bad_input_gets_a_clear_400(console: Console, query: str, message: str) -> None:
    client = console.client()
    log_in(client, ROLE_USERS["agent"])
    page = client.get(f"/analytics?{query}")
    assert page.status_code == 400
    assert message in page.text


def test_a_leap_year_fits_in_the_longest_range(console: Console) -> None:
    client = console.client()
    log_in(client, ROLE_USERS["agent"])
    assert client.get("/analytics?from=2028-01-01&to=2028-12-31").status_code == 200  # 366 days


def test_chart_axes_and_gaps() -> None:
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 3, 7, 11, 120, 501)] == [1, 0.5, 1, 5, 10, 20, 200, 1000]
    trend = line("trend", ["a", "b", "c", "d"], Series("s", [0.5, None, -0.5, 0.0]), -1.0, 1.0)
    path = re.search(r' d="([^"]+)"', trend)
    assert path and path.group(1).count("M") == 2 and path.group(1).count("L") == 1  # broken at the gap
    assert trend.count("<circle") == 3
    columns = stacked_columns("per day", ["10-01", "10-02"], [Series("a", [2, 0]), Series("b", [1, 3])])
    assert columns.count("<rect") == 3 + 2  # three non-zero pieces and two legend keys
    assert re.findall(r'text-anchor="end">([^<]+)<', columns) == ["0", "1", "2", "3", "4"]
    empty = bars("nothing", [], [])
    assert empty.startswith("<svg") and "<rect" not in empty
    long = bars("long", ["x" * 40], [1])
    assert "x" * 27 + "…" in long and "x" * 28 not in long
