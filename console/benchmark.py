"""`make bench-console`: the staff console on 100,000 conversations and 2,000,000 tracker events.

It writes a Rasa SQL tracker store of realistic conversations (customer messages with intents,
entities and sentiment as our pipeline stores them, actions, bot replies, handoffs, fallbacks, over
90 days and six channels), cached by its parameters in var/bench/ so a re-run skips that step. Then
it folds the events into a fresh console database with the console's own sync (events/s), tags a
share of the conversations, and times requests through the real FastAPI app in-process, logged in
as an admin: the list under each filter (target p95 ≤ 300 ms) and a transcript (target p95 ≤ 100 ms).
Times are the server's: from the request entering the app to the last byte of the response. A bare
indexed SQL query for the same page, in the same run, is the baseline. Figures go to reports/console.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import re
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi.testclient import TestClient
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, insert, select, text
from sqlalchemy.engine import Engine, make_url
from starlette.types import ASGIApp, Receive, Scope, Send
from tqdm import tqdm

from console.app import create_app
from console.models import ConversationSummary, ConversationTag, SyncState, Tag
from console.security import create_user
from console.sync import sync_once
from console.tracker import TrackerReader
from console.web import ConsoleConfig
from settings import load_settings
from store.database import ShopDatabase, normalise_url

GENERATOR_VERSION = 1  # bump when the generated data changes shape, so cached trackers are rebuilt
ANCHOR = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DAYS = 90
PASSWORD = "benchmark password 1"
ADMIN = "bench-admin@example.com"
LIST_TARGET_MS, TRANSCRIPT_TARGET_MS = 300.0, 100.0
SEARCH_HIT, SEARCH_MISS = "waterproof", "xylophone"
TAGS = ("late delivery", "vip", "refund", "bug", "follow up", "praise", "wrong item", "escalated", "spam", "training")
CHANNELS = (("socketio", 55), ("telegram", 15), ("twilio", 12), ("facebook", 8), ("rest", 6), ("slack", 4))

PRODUCTS = ("running shoes", "waterproof jacket", "yoga mat", "hiking socks", "rain boots", "wool scarf", "backpack",
            "water bottle", "trail shorts", "waterproof trousers", "fleece", "cycling gloves")  # fmt: skip
COLOURS = ("black", "blue", "red", "green", "grey")
# what customers say per intent: {product}, {color}, {email}, {order} become entities
SAYINGS: dict[str, tuple[str, ...]] = {
    "greet": ("hi", "hello there", "good morning", "hey"),
    "product_search": ("do you sell {product}?", "I'm looking for {color} {product}", "have you got {product}",
                       "show me {product} please"),
    "product_question": ("is the {product} machine washable?", "how heavy is the {product}?"),
    "order_status": ("where is my order {order}?", "my email is {email}, any news on {order}?",
                     "has order {order} shipped yet"),
    "delivery_problem": ("my parcel never arrived", "the {product} was promised last week and still nothing"),
    "complaint": ("this is useless, the {product} broke after a day", "terrible service, nobody answers"),
    "return_item": ("I want to return the {product}", "how do I send back order {order}"),
    "payment_methods": ("can I pay with paypal?", "which payment methods do you take"),
    "thank": ("thanks", "thank you so much", "cheers"),
    "goodbye": ("bye", "that's all, bye"),
    "human_handoff": ("I want to talk to a person", "get me a human please"),
    "nlu_fallback": ("asdkjh qwpoe", "the thing with the stuff from before"),
}  # fmt: skip
ACTIONS = {
    "greet": "action_greet", "product_search": "action_search_products", "product_question": "action_product_question",
    "order_status": "action_order_status", "delivery_problem": "action_delivery_problem",
    "complaint": "action_complaint", "return_item": "return_form", "payment_methods": "utter_payment_methods",
    "thank": "utter_you_are_welcome", "goodbye": "utter_goodbye", "human_handoff": "action_handoff",
    "nlu_fallback": "action_two_stage_fallback",
}  # fmt: skip
NEGATIVE_INTENTS = frozenset({"delivery_problem", "complaint", "human_handoff"})
FIELD = re.compile(r"\{(\w+)\}")
EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


# ---------------------------------------------------------------- generating the tracker store


def _events_table(metadata: MetaData) -> Table:
    """The table Rasa's SQLTrackerStore creates (rasa/core/tracker_store.py, SQLEvent)."""
    return Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255), nullable=False),
        Column("type_name", String(255), nullable=False),
        Column("timestamp", Float),
        Column("intent_name", String(255)),
        Column("action_name", String(255)),
        Column("data", Text),
    )


class _Conversation:
    """One generated conversation's events as rows, in the order Rasa would store them."""

    def __init__(self, rng: random.Random, sender_id: str, channel: str, start: float) -> None:
        self.rng, self.sender_id, self.channel, self.clock = rng, sender_id, channel, start
        self.rows: list[dict[str, Any]] = []
        self.negative = rng.random() < 0.2

    def _add(self, type_name: str, data: dict[str, Any], intent: str | None = None, action: str | None = None) -> None:
        self.clock += self.rng.uniform(0.05, 2.0) if type_name != "user" else self.rng.uniform(4.0, 60.0)
        data = {"event": type_name, "timestamp": self.clock, **data}
        self.rows.append({"sender_id": self.sender_id, "type_name": type_name, "timestamp": self.clock,
                          "intent_name": intent, "action_name": action, "data": json.dumps(data)})  # fmt: skip

    def action(self, name: str, policy: str | None = "RulePolicy", confidence: float | None = 1.0) -> None:
        self._add("action", {"name": name, "policy": policy, "confidence": confidence, "action_text": None,
                             "hide_rule_turn": False}, action=name)  # fmt: skip

    def start_session(self) -> None:
        self.action("action_session_start", None, 1.0)
        self._add("session_started", {})
        self.action("action_listen", None, None)

    def _saying(self, intent: str) -> tuple[str, list[dict[str, Any]]]:
        template = self.rng.choice(SAYINGS[intent])
        values = {
            "product": self.rng.choice(PRODUCTS),
            "color": self.rng.choice(COLOURS),
            "email": f"customer{self.rng.randrange(10**6)}@example.com",
            "order": f"SO-{self.rng.randrange(10**5, 10**6)}",
        }
        entity_names = {"product": "product", "color": "color", "email": "email", "order": "order_id"}
        out, entities, position = "", [], 0
        for match in FIELD.finditer(template):
            out += template[position : match.start()]
            value = values[match.group(1)]
            entities.append({"entity": entity_names[match.group(1)], "start": len(out), "end": len(out) + len(value),
                             "confidence_entity": round(self.rng.uniform(0.8, 1.0), 3), "value": value,
                             "extractor": "DIETClassifier"})  # fmt: skip
            out += value
            position = match.end()
        return out + template[position:], entities

    def user(self, intent: str) -> None:
        text, entities = self._saying(intent)
        confidence = round(self.rng.uniform(0.2, 0.45) if intent == "nlu_fallback" else self.rng.uniform(0.55, 1.0), 4)
        if self.negative or intent in NEGATIVE_INTENTS:
            negative = self.rng.uniform(0.5, 0.97)
            positive = self.rng.uniform(0.0, 1.0 - negative)
        else:
            positive = self.rng.uniform(0.05, 0.7)
            negative = self.rng.uniform(0.0, min(0.3, 1.0 - positive))
        scores = {"negative": round(negative, 4), "neutral": round(1.0 - negative - positive, 4),
                  "positive": round(positive, 4)}  # fmt: skip
        label = max(scores, key=lambda name: scores[name])
        frustration = ["repeated_question"] if negative > 0.85 else []
        ranking = [
            {"name": intent, "confidence": confidence},
            {"name": "greet", "confidence": round(1 - confidence, 4)},
        ]
        sentiment = {"label": label, "score": scores[label], "scores": scores, "frustration": frustration}
        parse = {"intent": {"name": intent, "confidence": confidence}, "entities": entities, "text": text,
                 "message_id": f"{self.rng.getrandbits(64):016x}", "metadata": {}, "intent_ranking": ranking,
                 "sentiment": sentiment}  # fmt: skip
        self._add("user", {"text": text, "parse_data": parse, "input_channel": self.channel,
                           "message_id": parse["message_id"], "metadata": {}}, intent=intent)  # fmt: skip

    def bot(self, text: str) -> None:
        extra = {"elements": None, "quick_replies": None, "buttons": None, "attachment": None, "image": None,
                 "custom": None}  # fmt: skip
        self._add("bot", {"text": text, "data": extra, "metadata": {}})

    def turn(self, intent: str) -> None:
        self.user(intent)
        self.action(ACTIONS[intent], self.rng.choice(("RulePolicy", "TEDPolicy")), round(self.rng.uniform(0.7, 1), 3))
        self.bot(f"(reply to {intent.replace('_', ' ')})")
        if intent == "human_handoff":
            self._add("pause", {})
        else:
            self.action("action_listen", None, None)


def _plan(rng: random.Random, size: int) -> Iterator[str]:
    """The intents of one conversation: a greeting, a topic or two, sometimes a fallback or a handoff."""
    topics = [i for i in SAYINGS if i not in {"greet", "thank", "goodbye", "human_handoff", "nlu_fallback"}]
    if rng.random() < 0.6:
        yield "greet"
    for _ in range(size):
        roll = rng.random()
        yield "nlu_fallback" if roll < 0.03 else ("human_handoff" if roll < 0.05 else rng.choice(topics))
    yield rng.choice(("thank", "goodbye"))


def _lengths(rng: random.Random, conversations: int, events: int) -> list[int]:
    """How many events each conversation has: varied, at least a session start and one turn, summing to `events`."""
    mean = events / conversations
    lengths = [max(7, round(rng.expovariate(1 / max(mean - 7, 1.0))) + 7) for _ in range(conversations)]
    difference = events - sum(lengths)
    while difference:
        index = rng.randrange(conversations)
        step = 1 if difference > 0 else -1
        if lengths[index] + step >= 7:
            lengths[index] += step
            difference -= step
    return lengths


def _conversation_rows(rng: random.Random, number: int, start: float, length: int) -> list[dict[str, Any]]:
    channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
    conversation = _Conversation(rng, f"{channel}-{number:07d}-{rng.getrandbits(32):08x}", channel, start)
    conversation.start_session()
    while len(conversation.rows) < length:
        for intent in _plan(rng, max(1, (length - len(conversation.rows)) // 4)):
            conversation.turn(intent)
            if intent == "human_handoff" or len(conversation.rows) >= length:
                break
        if conversation.rows[-1]["type_name"] == "pause":
            break
    while len(conversation.rows) < length:  # a handoff ended the chat early: the agent's messages pad it
        conversation.bot("(a colleague's reply)")
    return conversation.rows[:length]


def generate_tracker(url: str, conversations: int, events: int, seed: int, batch: int = 20_000) -> None:
    """Write the tracker store at `url`: `conversations` conversations, `events` events, in time order."""
    rng = random.Random(seed)
    engine = create_engine(normalise_url(url))
    metadata = MetaData()
    table = _events_table(metadata)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    lengths = _lengths(rng, conversations, events)
    span = DAYS * 86_400.0
    starts = sorted(ANCHOR.timestamp() - span + rng.random() * span for _ in range(conversations))
    rows: list[dict[str, Any]] = []
    with engine.begin() as connection, tqdm(total=events, desc="generating tracker events", unit="event") as bar:
        for number, (start, length) in enumerate(zip(starts, lengths, strict=True)):
            rows.extend(_conversation_rows(rng, number, start, length))
            if len(rows) >= batch:
                connection.execute(insert(table), rows)
                bar.update(len(rows))
                rows = []
        if rows:
            connection.execute(insert(table), rows)
            bar.update(len(rows))
        connection.execute(text("CREATE INDEX ix_events_sender_id ON events (sender_id)"))
    if engine.dialect.name == "postgresql":  # as autovacuum would soon after a load this size
        with engine.connect() as connection:
            connection.execute(text("ANALYZE events"))
            connection.commit()
    engine.dispose()


# ---------------------------------------------------------------- timing


class ServerTimer:
    """ASGI wrapper: the time from a request entering the app to the end of its response body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last_ns = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter_ns()
        await self.app(scope, receive, send)
        self.last_ns = time.perf_counter_ns() - started


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    """p50, p95 and mean in milliseconds."""
    ordered = sorted(samples_ns)

    def pick(quantile: float) -> float:
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] / 1e6

    return {"p50_ms": round(pick(0.5), 2), "p95_ms": round(pick(0.95), 2),
            "mean_ms": round(statistics.fmean(ordered) / 1e6, 2), "samples": len(ordered)}  # fmt: skip


def _log_in(client: TestClient) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    response = client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token.group(1),
                                           "next": ""})  # fmt: skip
    if response.status_code != 303:
        raise RuntimeError(f"logging in failed: {response.status_code}")


def filter_cases(day: dt.date) -> dict[str, dict[str, str]]:
    """The list's filters as staff use them (query parameters)."""
    week_from, week_to = (day - dt.timedelta(days=37)).isoformat(), (day - dt.timedelta(days=30)).isoformat()
    return {
        "no filter": {},
        "channel": {"channel": "telegram"},
        "intent": {"intent": "complaint"},
        "sentiment min": {"min_sentiment_below": "-0.5"},
        "date range (a week)": {"date_from": week_from, "date_to": week_to},
        "handed off": {"handed_off": "yes"},
        "search, hit": {"q": SEARCH_HIT},
        "search, miss": {"q": SEARCH_MISS},
        "tag": {"tag": "late delivery"},
        "combined": {"channel": "socketio", "intent": "order_status", "min_sentiment_below": "-0.3",
                     "date_from": (day - dt.timedelta(days=60)).isoformat()},
        "page 5": {"page": "5"},
    }  # fmt: skip


def _time(client: TestClient, timer: ServerTimer, paths: list[str], warmup: int = 2) -> list[int]:
    for path in paths[:warmup]:
        client.get(path)
    samples = []
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        samples.append(timer.last_ns)
    return samples


def _baseline(engine: Engine, statement: str, params: list[dict[str, Any]]) -> list[int]:
    samples = []
    with engine.connect() as connection:
        for value in params[:2] + params:
            started = time.perf_counter_ns()
            connection.execute(text(statement), value).fetchall()
            samples.append(time.perf_counter_ns() - started)
    return samples[2:]


# ---------------------------------------------------------------- the run


@dataclass(frozen=True)
class Databases:
    """Where the tracker store and the console's database of one run live."""

    tracker_url: str
    shop_url: str
    dialect: str
    tracker_cached: bool


def _fingerprint(conversations: int, events: int, seed: int) -> str:
    key = f"v{GENERATOR_VERSION}-c{conversations}-e{events}-s{seed}"
    return f"{key}-{hashlib.sha256(key.encode()).hexdigest()[:6]}"


def _sqlite_databases(bench_dir: Path, conversations: int, events: int, seed: int) -> Databases:
    tracker = bench_dir / f"console-tracker-{_fingerprint(conversations, events, seed)}.db"
    cached = tracker.is_file()
    if not cached:
        partial = tracker.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        generate_tracker(f"sqlite:///{partial}", conversations, events, seed)
        partial.replace(tracker)  # only a complete tracker is ever found by the next run
    shop = bench_dir / "console-bench-shop.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{shop}{suffix}").unlink(missing_ok=True)
    return Databases(f"sqlite:///{tracker}", f"sqlite:///{shop}", "sqlite", cached)


def _postgresql_databases(server_url: str, conversations: int, events: int, seed: int) -> Databases:
    fingerprint = _fingerprint(conversations, events, seed).replace("-", "_")
    tracker_name, shop_name = f"console_bench_tracker_{fingerprint}", "console_bench_shop"
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        existing = set(connection.scalars(text("SELECT datname FROM pg_database")))
        connection.execute(text(f'DROP DATABASE IF EXISTS "{shop_name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{shop_name}"'))
        cached = f"{tracker_name}" in existing
        if not cached:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{tracker_name}_partial" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{tracker_name}_partial"'))
    base = make_url(normalise_url(server_url))
    if not cached:
        generate_tracker(base.set(database=f"{tracker_name}_partial").render_as_string(False), conversations, events,
                         seed)  # fmt: skip
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{tracker_name}_partial" RENAME TO "{tracker_name}"'))
    admin.dispose()
    return Databases(base.set(database=tracker_name).render_as_string(False),
                     base.set(database=shop_name).render_as_string(False), "postgresql", cached)  # fmt: skip


def _sync(db: ShopDatabase, reader: TrackerReader, events: int) -> tuple[float, int]:
    """Run the console's sync over the whole tracker, with a progress bar read from its sync state."""
    done = threading.Event()

    def watch() -> None:
        with tqdm(total=events, desc="console sync", unit="event") as bar:
            while not done.wait(1.0):
                with db.engine.connect() as connection:
                    last = connection.scalar(select(SyncState.last_event_id)) or 0
                bar.update(max(0, last - bar.n))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    report = sync_once(db, reader)
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    return seconds, report.events


def _tag_some(db: ShopDatabase, seed: int) -> int:
    """Staff tags on about one conversation in twelve (one or two each)."""
    rng = random.Random(seed + 1)
    with db.transaction() as session:
        tags = [Tag(name=name) for name in TAGS]
        session.add_all(tags)
        session.flush()
        senders = list(session.scalars(select(ConversationSummary.sender_id)))
        rows = []
        for sender_id in senders:
            if rng.random() < 1 / 12:
                for tag in rng.sample(tags, rng.choice((1, 1, 2))):
                    rows.append({"sender_id": sender_id, "tag_id": tag.id})
        if rows:
            session.execute(insert(ConversationTag), rows)
        return len(rows)


def run(conversations: int, events: int, repeat: int, postgresql: str | None, seed: int = 7) -> dict[str, Any]:
    """Generate (or reuse) the data, sync it, time the console; returns the report."""
    settings = load_settings()
    bench_dir = settings.data_dir / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    databases = (
        _postgresql_databases(postgresql, conversations, events, seed)
        if postgresql
        else _sqlite_databases(bench_dir, conversations, events, seed)
    )
    generation = None if databases.tracker_cached else round(time.perf_counter() - started, 1)

    db = ShopDatabase(databases.shop_url)
    db.upgrade()
    with db.transaction() as session:
        create_user(session, ADMIN, PASSWORD, "admin")
    reader = TrackerReader(databases.tracker_url)
    sync_seconds, synced = _sync(db, reader, events)
    tagged = _tag_some(db, seed)
    if databases.dialect == "postgresql":  # autovacuum would have analysed tables this size by now
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    reader.dispose()

    config = ConsoleConfig(databases.shop_url, databases.tracker_url, secret="bench-" + "x" * 32,
                           sync_interval_seconds=None)  # fmt: skip
    app = create_app(config)
    timer = ServerTimer(app)
    rng = random.Random(seed + 2)
    with db.transaction() as session:
        senders = list(session.scalars(select(ConversationSummary.sender_id)))
        summaries = len(senders)
    sample = rng.sample(senders, min(len(senders), repeat * 5))
    lists: dict[str, Any] = {}
    with TestClient(timer, follow_redirects=False) as client:
        _log_in(client)
        for name, params in filter_cases(ANCHOR.date()).items():
            path = "/conversations?" + urlencode(params)
            lists[name] = percentiles(_time(client, timer, [path] * repeat))
            lists[name]["query"] = urlencode(params)
        transcript = percentiles(_time(client, timer, [f"/conversations/{quote(s, safe='')}" for s in sample]))
    shop_engine = create_engine(normalise_url(databases.shop_url))
    tracker_engine = create_engine(normalise_url(databases.tracker_url))
    page_sql = "SELECT * FROM console_conversations ORDER BY last_event_at DESC, sender_id LIMIT 51"
    events_sql = "SELECT id, sender_id, type_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"
    baselines = {
        "list page, bare SQL": percentiles(_baseline(shop_engine, page_sql, [{}] * repeat)),
        "transcript events, bare SQL": percentiles(_baseline(tracker_engine, events_sql, [{"s": s} for s in sample])),
    }
    shop_engine.dispose()
    tracker_engine.dispose()
    db.dispose()
    list_base = baselines["list page, bare SQL"]["p50_ms"] or 1e-6
    for figures in lists.values():
        figures["p50_vs_bare_sql"] = round(figures["p50_ms"] / list_base, 1)
    transcript["p50_vs_bare_sql"] = round(
        transcript["p50_ms"] / (baselines["transcript events, bare SQL"]["p50_ms"] or 1e-6), 1
    )
    sizes: dict[str, Any] = {"conversations": conversations, "events": events, "summaries": summaries,
                             "tag_links": tagged, "seed": seed}  # fmt: skip
    if databases.dialect == "sqlite":
        for key, url in (("tracker_mb", databases.tracker_url), ("console_db_mb", databases.shop_url)):
            file = Path(make_url(url).database or "")
            sizes[key] = round(file.stat().st_size / 1e6, 1) if file.is_file() else None
    return {
        "benchmark": "console",
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "platform": platform.platform()},
        "database": databases.dialect,
        "data": sizes,
        "generation_seconds": generation,
        "sync": {"seconds": round(sync_seconds, 1), "events": synced,
                 "events_per_second": round(synced / sync_seconds) if sync_seconds else None},
        "targets_ms": {"list_p95": LIST_TARGET_MS, "transcript_p95": TRANSCRIPT_TARGET_MS},
        "list": lists,
        "transcript": transcript,
        "baselines": baselines,
        "repeat": repeat,
    }  # fmt: skip


def print_table(result: dict[str, Any]) -> None:
    """The figures as a readable table."""
    machine, data, sync = result["machine"], result["data"], result["sync"]
    print(f"\nconsole benchmark on {machine['host']} ({machine['cpus']} CPUs, load {machine['load_average']}), "
          f"{result['database']}: {data['conversations']:,} conversations, {data['events']:,} events")  # fmt: skip
    generated = "cached" if result["generation_seconds"] is None else f"{result['generation_seconds']} s"
    print(f"tracker generation: {generated}; sync: {sync['events']:,} events in {sync['seconds']} s "
          f"= {sync['events_per_second']:,} events/s")  # fmt: skip

    def line(name: str, figures: dict[str, Any], target: float | None) -> None:
        verdict = "" if target is None else ("ok" if figures["p95_ms"] <= target else "MISSED")
        ratio = figures.get("p50_vs_bare_sql", "")
        print(f"  {name:<30}{figures['p50_ms']:>10}{figures['p95_ms']:>10}{ratio!s:>12}  {verdict}")

    print(f"\n  {'request (server time)':<30}{'p50 ms':>10}{'p95 ms':>10}{'p50/bare':>12}  target")
    for name, figures in result["list"].items():
        line(f"list: {name}", figures, LIST_TARGET_MS)
    line("transcript", result["transcript"], TRANSCRIPT_TARGET_MS)
    for name, figures in result["baselines"].items():
        line(name, figures, None)


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=30, help="requests per filter (transcripts: 5x as many)")
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="also run on the PostgreSQL server at URL, a database to create the benchmark's databases from "
        "(e.g. postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    args = parser.parse_args()
    if args.events < args.conversations * 7:
        parser.error("--events must be at least 7 per conversation (a session start and one turn)")
    out = load_settings().reports_dir / "console.json"
    results = [run(args.conversations, args.events, args.repeat, None)]
    if args.postgresql:
        results.append(run(args.conversations, args.events, args.repeat, args.postgresql))
    for result in results:
        print_table(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results[0] if len(results) == 1 else {"runs": results}, indent=2) + "\n")
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
