"""The analytics page: a period's figures with server-drawn charts, for every member of staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from console import charts
from console.analytics import MAX_DAYS, NEGATIVE_BELOW, POSITIVE_ABOVE, Period, Report, build_report
from console.models import ROLES
from console.security import CurrentUser
from console.web import DbSession, render, require
from store.models import utcnow

router = APIRouter()
SENTIMENT_COLOURS = ("#c0392b", "#7f8c8d", "#2b7a3d")


def percent(value: float | None) -> str:
    """A share as a percentage, or "no data"."""
    return "no data" if value is None else f"{value * 100:.1f} %"


def duration(seconds: float | None) -> str:
    """Seconds in words: 45 s, 4 min 10 s, 2 h 5 min."""
    if seconds is None:
        return "no data"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def _charts(report: Report) -> dict[str, Markup]:
    figures, days = report.conversations, report.period.days
    sentiment = figures.sentiment
    return {
        "per_day": charts.stacked_columns(
            "Conversations per day by channel",
            [day[5:] for day in days],
            [charts.Series(channel, [figures.on(day, channel) for day in days]) for channel in figures.channels],
        ),
        "intents": charts.bars(
            "Top intents by conversations",
            [i.intent for i in report.intents],
            [i.conversations for i in report.intents],
        ),
        "sentiment": charts.bars(
            "Conversations by average sentiment", list(sentiment), list(sentiment.values()), SENTIMENT_COLOURS
        ),
        "sentiment_trend": charts.line(
            "Daily mean of the conversations' average sentiment (-1 to 1)",
            [day[5:] for day in days],
            charts.Series("mean sentiment", [figures.sentiment_trend.get(day) for day in days]),
            -1.0,
            1.0,
        ),
        "csat": charts.bars(
            "Satisfaction ratings by score",
            [f"{score} of 5" for score in report.csat.distribution],
            list(report.csat.distribution.values()),
        ),
    }


@router.get("/analytics", name="analytics")
def analytics(request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(*ROLES))]) -> Response:
    """Conversations, containment, intents, sentiment, CSAT, recommendations and first response times."""
    period = Period.from_query(request.query_params, utcnow().date())  # a bad range: InvalidPeriod, 400
    report = build_report(session, period)
    return render(
        request,
        "analytics.html",
        user=user,
        report=report,
        period=period,
        charts=_charts(report),
        percent=percent,
        duration=duration,
        max_days=MAX_DAYS,
        negative_below=NEGATIVE_BELOW,
        positive_above=POSITIVE_ABOVE,
    )
