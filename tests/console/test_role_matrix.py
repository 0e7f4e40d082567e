"""Every endpoint x every role x not logged in: who gets in, who is refused."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import BaseRoute

from console.canned_replies import add_reply
from console.models import StaffUser
from console.rasa_api import RasaApi
from console.security import create_user
from store.customers import create_customer
from tests.console.conftest import PASSWORD, ROLE_USERS, Console, log_in
from tests.console.fake_rasa import FakeRasa

ALL = ("admin", "agent", "annotator")
ANNOTATORS = ("admin", "annotator")
STAFF = ("admin", "agent")  # the handoff queue and live chat
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")}  # the only doors open without a login
_counter = itertools.count()


@dataclass(frozen=True)
class Endpoint:
    """One endpoint, how to call it, and who may."""

    method: str
    route: str  # the route's path template, to check every route is listed
    path: str
    allowed: tuple[str, ...]
    ok: int
    form: dict[str, str] = field(default_factory=dict)


def endpoints(
    victim_id: int, throwaway_customer: int, message_id: int = 0, ticket_id: int = 0, canned_id: int = 0
) -> list[Endpoint]:
    """The matrix: every non-public route of the app. Forms are valid, so refusals come from the role alone."""
    return [
        Endpoint("GET", "/", "/", ALL, 303),
        Endpoint("GET", "/conversations", "/conversations?channel=rest", ALL, 200),
        Endpoint("GET", "/conversations/{sender_id:path}", "/conversations/alice-web", ALL, 200),
        Endpoint("GET", "/analytics", "/analytics?from=2026-11-01&to=2026-11-30&channel=rest", ALL, 200),
        Endpoint("POST", "/filters", "/filters", ALL, 303, {"name": "rest", "query": "channel=rest"}),
        Endpoint("POST", "/filters/{filter_id}/delete", "/filters/1/delete", ALL, 303),
        Endpoint("POST", "/reveal/{sender_id:path}", "/reveal/alice-web", ("admin", "agent"), 200, {"reason": "t"}),
        Endpoint("POST", "/tags/{sender_id:path}", "/tags/alice-web", ALL, 303, {"name": "late"}),
        Endpoint("POST", "/review/{sender_id:path}", "/review/alice-web", ALL, 303, {"status": "reviewed"}),
        Endpoint("POST", "/notes/{sender_id:path}", "/notes/alice-web", ALL, 303, {"body": "called back"}),
        Endpoint("POST", "/stories/{sender_id:path}", "/stories/alice-web", ANNOTATORS, 200),
        Endpoint("GET", "/admin/users", "/admin/users", ("admin",), 200),
        Endpoint("POST", "/admin/users", "/admin/users", ("admin",), 303, {"role": "agent", "password": PASSWORD}),
        Endpoint("POST", "/admin/users/{user_id}/disable", f"/admin/users/{victim_id}/disable", ("admin",), 303),
        Endpoint("GET", "/admin/audit", "/admin/audit", ("admin",), 200),
        Endpoint("POST", "/admin/customers/export", "/admin/customers/export", ("admin",), 200,
                 {"customer_id": str(throwaway_customer)}),
        Endpoint("POST", "/admin/customers/erase", "/admin/customers/erase", ("admin",), 303,
                 {"customer_id": str(throwaway_customer), "confirm": str(throwaway_customer)}),
        Endpoint("GET", "/nlu", "/nlu", ANNOTATORS, 200),
        Endpoint("POST", "/nlu/annotate/{event_id}", f"/nlu/annotate/{message_id}", ANNOTATORS, 303,
                 {"verdict": "rejected"}),
        Endpoint("GET", "/nlu/export", "/nlu/export", ANNOTATORS, 200),
        Endpoint("POST", "/nlu/export", "/nlu/export", ANNOTATORS, 200),
        # the handoff queue and live chat (in this order: claim, read, write, reveal, hand back); canned replies
        Endpoint("GET", "/queue", "/queue", STAFF, 200),
        Endpoint("POST", "/queue/{ticket_id}/claim", f"/queue/{ticket_id}/claim", STAFF, 303),
        Endpoint("GET", "/handoff/{ticket_id}", f"/handoff/{ticket_id}", STAFF, 200),
        Endpoint("GET", "/handoff/{ticket_id}/lines", f"/handoff/{ticket_id}/lines?after=0", STAFF, 200),
        Endpoint("POST", "/handoff/{ticket_id}/messages", f"/handoff/{ticket_id}/messages", STAFF, 303,
                 {"text": "Hello, I'm looking into it."}),
        Endpoint("POST", "/handoff/{ticket_id}/reveal", f"/handoff/{ticket_id}/reveal", STAFF, 200, {"reason": "t"}),
        Endpoint("POST", "/handoff/{ticket_id}/close", f"/handoff/{ticket_id}/close", STAFF, 303,
                 {"resolution": "answered"}),
        Endpoint("GET", "/static/handoff.js", "/static/handoff.js", STAFF, 200),
        Endpoint("GET", "/canned-replies", "/canned-replies", ("admin",), 200),
        Endpoint("POST", "/canned-replies", "/canned-replies", ("admin",), 303, {"title": "Hi", "body": "Hello!"}),
        Endpoint("POST", "/canned-replies/{reply_id}", f"/canned-replies/{canned_id}", ("admin",), 303,
                 {"title": "Thanks", "body": "Thank you!"}),
        Endpoint("POST", "/canned-replies/{reply_id}/delete", f"/canned-replies/{canned_id}/delete", ("admin",), 303),
        Endpoint("POST", "/logout", "/logout", ALL, 303),
    ]  # fmt: skip


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


def _message_id(console: Console) -> int:
    """A customer message's event id in the tracker."""
    return console.state.tracker.recent_user_messages(1)[0].id


def _setup(console: Console) -> tuple[int, int]:
    with console.state.db.transaction() as session:
        victim = create_user(session, f"victim{next(_counter)}@example.com", PASSWORD, "annotator")
        customer = create_customer(session, name="Throwaway Person", email=f"t{next(_counter)}@example.com")
        return victim.id, customer.id


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every endpoint, also inside included routers (FastAPI wraps those; `original_router` holds their routes)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from api_routes(inner.routes)


def test_every_route_is_in_the_matrix(console: Console) -> None:
    routes = {(method, route.path) for route in api_routes(console.app.routes) for method in route.methods}
    listed = {(e.method, e.route) for e in endpoints(0, 0)}
    assert routes - PUBLIC == listed


@pytest.mark.parametrize("role", [*ALL, None])
def test_role_matrix(console: Console, role: str | None, rasa: FakeRasa) -> None:
    victim_id, customer_id = _setup(console)
    console.state.rasa = RasaApi(rasa.url, rasa.token)  # the live chat writes to a local fake of Rasa's HTTP API
    with console.state.db.transaction() as session:
        canned_id = add_reply(session, "Welcome", "Hello, how can I help?", "admin@example.com").id
    client = console.client()
    csrf = log_in(client, ROLE_USERS[role]) if role else ""
    for endpoint in endpoints(victim_id, customer_id, _message_id(console), console.carol_ticket_id, canned_id):
        form = dict(endpoint.form)
        if endpoint.route == "/admin/users":
            form["email"] = f"new{next(_counter)}@example.com"
        if endpoint.method == "GET":
            response = client.get(endpoint.path)
        else:
            response = client.post(endpoint.path, data={**form, "csrf_token": csrf})
        where = f"{endpoint.method} {endpoint.path} as {role or 'nobody'}"
        if role is None:
            if endpoint.method == "GET":
                assert response.status_code == 303, where
                assert response.headers["location"].startswith("/login?next="), where
            else:
                assert response.status_code == 401, where
        elif role in endpoint.allowed:
            assert response.status_code == endpoint.ok, f"{where}: {response.status_code} {response.text[:300]}"
        else:
            assert response.status_code == 403, where
            assert "Your role does not allow this." in response.text
    with console.state.db.transaction() as session:
        victim = session.scalar(select(StaffUser).where(StaffUser.id == victim_id))
        assert victim is not None and victim.active is (role != "admin")


def test_public_doors_say_nothing(console: Console) -> None:
    client = console.client()
    assert client.get("/healthz").text == "ok"
    page = client.get("/login")
    assert page.status_code == 200 and "alice-web" not in page.text
