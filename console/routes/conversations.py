"""The conversation list (filters, search, saved filters) and the transcript (tags, review, notes, reveal)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console import audit
from console.conversations import (
    ConversationFilter,
    InvalidFilter,
    add_note,
    add_tag,
    all_tags,
    channels_and_intents,
    list_conversations,
    notes_of,
    remove_tag,
    set_review,
    tags_of,
)
from console.masking import mask_text
from console.models import REVIEW_STATES, ROLES, ConversationSummary, NluAnnotation, SavedFilter
from console.security import CurrentUser
from console.stories import Correction, build_story, influential_slots, write_story
from console.transcript import build_transcript
from console.web import ConsoleError, DbSession, client_ip, post_by, render, require, state_of
from settings import PROJECT_ROOT
from store.models import Customer

router = APIRouter()
REVEAL_ROLES = ("admin", "agent")
STORY_ROLES = ("admin", "annotator")  # those who curate training data also curate the test stories
FILTER_KEYS = frozenset(ConversationFilter.__dataclass_fields__)


def _filters_from(request: Request) -> ConversationFilter:
    params = {k: v for k, v in request.query_params.items() if k in FILTER_KEYS}
    try:
        return ConversationFilter.from_query(params)
    except InvalidFilter as error:
        raise ConsoleError(400, str(error)) from None


def _conversation(session: Session, sender_id: str) -> ConversationSummary:
    summary = session.get(ConversationSummary, sender_id)
    if summary is None:
        raise ConsoleError(404, "No such conversation (it may have been erased).")
    return summary


def _transcript_url(sender_id: str) -> str:
    return f"/conversations/{quote(sender_id, safe='')}"


@router.get("/", name="home")
def home(user: Annotated[CurrentUser, Depends(require(*ROLES))]) -> Response:
    """The list is the start page."""
    return RedirectResponse("/conversations", status_code=303)


@router.get("/conversations", name="conversation_list")
def conversation_list(
    request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(*ROLES))], page: int = 1
) -> Response:
    """The filtered, searchable list, newest activity first."""
    filters = _filters_from(request)
    page = min(max(page, 1), 10_000)
    rows, has_next = list_conversations(session, filters, page)
    channels, intents = channels_and_intents(session)
    saved = session.scalars(select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name))
    return render(
        request,
        "conversations.html",
        user=user,
        rows=rows,
        tags=tags_of(session, [r.sender_id for r in rows]),
        filters=filters,
        query=filters.as_query(),
        page=page,
        has_next=has_next,
        channels=channels,
        intents=intents,
        all_tags=all_tags(session),
        review_states=REVIEW_STATES,
        saved_filters=list(saved),
        quote=quote,
    )


@router.post("/filters", name="save_filter")
def save_filter(
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*ROLES))],
    name: Annotated[str, Form(max_length=100)] = "",
    query: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Keep the current filters under a name (only known filter keys, validated, are kept)."""
    name = " ".join(name.split())
    if not name:
        raise ConsoleError(400, "A saved filter needs a name.")
    params = {k: v for k, v in parse_qsl(query) if k in FILTER_KEYS}
    try:
        clean = ConversationFilter.from_query(params).as_query()
    except InvalidFilter as error:
        raise ConsoleError(400, str(error)) from None
    existing = session.scalar(select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name))
    if existing is None:
        session.add(SavedFilter(user_id=user.id, name=name, query=clean))
    else:
        existing.query = clean
    return RedirectResponse(f"/conversations?{clean}", status_code=303)


@router.post("/filters/{filter_id}/delete", name="delete_filter")
def delete_filter(
    filter_id: int, session: DbSession, user: Annotated[CurrentUser, Depends(post_by(*ROLES))]
) -> Response:
    """Forget one of your saved filters."""
    session.execute(delete(SavedFilter).where(SavedFilter.id == filter_id, SavedFilter.user_id == user.id))
    return RedirectResponse("/conversations", status_code=303)


def _customer_names(session: Session, summary: ConversationSummary) -> list[str]:
    if summary.customer_id is None:
        return []
    customer = session.get(Customer, summary.customer_id)
    return [customer.name] if customer is not None and customer.name else []


def _transcript_page(request: Request, session: Session, user: CurrentUser, sender_id: str, revealed: bool) -> Response:
    summary = _conversation(session, sender_id)
    events = state_of(request).tracker.conversation(sender_id)
    if not events:
        # erased from the tracker store (erasure, retention) since the last sync: gone from the console too,
        # in a transaction of its own, since this request's rolls back with the error page
        with state_of(request).db.transaction() as cleanup:
            cleanup.execute(delete(ConversationSummary).where(ConversationSummary.sender_id == sender_id))
        raise ConsoleError(404, "No such conversation (it may have been erased).")
    names = _customer_names(session, summary)
    customer_label = None
    if summary.customer_id is not None:
        customer_label = f"customer #{summary.customer_id}"
        if revealed and names:
            customer_label += f" ({names[0]})"
    return render(
        request,
        "transcript.html",
        user=user,
        summary=summary,
        turns=build_transcript(events, masked=not revealed, names=names),
        revealed=revealed,
        can_reveal=user.role in REVEAL_ROLES,
        can_save_story=user.role in STORY_ROLES,
        tags=tags_of(session, [sender_id]).get(sender_id, []),
        notes=notes_of(session, sender_id),
        mask=(lambda text: text) if revealed else (lambda text: mask_text(text, names)),
        customer_label=customer_label,
        review_states=REVIEW_STATES,
        quoted=quote(sender_id, safe=""),
    )


@router.get("/conversations/{sender_id:path}", name="transcript")
def transcript(
    sender_id: str, request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(*ROLES))]
) -> Response:
    """The conversation, personal data masked: intents, confidences, entities, sentiment, actions, policies."""
    return _transcript_page(request, session, user, sender_id, revealed=False)


@router.post("/reveal/{sender_id:path}", name="reveal")
def reveal(
    sender_id: str,
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*REVEAL_ROLES))],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The conversation with personal data shown; every reveal is written to the audit log."""
    _conversation(session, sender_id)
    audit.record(session, user.email, "reveal_pii", target=sender_id, detail=reason.strip(), ip=client_ip(request))
    response = _transcript_page(request, session, user, sender_id, revealed=True)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/tags/{sender_id:path}", name="tag")
def tag(
    sender_id: str,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*ROLES))],
    name: Annotated[str, Form(max_length=200)] = "",
    remove: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Add a tag to the conversation, or take one off (remove=1)."""
    _conversation(session, sender_id)
    try:
        if remove:
            remove_tag(session, sender_id, name)
        else:
            add_tag(session, sender_id, name)
    except InvalidFilter as error:
        raise ConsoleError(400, str(error)) from None
    return RedirectResponse(_transcript_url(sender_id), status_code=303)


@router.post("/review/{sender_id:path}", name="review")
def review(
    sender_id: str,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*ROLES))],
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Set the review status (unreviewed, reviewed, needs_work)."""
    try:
        set_review(session, _conversation(session, sender_id), status, user.email)
    except InvalidFilter as error:
        raise ConsoleError(400, str(error)) from None
    return RedirectResponse(_transcript_url(sender_id), status_code=303)


@router.post("/notes/{sender_id:path}", name="note")
def note(
    sender_id: str,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*ROLES))],
    body: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Add a note to the conversation."""
    _conversation(session, sender_id)
    try:
        add_note(session, sender_id, user.email, body)
    except InvalidFilter as error:
        raise ConsoleError(400, str(error)) from None
    return RedirectResponse(_transcript_url(sender_id), status_code=303)


@router.post("/stories/{sender_id:path}", name="save_test_story")
def save_test_story(
    sender_id: str,
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*STORY_ROLES))],
) -> Response:
    """Write the conversation as a Rasa test story (personal data made up, annotated intents used); audited."""
    summary = _conversation(session, sender_id)
    config = state_of(request).config
    events = state_of(request).tracker.conversation(sender_id)
    if not events:
        raise ConsoleError(404, "No such conversation (it may have been erased).")
    annotations = session.scalars(
        select(NluAnnotation).where(NluAnnotation.sender_id == sender_id, NluAnnotation.status == "approved")
    )
    corrections = {a.event_id: Correction(a.intent, a.example) for a in annotations if a.intent and a.example}
    try:
        slots = influential_slots(config.domain_file)
    except (OSError, ValueError) as error:  # a broken domain must be fixed by hand, not crash the console
        raise ConsoleError(409, f"The domain cannot be read: {error}") from None
    # a story that cannot be saved raises a StoryError: the app answers with its status
    story = build_story(
        sender_id,
        summary.started_at,
        summary.channel,
        events,
        corrections,
        slots,
        _customer_names(session, summary),
    )
    # the audit entry is flushed first: if it cannot be written, no file is either
    audit.record(session, user.email, "save_test_story", target=sender_id, detail=story.file_name,
                 ip=client_ip(request))  # fmt: skip
    session.flush()
    path = write_story(config.test_stories_dir, story)
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
    return render(request, "test_story.html", user=user, story=story, path=shown, back=_transcript_url(sender_id))
