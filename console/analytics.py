"""The analytics page's figures for a date range (and optionally one channel), aggregated in SQL.

Every figure is one GROUP BY query on SQLite and PostgreSQL alike; Python only adds up the groups
(at most a few per day) and fills in days without data. Days are UTC days.

What the figures count:
- Conversations: those started in the range in which the customer wrote at least once.
- Contained: neither handed off to a person nor given a ticket (a ticket means people must act).
- Sentiment: each conversation's average sentiment (-1..1): negative below -0.3, positive above 0.3,
  neutral between (the list marks -0.3 as negative too); the trend is the daily mean.
- CSAT: ratings given in the range; with a channel, those of that channel's conversations.
- Recommendations (the store's interactions; all channels): an impression is a "recommended"
  (a suggestion) or "shown" (a product in a search answer) interaction in the range. It counts as
  clicked, added to cart or purchased when the same customer (or, before they are known, the same
  chat session) did that with the same product within ATTRIBUTION_DAYS after it; the follow-up may
  fall after the range's end.
- First response: handoff tickets opened in the range, from opening to the agent's first message;
  the median overall and per assignee.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import BigInteger, Float, and_, case, cast, desc, exists, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from console.conversations import distinct_values
from console.errors import Refusal
from console.models import ConversationIntent, ConversationSummary
from store.models import CsatRating, Interaction, Ticket

DEFAULT_DAYS = 30
MAX_DAYS = 366
ATTRIBUTION_DAYS = 7
TOP_INTENTS = 10
NEGATIVE_BELOW, POSITIVE_ABOVE = -0.3, 0.3
IMPRESSION_KINDS = ("recommended", "shown")
FOLLOW_UP_KINDS = ("clicked", "added_to_cart", "purchased")
NO_CHANNEL = "(none)"
UNASSIGNED = "(unassigned)"


class InvalidPeriod(Refusal):
    """A date range or channel the page cannot use; the message says what is wrong."""


def _date(params: Mapping[str, str], name: str, default: dt.date) -> dt.date:
    value = (params.get(name) or "").strip()
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidPeriod(f"'{name}' must be a date like 2026-11-28.") from None


@dataclass(frozen=True)
class Period:
    """The range of UTC days to report on, both ends included, and the channel (None: all)."""

    date_from: dt.date
    date_to: dt.date
    channel: str | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str], today: dt.date) -> Period:
        """The period from the query's from/to/channel; the last DEFAULT_DAYS days by default."""
        date_to = _date(params, "to", today)
        date_from = _date(params, "from", date_to - dt.timedelta(days=DEFAULT_DAYS - 1))
        if date_from > date_to:
            raise InvalidPeriod("'from' must not be after 'to'.")
        if (date_to - date_from).days + 1 > MAX_DAYS:
            raise InvalidPeriod(f"The range can span at most {MAX_DAYS} days.")
        channel = (params.get("channel") or "").strip() or None
        if channel is not None and len(channel) > 64:
            raise InvalidPeriod("'channel' is longer than 64 characters.")
        return cls(date_from, date_to, channel)

    @property
    def start(self) -> dt.datetime:
        """The first moment of the range."""
        return dt.datetime.combine(self.date_from, dt.time(), dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the range."""
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)

    @property
    def days(self) -> list[str]:
        """Every day of the range as YYYY-MM-DD."""
        count = (self.date_to - self.date_from).days + 1
        return [(self.date_from + dt.timedelta(days=n)).isoformat() for n in range(count)]

    def as_query(self) -> str:
        """The period as a query string."""
        values = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "channel": self.channel}
        return urlencode({k: v for k, v in values.items() if v})


def share(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (shown as "no data")."""
    return part / whole if whole else None


# -- dialect differences: a timestamp's UTC day and its seconds since the epoch --


def _day(session: Session, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column)  # SQLite keeps UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'


def _epoch_seconds(session: Session, column: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _in_channel(period: Period, column: Any) -> ColumnElement[bool] | None:
    """Rows whose conversation (by its Rasa sender id) is in the period's channel.

    A lookup by primary key per row (EXISTS), not IN: the rows are the period's few ratings or tickets,
    while the channel may hold a large share of all conversations ever.
    """
    if period.channel is None:
        return None
    c = ConversationSummary
    return exists().where(c.sender_id == column, c.channel == period.channel)


def _conversation_scope(period: Period) -> list[ColumnElement[bool]]:
    c = ConversationSummary
    scope = [
        c.started_at >= period.start,
        c.started_at < period.end,
        # implied by the start (activity comes after it), but it lets the database use the last-activity index
        c.last_event_at >= period.start,
        c.user_messages > 0,
    ]
    if period.channel is not None:
        scope.append(c.channel == period.channel)
    return scope


@dataclass
class ConversationFigures:
    """Conversations in the period: counts, rates, per day and channel, and sentiment."""

    days: list[str]
    total: int = 0
    contained: int = 0
    handed_off: int = 0
    fallback: int = 0
    per_day: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> channel -> conversations
    sentiment: dict[str, int] = field(default_factory=lambda: {"negative": 0, "neutral": 0, "positive": 0})
    sentiment_trend: dict[str, float] = field(default_factory=dict)  # day -> mean of the average sentiment

    @property
    def channels(self) -> list[str]:
        """The channels seen, busiest first."""
        totals: dict[str, int] = defaultdict(int)
        for counts in self.per_day.values():
            for channel, count in counts.items():
                totals[channel] += count
        return sorted(totals, key=lambda channel: (-totals[channel], channel))

    def on(self, day: str, channel: str) -> int:
        """Conversations on a day in a channel."""
        return self.per_day.get(day, {}).get(channel, 0)

    @property
    def containment(self) -> float | None:
        """Share resolved without a person."""
        return share(self.contained, self.total)

    @property
    def handoff_rate(self) -> float | None:
        """Share handed off to a person."""
        return share(self.handed_off, self.total)

    @property
    def fallback_rate(self) -> float | None:
        """Share with a fallback or a turn understood with low confidence."""
        return share(self.fallback, self.total)

    @property
    def with_sentiment(self) -> int:
        """Conversations that have a sentiment."""
        return sum(self.sentiment.values())


def conversation_figures(session: Session, period: Period) -> ConversationFigures:
    """Counts, rates and sentiment of the period's conversations, one query grouped by day and channel."""
    c = ConversationSummary
    day = _day(session, c.started_at).label("day")
    rows = session.execute(
        select(
            day,
            c.channel,
            func.count(),
            _count_if(and_(c.handed_off.is_(False), c.ticket_id.is_(None))),
            _count_if(c.handed_off.is_(True)),
            _count_if(c.had_fallback.is_(True)),
            func.sum(c.avg_sentiment),
            func.count(c.avg_sentiment),
            _count_if(c.avg_sentiment < NEGATIVE_BELOW),
            _count_if(c.avg_sentiment > POSITIVE_ABOVE),
        )
        .where(*_conversation_scope(period))
        .group_by("day", c.channel)
    )
    figures = ConversationFigures(days=period.days)
    sentiment_sums: dict[str, tuple[float, int]] = defaultdict(lambda: (0.0, 0))
    for day_value, channel, count, contained, handed_off, fallback, s_sum, s_count, negative, positive in rows:
        figures.total += count
        figures.contained += contained or 0
        figures.handed_off += handed_off or 0
        figures.fallback += fallback or 0
        figures.per_day.setdefault(day_value, {})[channel or NO_CHANNEL] = count
        figures.sentiment["negative"] += negative or 0
        figures.sentiment["positive"] += positive or 0
        figures.sentiment["neutral"] += (s_count or 0) - (negative or 0) - (positive or 0)
        total, counted = sentiment_sums[day_value]
        sentiment_sums[day_value] = (total + float(s_sum or 0.0), counted + (s_count or 0))
    figures.sentiment_trend = {d: total / n for d, (total, n) in sentiment_sums.items() if n}
    return figures


@dataclass(frozen=True)
class IntentCount:
    """An intent and in how many of the period's conversations it was seen."""

    intent: str
    conversations: int


def top_intents(session: Session, period: Period, limit: int = TOP_INTENTS) -> list[IntentCount]:
    """The intents seen in most of the period's conversations."""
    i, c = ConversationIntent, ConversationSummary
    # the period's conversations first, then their intents by primary key: joined directly, SQLite would
    # rather walk the whole intent index (to group without sorting) and look each conversation up
    scoped = select(c.sender_id).where(*_conversation_scope(period)).cte("scoped").prefix_with("MATERIALIZED")
    count = func.count().label("conversations")
    rows = session.execute(
        select(i.intent, count)
        .join(scoped, scoped.c.sender_id == i.sender_id)
        .group_by(i.intent)
        .order_by(desc("conversations"), i.intent)
        .limit(limit)
    )
    return [IntentCount(intent, n) for intent, n in rows]


@dataclass(frozen=True)
class CsatFigures:
    """Satisfaction ratings in the period: how many of each score 1-5."""

    distribution: dict[int, int]

    @property
    def count(self) -> int:
        """Ratings given."""
        return sum(self.distribution.values())

    @property
    def mean(self) -> float | None:
        """The mean score, None without ratings."""
        return share(sum(score * n for score, n in self.distribution.items()), self.count)


def csat_figures(session: Session, period: Period) -> CsatFigures:
    """The period's ratings by score."""
    r = CsatRating
    statement = select(r.score, func.count()).where(r.created_at >= period.start, r.created_at < period.end)
    channel = _in_channel(period, r.session_id)
    if channel is not None:
        statement = statement.where(channel)
    # a list of pairs: dict() on a Result itself would take it for a mapping (it has keys())
    counts = dict(list(session.execute(statement.group_by(r.score))))
    return CsatFigures({score: int(counts.get(score, 0)) for score in range(1, 6)})


@dataclass(frozen=True)
class ImpressionFigures:
    """Impressions of one kind and how many were followed by a click, a cart addition, a purchase."""

    kind: str
    impressions: int = 0
    clicked: int = 0
    added_to_cart: int = 0
    purchased: int = 0

    @property
    def click_through(self) -> float | None:
        """Share of impressions clicked."""
        return share(self.clicked, self.impressions)

    @property
    def cart_rate(self) -> float | None:
        """Share of impressions added to the cart."""
        return share(self.added_to_cart, self.impressions)

    @property
    def conversion(self) -> float | None:
        """Share of impressions bought."""
        return share(self.purchased, self.impressions)


def recommendation_figures(session: Session, period: Period) -> dict[str, ImpressionFigures]:
    """Click-through, cart rate and conversion of suggestions ("recommended") and search results ("shown").

    One pass over the period's interactions (and ATTRIBUTION_DAYS after it) in time order per customer
    (or chat) and product: a window counts each kind of follow-up from an impression's moment to
    ATTRIBUTION_DAYS later (to the second), so no impression is joined to follow-ups one by one.
    """
    n = Interaction
    seconds = cast(func.round(_epoch_seconds(session, n.occurred_at)), BigInteger)
    moments = (
        select(
            n.kind,
            n.customer_id,
            case((n.customer_id.is_(None), n.session_id)).label("chat"),  # the chat counts until the customer is known
            n.product_id,
            seconds.label("t"),
            case((n.occurred_at < period.end, 1), else_=0).label("in_period"),
        )
        .where(n.kind.in_(IMPRESSION_KINDS + FOLLOW_UP_KINDS), n.product_id.is_not(None))
        .where(n.occurred_at >= period.start, n.occurred_at < period.end + dt.timedelta(days=ATTRIBUTION_DAYS))
        .subquery()
    )
    m = moments.c

    def within_window(kind: str) -> Any:
        """How many `kind` follow-ups the same actor had with the same product from this moment to the window's end."""
        return (
            func.count(case((m.kind == kind, 1)))
            .over(
                partition_by=(m.customer_id, m.chat, m.product_id), order_by=m.t, range_=(0, ATTRIBUTION_DAYS * 86_400)
            )
            .label(kind)
        )

    followed = select(m.kind, m.in_period, *(within_window(k) for k in FOLLOW_UP_KINDS)).subquery()
    f = followed.c
    rows = session.execute(
        select(f.kind, func.count(), *(_count_if(f[k] > 0) for k in FOLLOW_UP_KINDS))
        .where(f.kind.in_(IMPRESSION_KINDS), f.in_period == 1)
        .group_by(f.kind)
    )
    found = {kind: ImpressionFigures(kind, int(a), int(b or 0), int(c or 0), int(d or 0)) for kind, a, b, c, d in rows}
    return {kind: found.get(kind, ImpressionFigures(kind)) for kind in IMPRESSION_KINDS}


@dataclass(frozen=True)
class ResponseTimes:
    """Median seconds from a handoff ticket's opening to the agent's first message, for one assignee or all."""

    assignee: str
    answered: int
    median_seconds: float


@dataclass(frozen=True)
class FirstResponseFigures:
    """Handoff tickets opened in the period, how many were answered, and the medians."""

    handoffs: int
    overall: ResponseTimes | None
    per_assignee: list[ResponseTimes]


def first_response_figures(session: Session, period: Period) -> FirstResponseFigures:
    """Median first response time of the period's handoff tickets, overall and per assignee (window functions)."""
    t = Ticket
    scope: list[ColumnElement[bool]] = [
        t.category == "handoff",
        t.created_at >= period.start,
        t.created_at < period.end,
    ]
    channel = _in_channel(period, t.conversation_id)
    if channel is not None:
        scope.append(channel)
    handoffs = session.scalar(select(func.count()).select_from(t).where(*scope)) or 0
    seconds = _epoch_seconds(session, t.first_response_at) - _epoch_seconds(session, t.created_at)
    answered = (
        select(func.coalesce(t.assignee, UNASSIGNED).label("assignee"), seconds.label("seconds"))
        .where(*scope, t.first_response_at.is_not(None))
        .subquery()
    )

    def medians(by_assignee: bool) -> list[ResponseTimes]:
        a = answered.c
        partition = [a.assignee] if by_assignee else None
        ranked = select(
            a.assignee,
            a.seconds,
            func.row_number().over(partition_by=partition, order_by=a.seconds).label("position"),
            func.count().over(partition_by=partition).label("n"),
        ).subquery()
        r = ranked.c
        # the middle row (odd n) or the mean of the two middle rows (even n)
        middle = or_(r.position == (r.n + 1) // 2, r.position == (r.n + 2) // 2)
        group = r.assignee if by_assignee else literal("all")
        rows = session.execute(
            select(group.label("who"), func.max(r.n), func.avg(r.seconds)).where(middle).group_by("who").order_by("who")
        )
        return [ResponseTimes(str(who), int(n), float(median)) for who, n, median in rows]

    overall = medians(False)
    return FirstResponseFigures(handoffs, overall[0] if overall else None, medians(True))


@dataclass(frozen=True)
class Report:
    """Everything the analytics page shows for a period."""

    period: Period
    conversations: ConversationFigures
    intents: list[IntentCount]
    csat: CsatFigures
    recommendations: dict[str, ImpressionFigures]
    first_response: FirstResponseFigures
    channels: list[str]  # every channel seen, for the filter


def build_report(session: Session, period: Period) -> Report:
    """All of the page's figures for the period."""
    return Report(
        period=period,
        conversations=conversation_figures(session, period),
        intents=top_intents(session, period),
        csat=csat_figures(session, period),
        recommendations=recommendation_figures(session, period),
        first_response=first_response_figures(session, period),
        channels=sorted(c for c in distinct_values(session, ConversationSummary.channel) if c),
    )
