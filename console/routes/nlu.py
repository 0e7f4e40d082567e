"""The NLU inbox: uncertain customer messages, annotating them, and exporting approved examples into data/."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from console import audit
from console.inbox import annotate, approved_not_exported, inbox
from console.nlu import InvalidAnnotation, TrainingData, load_training_data, plan_export, write_export
from console.security import CurrentUser
from console.web import ConsoleError, DbSession, client_ip, post_by, render, require, state_of
from store.models import utcnow

router = APIRouter(prefix="/nlu")
ANNOTATORS = ("admin", "annotator")


def _training(request: Request) -> TrainingData:
    config = state_of(request).config
    try:
        return load_training_data(config.training_data_dir, config.domain_file)
    except (OSError, ValueError) as error:  # a broken training file must be fixed by hand, not crash the console
        raise ConsoleError(409, f"The training data cannot be read: {error}") from None


@router.get("", name="nlu_inbox")
def nlu_inbox(
    request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(*ANNOTATORS))]
) -> Response:
    """Customer messages that are not training data yet, least confident first."""
    training = _training(request)
    items = inbox(session, state_of(request).tracker, training)
    waiting = len(approved_not_exported(session))
    return render(request, "nlu_inbox.html", user=user, items=items, intents=training.intents, waiting=waiting)


@router.post("/annotate/{event_id}", name="nlu_annotate")
def nlu_annotate(
    event_id: int,
    request: Request,
    session: DbSession,
    user: Annotated[CurrentUser, Depends(post_by(*ANNOTATORS))],
    verdict: Annotated[str, Form(max_length=16)] = "",
    intent: Annotated[str, Form(max_length=255)] = "",
    example: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve the message as an example of an intent (entities in inline markup), or reject it."""
    try:
        annotate(session, state_of(request).tracker, _training(request), event_id, verdict, intent, example, user.email)
    except InvalidAnnotation as error:
        raise ConsoleError(400, str(error)) from None
    except LookupError:
        raise ConsoleError(404, "No such customer message.") from None
    return RedirectResponse("/nlu", status_code=303)


@router.get("/export", name="nlu_export_preview")
def nlu_export_preview(
    request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(require(*ANNOTATORS))]
) -> Response:
    """The YAML diff the export would make to data/nlu/."""
    approved = approved_not_exported(session)
    config = state_of(request).config
    export = plan_export(
        config.training_data_dir, _training(request), [(a.intent or "", a.example or "") for a in approved]
    )
    return render(request, "nlu_export.html", user=user, diff=export.diff, count=len(approved), written=False)


@router.post("/export", name="nlu_export")
def nlu_export(
    request: Request, session: DbSession, user: Annotated[CurrentUser, Depends(post_by(*ANNOTATORS))]
) -> Response:
    """Write the approved examples into data/nlu/ and show the diff (audited)."""
    approved = approved_not_exported(session)
    config = state_of(request).config
    export = plan_export(
        config.training_data_dir, _training(request), [(a.intent or "", a.example or "") for a in approved]
    )
    write_export(export)
    now = utcnow()
    for annotation in approved:
        annotation.exported_at = now
    files = ", ".join(sorted(p.name for p in export.files))
    audit.record(session, user.email, "export_training_data", target=files, detail=f"{len(approved)} examples",
                 ip=client_ip(request))  # fmt: skip
    return render(request, "nlu_export.html", user=user, diff=export.diff, count=len(approved), written=True)
