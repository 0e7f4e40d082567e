"""The staff console as the run command starts it, showing a conversation held with the real Rasa server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid

import httpx

from settings import PROJECT_ROOT
from tests.e2e.conftest import RunningStack
from tests.e2e.test_run_command import rest_replies

PASSWORD = "e2e console password"


def console_url(stack: RunningStack) -> str:
    """The console's address, as the run command printed it."""
    match = re.search(r"staff console\s+(http://\S+?)/?\n", stack.output.read_text(errors="replace"))
    assert match, "the run command did not print the console's URL"
    return match.group(1)


def test_the_console_shows_a_real_conversation(stack: RunningStack) -> None:
    output = stack.output.read_text(errors="replace")
    assert "python -m console create-admin --email" in output  # the first-login instructions
    url = console_url(stack)
    email = f"admin-{uuid.uuid4().hex[:6]}@example.com"
    env = {**os.environ, "SHOP_DATA_DIR": str(stack.data_dir), "CONSOLE_ADMIN_PASSWORD": PASSWORD}
    created = subprocess.run(
        [sys.executable, "-m", "console", "create-admin", "--email", email],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr

    sender = f"console-{uuid.uuid4().hex[:8]}"
    rest_replies(stack, sender, "do you sell running shoes?")
    rest_replies(stack, sender, "<script>alert(1)</script> my email is jane.roe@example.com")

    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client:
        assert client.get("/conversations").status_code == 303
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token
        login = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
        assert login.status_code == 303
        deadline = time.monotonic() + 60  # the console folds new tracker events in every few seconds
        while sender not in client.get("/conversations?channel=rest").text:
            assert time.monotonic() < deadline, "the conversation never reached the console"
            time.sleep(1)
        html = client.get(f"/conversations/{sender}").text
    assert "intent <strong>product_search</strong>" in html
    assert "product=running shoes" in html
    assert "action <code>action_search_products</code> · policy " in html
    assert "sentiment <span" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "jane.roe@example.com" not in html and "[email]" in html
