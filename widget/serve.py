"""The widget server: the chat script a shop's pages embed, the session tokens it joins chats with,
the CSAT answers it records, and a demo shop page.

Routes:
- `GET /shop-chat.js`: the widget, one file: the socket.io client (npm, copied by the setup step into
  widget/vendor/) and widget/static/chat.js, wrapped so neither leaks globals into the shop's page;
- `GET /shop-chat.css`, `GET /` (the demo shop page), `GET /config.json` (where Rasa is), `GET /healthz`;
- `POST /api/session` `{"token": <the one the browser has, or null>}`: the same session with a renewed
  token when the token is valid, else a new session; `{"token", "sessionId", "expiresAt"}`;
- `POST /api/csat` `{"token", "score": 1-5, "comment"}`: records the chat's rating (201), once per chat.

The API answers only pages of SHOP_ALLOWED_ORIGINS (CORS, and a 403 for any other Origin), takes
JSON bodies of at most 8 KB, and limits requests per IP address. Bad input gets a 4xx with a JSON
`error`, logged once with its reason; nothing a client sends makes it answer 5xx.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from settings import Settings, load_settings
from store.database import ShopDatabase
from store.errors import InvalidInput
from store.feedback import AlreadyRated, record_rating
from widget.rate_limit import RateLimit
from widget.session_token import InvalidSessionToken, issue_session_token, read_session_token

WIDGET_DIR = Path(__file__).resolve().parent
STATIC_DIR = WIDGET_DIR / "static"
SOCKET_IO_CLIENT = WIDGET_DIR / "vendor" / "socket.io.min.js"
MAX_BODY = 8 * 1024
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/shop-chat.css": ("chat.css", "text/css; charset=utf-8"),
}
logger = logging.getLogger("widget.serve")


class MissingClient(RuntimeError):
    """The socket.io client is not in widget/vendor/: the setup step (`make setup`) puts it there."""


class BadRequest(Exception):
    """A request we refuse: its HTTP status and the reason the client and the log get."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def bundle(client_js: str, widget_js: str) -> str:
    """One script: the socket.io client's UMD build handed a private `module`, then the widget using it."""
    return (
        "/* shop-chat: the shop's chat widget, with the socket.io client (MIT licence, notice below) */\n"
        "(function () {\n"
        "var module = { exports: {} }, exports = module.exports, define = undefined;\n"
        f"{client_js}\n"
        "var io = module.exports;\n"
        f"{widget_js}\n"
        "})();\n"
    )


@lru_cache(maxsize=4)
def _bundle_for(client_mtime: float, widget_mtime: float) -> bytes:
    return bundle(SOCKET_IO_CLIENT.read_text(), (STATIC_DIR / "chat.js").read_text()).encode()


def widget_script() -> bytes:
    """The bundled widget, rebuilt when either part changes on disk."""
    if not SOCKET_IO_CLIENT.is_file():
        raise MissingClient(f"{SOCKET_IO_CLIENT} is missing: run `make setup` (it runs npm ci in widget/)")
    return _bundle_for(SOCKET_IO_CLIENT.stat().st_mtime, (STATIC_DIR / "chat.js").stat().st_mtime)


class WidgetApi:
    """What the API does, apart from HTTP: sessions and ratings, with their limits."""

    def __init__(self, settings: Settings, rasa_url: str) -> None:
        self.rasa_url = rasa_url
        self.origins = frozenset(settings.allowed_origins())
        self.secret = settings.secret_for_widget()
        self.database_url = settings.shop_database_url
        self._database: ShopDatabase | None = None
        self._lock = threading.Lock()
        # a page load asks for one token; many customers may share one address behind a NAT
        self._sessions_per_ip = RateLimit(per_minute=60, burst=30)
        self._ratings_per_ip = RateLimit(per_minute=30, burst=20)

    def database(self) -> ShopDatabase:
        """The shop database, opened at the first rating."""
        with self._lock:
            if self._database is None:
                self._database = ShopDatabase(self.database_url)
            return self._database

    def limit(self, which: str, ip: str) -> None:
        """BadRequest 429 when this address is over the limit (the first refusal of a streak is logged)."""
        limit = self._sessions_per_ip if which == "session" else self._ratings_per_ip
        with self._lock:
            allowed, first = limit.allow(ip)
        if not allowed:
            if first:
                logger.warning("widget api: %s requests from %s refused: rate limit", which, ip)
            raise BadRequest(429, "too many requests; wait a moment")

    def session(self, body: dict[str, Any]) -> dict[str, Any]:
        """Renew the presented session's token, or start a new session."""
        session_id = None
        if body.get("token") is not None:
            try:
                session_id = read_session_token(body["token"], self.secret).session_id
            except InvalidSessionToken as error:
                logger.info("widget api: a new session instead of one whose %s", error)
        token, claims = issue_session_token(self.secret, session_id)
        return {"token": token, "sessionId": claims.session_id, "expiresAt": claims.expires_at}

    def rating(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record the chat's CSAT rating; the token says which chat, so nobody rates another's."""
        try:
            chat = read_session_token(body.get("token"), self.secret).session_id
        except InvalidSessionToken as error:
            raise BadRequest(403, str(error)) from None
        try:
            with self.database().transaction() as session:
                rating = record_rating(session, "web", chat, body.get("score"), body.get("comment"))
        except InvalidInput as error:
            raise BadRequest(400, str(error)) from None
        except (AlreadyRated, IntegrityError):
            raise BadRequest(409, "this chat has been rated already") from None
        logger.info("widget api: chat %s rated %d", chat[:8], rating.score)
        return {"status": "recorded", "score": rating.score}


class WidgetRequestHandler(BaseHTTPRequestHandler):
    """Routes requests to the static files and the API."""

    api: WidgetApi
    server_version = "shop-chat"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send_json(200, {"status": "ok"})
        elif path == "/config.json":
            self._send_json(200, {"rasaUrl": self.api.rasa_url})
        elif path == "/shop-chat.js":
            try:
                self._send(200, widget_script(), "text/javascript; charset=utf-8", cross_origin=True)
            except MissingClient as missing:
                logger.error("widget: %s", missing)
                self._send_json(503, {"error": "the widget is not built on this server"})
        elif path in STATIC_FILES:
            name, kind = STATIC_FILES[path]
            self._send(200, (STATIC_DIR / name).read_bytes(), kind, cross_origin=path.endswith(".css"))
        else:
            self._send_json(404, {"error": "not found"})

    def do_OPTIONS(self) -> None:
        origin = self.headers.get("Origin")
        if self.path not in ("/api/session", "/api/csat") or origin not in self.api.origins:
            self._send_json(403, {"error": "origin not allowed"})
            return
        self.send_response(204)
        self._cors_headers(origin)
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        handlers = {"/api/session": ("session", self.api.session), "/api/csat": ("csat", self.api.rating)}
        if self.path not in handlers:
            self._send_json(404, {"error": "not found"})
            return
        which, handle = handlers[self.path]
        try:
            origin = self.headers.get("Origin")
            if origin not in self.api.origins:
                raise BadRequest(403, f"origin not allowed ({origin!r})")
            self.api.limit(which, self.client_address[0])
            self._send_json(200 if which == "session" else 201, handle(self._json_body()), origin)
        except BadRequest as refused:
            if refused.status != 429:  # rate limits log the first refusal of a streak themselves
                logger.warning("widget api: %s refused (%d): %s", self.path, refused.status, refused.reason)
            self._send_json(refused.status, {"error": refused.reason}, self.headers.get("Origin"))

    def _json_body(self) -> dict[str, Any]:
        """The request's JSON object; BadRequest when missing, too large or malformed."""
        try:
            length = int(self.headers.get("Content-Length") or "-1")
        except ValueError:
            length = -1
        if length < 0:
            raise BadRequest(411, "a Content-Length is required")
        if length > MAX_BODY:
            self.close_connection = True  # the body is not read
            raise BadRequest(413, f"bodies are limited to {MAX_BODY} bytes")
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BadRequest(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest(400, "the body must be a JSON object")
        return body

    def _cors_headers(self, origin: str | None) -> None:
        if origin in self.api.origins:
            self.send_header("Access-Control-Allow-Origin", origin or "")
            self.send_header("Vary", "Origin")

    def _send(self, status: int, body: bytes, kind: str, origin: str | None = None, cross_origin: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if cross_origin:  # the script and its style are loaded by the shop's pages, on other origins
            self.send_header("Cross-Origin-Resource-Policy", "cross-origin")
        self._cors_headers(origin)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: dict[str, Any], origin: str | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", origin)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        logger.info("%s %s", self.address_string(), format % args)


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", required=True, help="base URL of the Rasa server, e.g. http://127.0.0.1:5005")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    api = WidgetApi(load_settings(), args.rasa_url)
    widget_script()  # fail at start, not at the first page view, when the widget is not built
    handler = type("ConfiguredHandler", (WidgetRequestHandler,), {"api": api})
    server = ThreadingHTTPServer((args.host, args.port), handler)
    logger.info(
        "serving the widget and its demo page on http://%s:%d/ for %s", args.host, args.port, sorted(api.origins)
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
