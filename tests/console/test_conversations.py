"""The conversation list from Rasa's tracker store: sync, filters, search, saved filters, transcript, staff edits."""

from __future__ import annotations

import html as html_module
import logging
import re
import sqlite3
from urllib.parse import quote

import pytest
from sqlalchemy import select

from console.models import ConversationSummary, SavedFilter
from console.sync import sync_once
from console.tracker import TrackerReader
from tests.console.conftest import (
    ALL_SENDERS,
    INJECTION_SENDER,
    ROLE_USERS,
    START,
    XSS,
    Console,
    log_in,
    seed_tracker,
)


def listed(html: str) -> set[str]:
    """The conversation ids a list page shows (HTML-unescaped)."""
    return {html_module.unescape(s) for s in re.findall(r'class="conversation-link" href="[^"]*">([^<]*)</a>', html)}


@pytest.fixture
def agent(console: Console):  # type: ignore[no-untyped-def]
    client = console.client()
    client.csrf = log_in(client, ROLE_USERS["agent"])  # type: ignore[attr-defined]
    return client


def test_summaries_are_folded_from_the_tracker_events(console: Console) -> None:
    with console.state.db.transaction() as session:
        rows = {s.sender_id: s for s in session.scalars(select(ConversationSummary))}
        assert set(rows) == ALL_SENDERS
        alice, bob, carol = rows["alice-web"], rows["bob-rest"], rows["carol-telegram"]
        assert alice.channel == "socketio" and alice.user_messages == 2
        assert alice.customer_id == console.alice_customer_id  # linked by the verified channel identity
        assert alice.min_sentiment == pytest.approx(0.04 - 0.9) and alice.avg_sentiment == pytest.approx((-0.86) / 2)
        assert not alice.handed_off and not alice.had_fallback
        assert bob.had_fallback and not bob.handed_off and bob.channel == "rest"
        assert carol.handed_off and carol.ticket_id == console.carol_ticket_id and carol.channel == "telegram"
        assert alice.started_at.timestamp() == pytest.approx(START)


def test_sync_is_incremental_and_creates_the_missing_sender_index(console: Console) -> None:
    # a tracker without the index (as Rasa's PostgreSQL store leaves it): the console adds it
    with sqlite3.connect(console.tracker_path) as connection:
        connection.execute("DROP INDEX IF EXISTS ix_events_sender_id")
    reader = TrackerReader(f"sqlite:///{console.tracker_path}")
    assert reader.ensure_sender_index() is True
    assert reader.ensure_sender_index() is False
    reader.dispose()
    with sqlite3.connect(console.tracker_path) as connection:
        indexes = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'index'").fetchall()
        assert any("sender_id" in (sql or "") for (sql,) in indexes)

    assert sync_once(console.state.db, console.state.tracker).events == 0  # nothing new
    dave = {"sender": "dave-slack", "channel": "slack", "start": START + 8 * 86400, "turns": [{"user": "hello"}]}
    seed_tracker({"db": str(console.tracker_path)}, [dave])
    report = sync_once(console.state.db, console.state.tracker)
    assert report.events == 4 and report.conversations == 1  # session start, session_started, listen, user
    with console.state.db.transaction() as session:
        assert session.get(ConversationSummary, "dave-slack") is not None
        assert session.get(ConversationSummary, "alice-web").user_messages == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL_SENDERS),
        ("channel=rest", {"bob-rest", INJECTION_SENDER}),
        ("intent=order_status", {"alice-web"}),
        ("date_from=2026-11-25", {"bob-rest", "carol-telegram", INJECTION_SENDER}),
        ("date_to=2026-11-21", {"alice-web"}),
        ("date_from=2026-11-25&date_to=2026-11-25", {"bob-rest"}),
        ("min_sentiment_below=-0.5", {"alice-web"}),
        ("avg_sentiment_below=-0.3", {"alice-web"}),
        ("avg_sentiment_above=0.3", {"bob-rest"}),
        ("handed_off=yes", {"carol-telegram"}),
        ("handed_off=no", {"alice-web", "bob-rest", INJECTION_SENDER}),
        ("has_ticket=yes", {"carol-telegram"}),
        ("fallback=yes", {"bob-rest"}),
        ("review=unreviewed", ALL_SENDERS),
        ("review=reviewed", set()),
        ("customer=jane.doe@example.com", {"alice-web"}),
        ("customer=1", {"alice-web"}),
        ("q=RUNNING shoes", {"bob-rest"}),
        ("q=100%25", {INJECTION_SENDER}),
        ("q=%25", {INJECTION_SENDER}),  # % is a character here, not a wildcard
        ("q=_", {INJECTION_SENDER}),
        ("channel=rest&fallback=yes", {"bob-rest"}),
    ],
)
def test_list_filters(console: Console, agent, query: str, expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    page = agent.get(f"/conversations?{query}")
    assert page.status_code == 200
    assert listed(page.text) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "' OR '1'='1",
        "x'; DROP TABLE console_conversations;--",
        '" OR 1=1 --',
        "%' UNION SELECT password_hash FROM console_users --",
        "\\",
        "<img src=x onerror=alert(1)>",
        "\u0000",
    ],
)
def test_injection_strings_in_filters_and_search_are_harmless(console: Console, agent, hostile: str) -> None:  # type: ignore[no-untyped-def]
    for name in ("q", "channel", "intent", "tag", "customer"):
        page = agent.get(f"/conversations?{name}={quote(hostile)}")
        assert page.status_code == 200, (name, hostile)
        assert listed(page.text) <= ALL_SENDERS
        assert "$argon2" not in page.text and "<img src=x" not in page.text
    for name in ("date_from", "min_sentiment_below", "handed_off", "review", "page"):
        response = agent.get(f"/conversations?{name}={quote(hostile)}")
        assert response.status_code == 400, (name, hostile)
    assert listed(agent.get("/conversations").text) == ALL_SENDERS  # every table still there


def test_bad_filter_values_get_a_clear_400(agent, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="console"):
        response = agent.get("/conversations?date_from=yesterday")
    assert response.status_code == 400 and "date_from must be a date like 2026-11-28" in response.text
    logged = [r.getMessage() for r in caplog.records if r.name == "console"]
    assert logged == ["GET /conversations answered 400: date_from must be a date like 2026-11-28"]  # once, with why
    response = agent.get("/conversations?min_sentiment_below=7")
    assert response.status_code == 400 and "between -1 and 1" in response.text
    assert agent.get("/conversations?q=" + "x" * 500).status_code == 400
    assert agent.get("/conversations/no-such-conversation").status_code == 404


def test_saved_filters_keep_only_known_filters(console: Console, agent) -> None:  # type: ignore[no-untyped-def]
    query = "channel=rest&fallback=yes&evil=1&page=3"
    response = agent.post("/filters", data={"name": "rest fallbacks", "query": query, "csrf_token": agent.csrf})
    assert response.status_code == 303
    with console.state.db.transaction() as session:
        (saved,) = session.scalars(select(SavedFilter)).all()
        assert saved.query == "channel=rest&fallback=yes"
    page = agent.get("/conversations")
    assert 'href="/conversations?channel=rest&amp;fallback=yes">rest fallbacks</a>' in page.text
    assert listed(agent.get("/conversations?" + saved.query).text) == {"bob-rest"}
    bad = agent.post("/filters", data={"name": "bad", "query": "date_from=never", "csrf_token": agent.csrf})
    assert bad.status_code == 400
    other = console.client()
    log_in(other, ROLE_USERS["annotator"])
    assert "rest fallbacks" not in other.get("/conversations").text  # saved filters are personal


def test_transcript_shows_nlu_details_and_bot_actions(agent) -> None:  # type: ignore[no-untyped-def]
    page = agent.get("/conversations/bob-rest")
    assert page.status_code == 200
    html = page.text
    assert "intent <strong>product_search</strong> (0.98)" in html
    assert "intent <strong>invoice</strong> (0.42)" in html
    assert '<span class="tag">product=running shoes</span>' in html
    assert 'sentiment <span class="pos">positive 0.70</span>' in html
    assert "action <code>action_search_products</code> · policy RulePolicy (1.00)" in html
    assert "Yes, we have running shoes:" in html


def test_customer_text_is_always_escaped(agent) -> None:  # type: ignore[no-untyped-def]
    html = agent.get("/conversations/bob-rest").text
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    weird = agent.get("/conversations/" + quote(INJECTION_SENDER, safe=""))
    assert weird.status_code == 200
    assert "Robert&#39;); DROP TABLE console_conversations;-- 100% _sure_ \\" in weird.text


def test_tags_review_and_notes(console: Console, agent) -> None:  # type: ignore[no-untyped-def]
    url = quote(INJECTION_SENDER, safe="")
    assert agent.post(f"/tags/{url}", data={"name": "  Late   Delivery ", "csrf_token": agent.csrf}).status_code == 303
    assert agent.post(f"/tags/{url}", data={"name": "late delivery", "csrf_token": agent.csrf}).status_code == 303
    assert agent.post(f"/tags/{url}", data={"name": "", "csrf_token": agent.csrf}).status_code == 400
    note = agent.post(f"/notes/{url}", data={"body": "<b>call</b> back", "csrf_token": agent.csrf})
    assert note.status_code == 303
    assert agent.post(f"/review/{url}", data={"status": "reviewed", "csrf_token": agent.csrf}).status_code == 303
    assert agent.post(f"/review/{url}", data={"status": "bogus", "csrf_token": agent.csrf}).status_code == 400
    page = agent.get(f"/conversations/{url}").text
    assert page.count('<span class="tag">late delivery</span>') == 1
    assert "&lt;b&gt;call&lt;/b&gt; back" in page and "by agent@example.com" in page
    assert listed(agent.get("/conversations?tag=late delivery").text) == {INJECTION_SENDER}
    assert listed(agent.get("/conversations?review=reviewed").text) == {INJECTION_SENDER}
    remove = {"name": "late delivery", "remove": "1", "csrf_token": agent.csrf}
    assert agent.post(f"/tags/{url}", data=remove).status_code == 303
    assert listed(agent.get("/conversations?tag=late delivery").text) == set()
    assert agent.post("/tags/not-a-conversation", data={"name": "x", "csrf_token": agent.csrf}).status_code == 404
