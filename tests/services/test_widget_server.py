"""The widget demo page server: static assets, its config, health, and nothing outside its folder."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from devstack.processes import free_port
from settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def widget_url() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "widget.serve", "--port", str(port), "--rasa-url", "http://127.0.0.1:5999"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_serves_the_demo_page_and_its_script(widget_url: str) -> None:
    status, page = get(f"{widget_url}/")
    assert status == 200
    assert '<script src="chat.js"></script>' in page
    status, script = get(f"{widget_url}/chat.js")
    assert status == 200
    assert "session_request" in script and "user_uttered" in script


def test_tells_the_page_where_rasa_is(widget_url: str) -> None:
    status, body = get(f"{widget_url}/config.json")
    assert status == 200
    assert json.loads(body) == {"rasaUrl": "http://127.0.0.1:5999"}
    assert json.loads(get(f"{widget_url}/healthz")[1]) == {"status": "ok"}


@pytest.mark.parametrize("path", ["/../../settings/__init__.py", "/%2e%2e/%2e%2e/etc/passwd", "/missing.js"])
def test_nothing_outside_the_static_folder_is_served(widget_url: str, path: str) -> None:
    assert get(f"{widget_url}{path}")[0] == 404
