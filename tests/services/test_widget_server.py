"""The widget server: the bundled script, the demo page, where Rasa is, session tokens, CSAT ratings,
and refusals (other origins, bad bodies, too many requests) answered with a 4xx, never a 5xx."""

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.browser import ensure_widget_client
from devstack.processes import free_port
from settings import PROJECT_ROOT
from store.database import ShopDatabase
from widget.session_token import issue_session_token, read_session_token

ORIGIN = "https://shop.example.com"
SECRET = "widget-server-test-secret-of-32-bytes+"


@dataclass
class WidgetServer:
    url: str
    data_dir: Path
    log: Path


@pytest.fixture(scope="module")
def widget(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetServer]:
    ensure_widget_client()
    data_dir = tmp_path_factory.mktemp("widget")
    ShopDatabase(f"sqlite:///{data_dir / 'shop.db'}").upgrade()
    port = free_port()
    log = data_dir / "widget.log"
    env = {"PATH": "/usr/bin:/bin", "SHOP_DATA_DIR": str(data_dir), "SHOP_ALLOWED_ORIGINS": ORIGIN}
    env["SHOP_WIDGET_SECRET"] = SECRET
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "widget.serve", "--port", str(port), "--rasa-url", "http://127.0.0.1:5999"],
            cwd=PROJECT_ROOT,
            env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield WidgetServer(url, data_dir, log)
    server.terminate()
    server.wait(timeout=10)


def call(url: str, body: bytes | None = None, headers: dict[str, str] | None = None, method: str = "GET") -> Any:
    """(status, headers, body) of a request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def post(widget: WidgetServer, path: str, payload: object, origin: str | None = ORIGIN) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    status, answer_headers, body = call(f"{widget.url}{path}", json.dumps(payload).encode(), headers, "POST")
    if origin == ORIGIN:
        assert answer_headers["Access-Control-Allow-Origin"] == ORIGIN
    return status, json.loads(body)


def test_serves_the_demo_page_and_one_bundled_script(widget: WidgetServer) -> None:
    status, _, page = call(f"{widget.url}/")
    assert status == 200 and '<script src="shop-chat.js" async></script>' in page
    status, headers, script = call(f"{widget.url}/shop-chat.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert "Socket.IO v4" in script and "session_request" in script and "user_uttered" in script
    assert "var io = module.exports;" in script  # the client's UMD build is handed a private module
    status, _, style = call(f"{widget.url}/shop-chat.css")
    assert status == 200 and "@media (max-width: 480px)" in style


def test_tells_the_page_where_rasa_is(widget: WidgetServer) -> None:
    status, _, body = call(f"{widget.url}/config.json")
    assert status == 200
    assert json.loads(body) == {"rasaUrl": "http://127.0.0.1:5999"}
    assert json.loads(call(f"{widget.url}/healthz")[2]) == {"status": "ok"}


@pytest.mark.parametrize(
    "path", ["/../../settings/__init__.py", "/%2e%2e/%2e%2e/etc/passwd", "/missing.js", "/chat.js", "/serve.py"]
)
def test_nothing_but_the_widget_is_served(widget: WidgetServer, path: str) -> None:
    assert call(f"{widget.url}{path}")[0] == 404


def test_a_session_is_issued_and_renewed_but_never_chosen_by_the_client(widget: WidgetServer) -> None:
    status, first = post(widget, "/api/session", {"token": None})
    assert status == 200 and read_session_token(first["token"], SECRET).session_id == first["sessionId"]
    status, renewed = post(widget, "/api/session", {"token": first["token"]})
    assert status == 200 and renewed["sessionId"] == first["sessionId"]
    forged, _ = issue_session_token("another-secret-of-at-least-32-bytes!", first["sessionId"])
    for token in (forged, first["sessionId"], 12, "x" * 5000):
        status, other = post(widget, "/api/session", {"token": token})
        assert status == 200 and other["sessionId"] != first["sessionId"]


def test_only_the_shops_pages_may_ask(widget: WidgetServer) -> None:
    for origin in ("https://evil.example.net", None):
        status, body = post(widget, "/api/session", {}, origin=origin)
        assert status == 403 and body["error"].startswith("origin not allowed")
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    status, headers, _ = call(f"{widget.url}/api/csat", headers=preflight, method="OPTIONS")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == ORIGIN
    status, headers, _ = call(
        f"{widget.url}/api/csat", headers={"Origin": "https://evil.example.net"}, method="OPTIONS"
    )
    assert status == 403 and "Access-Control-Allow-Origin" not in headers


def test_a_rating_is_recorded_once_for_the_tokens_session(widget: WidgetServer) -> None:
    _, session = post(widget, "/api/session", {})
    status, body = post(widget, "/api/csat", {"token": session["token"], "score": 5, "comment": "Great help"})
    assert (status, body) == (201, {"status": "recorded", "score": 5})
    status, body = post(widget, "/api/csat", {"token": session["token"], "score": 1})
    assert status == 409
    with sqlite3.connect(widget.data_dir / "shop.db") as db:
        rows = db.execute("SELECT session_id, score, comment FROM csat_ratings").fetchall()
    assert (session["sessionId"], 5, "Great help") in rows and len(rows) == 1


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"score": 5}, 403),  # no token: nobody rates a chat that is not theirs
        ({"token": "forged.token.here", "score": 5}, 403),
        ({"token": "VALID", "score": 0}, 400),
        ({"token": "VALID", "score": "5"}, 400),
        ({"token": "VALID", "score": 3, "comment": "x" * 1001}, 400),
        ({"token": "VALID", "score": 3, "comment": {"nested": 1}}, 400),
        (["not", "an", "object"], 400),
    ],
)
def test_bad_ratings_are_refused_with_a_4xx(widget: WidgetServer, payload: Any, status: int) -> None:
    if isinstance(payload, dict) and payload.get("token") == "VALID":
        payload["token"] = post(widget, "/api/session", {})[1]["token"]
    assert post(widget, "/api/csat", payload)[0] == status


def test_malformed_and_oversized_bodies_are_refused_and_logged(widget: WidgetServer) -> None:
    headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    assert call(f"{widget.url}/api/session", b"{not json", headers, "POST")[0] == 400
    assert call(f"{widget.url}/api/session", b"\xff\xfe", headers, "POST")[0] == 400
    assert call(f"{widget.url}/api/csat", b"{" + b" " * (1024 * 1024) + b"}", headers, "POST")[0] == 413
    assert call(f"{widget.url}/api/nothing", b"{}", headers, "POST")[0] == 404
    log = widget.log.read_text()
    assert "refused (400): the body is not JSON" in log and "refused (413)" in log
    assert "Traceback" not in log


def test_too_many_requests_from_one_address_get_429_logged_once(widget: WidgetServer) -> None:
    statuses = [post(widget, "/api/session", {})[0] for _ in range(40)]  # 30 at once are allowed
    assert statuses[0] == 200 and statuses[-1] == 429
    assert widget.log.read_text().count("session requests from 127.0.0.1 refused: rate limit") == 1
