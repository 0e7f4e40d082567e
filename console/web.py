"""What every screen shares: configuration, database session, logged-in user, role and CSRF checks, rendering."""

# no `from __future__ import annotations` here: FastAPI must see post_by's dependency on a local at run time
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from console.errors import Refusal
from console.rasa_api import RasaApi
from console.security import CurrentUser, LoginRateLimit, SessionCookies, csrf_valid
from console.tracker import TrackerReader
from settings import PROJECT_ROOT
from store.database import ShopDatabase

logger = logging.getLogger("console")
SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class ConsoleConfig:
    """Where the console's data lives and how it runs."""

    shop_database_url: str
    tracker_database_url: str
    secret: str
    sync_interval_seconds: float | None = 5.0  # None: no background sync (tests call it themselves)
    prune_every: int = 12  # syncs between two checks for conversations erased from the tracker
    training_data_dir: Path = PROJECT_ROOT / "data"  # where the NLU inbox exports approved examples
    domain_file: Path = PROJECT_ROOT / "domain.yml"
    rasa_url: str | None = None  # Rasa's HTTP API, through which agents write to customers (the handoff chat)
    rasa_token: str | None = None  # its auth token (RASA_AUTH_TOKEN)
    test_stories_dir: Path = PROJECT_ROOT / "tests" / "stories" / "console"  # where "save as test story" writes


class ConsoleState:
    """The app's shared objects: database, tracker reader, cookies, rate limit, templates."""

    def __init__(self, config: ConsoleConfig) -> None:
        self.config = config
        self.db = ShopDatabase(config.shop_database_url)
        self.tracker = TrackerReader(config.tracker_database_url)
        self.cookies = SessionCookies(config.secret)
        self.rate_limit = LoginRateLimit()
        self.rasa = RasaApi(config.rasa_url, config.rasa_token)
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined, trim_blocks=True
        )


class ConsoleError(Refusal):
    """An error page with a status: not logged in (401), wrong role (403), missing (404), bad input (400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status)


def state_of(request: Request) -> ConsoleState:
    """The app's shared state."""
    state: ConsoleState = request.app.state.console
    return state


def db_session(request: Request) -> Iterator[Session]:
    """One session and transaction per request: commits when the handler returns, rolls back if it raises."""
    with state_of(request).db.transaction() as session:
        yield session


# scope="function": the transaction commits before the response leaves, so the browser's next
# request (after a redirect, at once) sees what this one wrote; by default it would commit after
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def client_ip(request: Request) -> str:
    """The caller's address (for the rate limit and the audit log)."""
    return request.client.host if request.client else "unknown"


def optional_user(request: Request, session: DbSession) -> CurrentUser | None:
    """The logged-in user, if any."""
    return state_of(request).cookies.read(session, request.cookies.get(SESSION_COOKIE))


def require(*roles: str) -> Callable[..., CurrentUser]:
    """A dependency that lets in only logged-in users with one of these roles."""

    def dependency(request: Request, user: Annotated[CurrentUser | None, Depends(optional_user)]) -> CurrentUser:
        if user is None:
            raise ConsoleError(401, "Please log in.")
        if user.role not in roles:
            logger.info("refused %s %s to %s (role %s)", request.method, request.url.path, user.email, user.role)
            raise ConsoleError(403, "Your role does not allow this.")
        return user

    return dependency


def post_by(*roles: str) -> Callable[..., CurrentUser]:
    """Like `require`, for form posts: also checks the form's CSRF token against the session's."""
    allowed = require(*roles)

    def dependency(
        request: Request,
        user: Annotated[CurrentUser, Depends(allowed)],
        csrf_token: Annotated[str, Form()] = "",
    ) -> CurrentUser:
        if not csrf_valid(user, csrf_token):
            logger.warning("CSRF token missing or wrong on %s by %s", request.url.path, user.email)
            raise ConsoleError(403, "The form expired or did not come from the console; reload the page and retry.")
        return user

    return dependency


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from console/templates (autoescaped: customer text can never become markup)."""
    page = state_of(request).templates.get_template(template)
    context.setdefault("user", None)
    return HTMLResponse(page.render(request=request, **context), status_code=status)
