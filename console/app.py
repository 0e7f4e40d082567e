"""The console's FastAPI app: routers, error pages, security headers and the background sync of conversations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.errors import Refusal
from console.routes import admin, analytics, auth, conversations, handoff, nlu
from console.sync import prune_missing, sync_once
from console.web import ConsoleConfig, ConsoleState, client_ip, render

logger = logging.getLogger("console")

SECURITY_HEADERS = {
    # no script runs on any page: customer text that slipped through escaping still could not execute
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


async def _sync_forever(state: ConsoleState) -> None:
    """Fold new tracker events in every few seconds; now and then drop conversations erased from the tracker."""
    interval = state.config.sync_interval_seconds or 5.0
    rounds = 0
    while True:
        try:
            await asyncio.to_thread(sync_once, state.db, state.tracker)
            if rounds % state.config.prune_every == 0:
                await asyncio.to_thread(prune_missing, state.db, state.tracker)
        except Exception:  # a locked or unreachable database must not stop the console; retried next round
            logger.exception("syncing conversations from the tracker store failed; retrying in %.0f s", interval)
        rounds += 1
        await asyncio.sleep(interval)


def create_app(config: ConsoleConfig) -> FastAPI:
    """The console app for this configuration (migrates the shop database to the latest schema first)."""
    state = ConsoleState(config)
    state.db.upgrade()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_sync_forever(state)) if config.sync_interval_seconds else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        state.tracker.dispose()
        state.db.dispose()

    app = FastAPI(
        title="Shop assistant staff console", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.console = state
    app.include_router(auth.router)
    app.include_router(conversations.router)
    app.include_router(admin.router)
    app.include_router(nlu.router)
    app.include_router(handoff.router)
    app.include_router(analytics.router)

    @app.get("/healthz", name="healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        """For the launcher's health check: public, says nothing but 'ok'."""
        return "ok"

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(Refusal)
    async def refused(request: Request, error: Refusal) -> Response:
        if error.status == 401 and request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if error.status == 401:
            logger.info("%s %s refused: not logged in (from %s)", request.method, request.url.path, client_ip(request))
        elif error.status != 403:  # refusals by role and CSRF are logged where they are decided
            logger.info("%s %s answered %d: %s", request.method, request.url.path, error.status, error.message)
        return render(request, "error.html", status=error.status, message=error.message)

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, error: RequestValidationError) -> Response:
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in error.errors())
        logger.info("%s %s answered 400: invalid %s", request.method, request.url.path, fields)
        return render(request, "error.html", status=400, message=f"Invalid value for: {fields}.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = "Not found." if error.status_code == 404 else str(error.detail)
        return render(request, "error.html", status=error.status_code, message=message)

    return app
