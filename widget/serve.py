"""Serve the widget demo page (static files) and tell the page where the Rasa server is."""

from __future__ import annotations

import argparse
import json
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"


class WidgetRequestHandler(SimpleHTTPRequestHandler):
    """Static files from widget/static, plus /config.json and /healthz."""

    rasa_url = ""

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._send_json({"status": "ok"})
        elif self.path == "/config.json":
            self._send_json({"rasaUrl": self.rasa_url})
        else:
            super().do_GET()

    def _send_json(self, payload: dict[str, str]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        print(f"{self.address_string()} {format % args}", flush=True)


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", required=True, help="base URL of the Rasa server, e.g. http://127.0.0.1:5005")
    args = parser.parse_args()
    handler = type("ConfiguredHandler", (WidgetRequestHandler,), {"rasa_url": args.rasa_url})
    server = ThreadingHTTPServer((args.host, args.port), partial(handler, directory=str(STATIC_DIR)))
    print(f"serving the widget demo page on http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
