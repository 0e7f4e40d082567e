"""A local stand-in for Rasa's HTTP API on 127.0.0.1: records every request the console posts, answers as
Rasa does (200 with the tracker) or with the status a test asks for. The e2e tests use the real Rasa."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class Posted:
    """One request the console made."""

    path: str  # unquoted
    query: dict[str, str]
    body: Any


class FakeRasa:
    """Start with `with FakeRasa() as rasa:`; `rasa.url`, `rasa.posted`, `rasa.answer_status`."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self.answer_status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.posted.append(Posted(unquote(parts.path), query, json.loads(raw) if raw else None))
                if query.get("token") != "fake-token":
                    status, body = 401, {"status": "failure", "reason": "NotAuthenticated"}
                else:
                    status, body = fake.answer_status, {"sender_id": "x", "events": []}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # quiet: the tests read `posted`
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.token = "fake-token"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeRasa:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events_posted(self) -> list[dict[str, Any]]:
        """Every event posted, in order."""
        return [event for post in self.posted for event in (post.body or [])]
