"""What the web widget and its browser test need outside Python: the socket.io client from npm and Chromium.

- `ensure_widget_client()`: `npm ci` in widget/ when package-lock.json changed since the last install,
  then the client's browser build copied to widget/vendor/, where widget/serve.py bundles it into
  /shop-chat.js (nothing is fetched from a CDN at run time);
- `ensure_chromium()`: Debian's `chromium` and `chromium-driver` when /usr/bin/chromium is missing
  (the browser test drives it with Playwright; Playwright's own browser download is never used).
Both need the package registries only when something is missing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from settings import PROJECT_ROOT

WIDGET_DIR = PROJECT_ROOT / "widget"
LOCK_FILE = WIDGET_DIR / "package-lock.json"
NODE_MODULES = WIDGET_DIR / "node_modules"
STAMP = NODE_MODULES / ".shop-lock-stamp"
CLIENT_BUILD = NODE_MODULES / "socket.io-client" / "dist" / "socket.io.min.js"
VENDORED_CLIENT = WIDGET_DIR / "vendor" / "socket.io.min.js"
CHROMIUM = Path("/usr/bin/chromium")
APT_PACKAGES = {"npm": ["nodejs", "npm"], "chromium": ["chromium", "chromium-driver"]}


class BrowserSetupFailed(RuntimeError):
    """A system package or the npm install is missing and could not be installed; the message says how."""


def _apt_install(purpose: str, packages: list[str]) -> None:
    """Install Debian packages (as root), or say which command installs them."""
    command = f"apt-get update && apt-get install -y {' '.join(packages)}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserSetupFailed(f"{purpose} needs {', '.join(packages)}; install them as root: {command}")
    print(f"  · installing {', '.join(packages)} for {purpose}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *packages]):
        if subprocess.run(step, env=env).returncode != 0:
            raise BrowserSetupFailed(f"`{' '.join(step)}` failed; run it again (as root): {command}")


def _lock_hash() -> str:
    return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()


def ensure_widget_client() -> Path:
    """The socket.io client in widget/vendor/, installed from widget/package-lock.json when needed."""
    if not (STAMP.is_file() and STAMP.read_text().strip() == _lock_hash() and CLIENT_BUILD.is_file()):
        if shutil.which("npm") is None:
            _apt_install("the chat widget's socket.io client", APT_PACKAGES["npm"])
        print("  · npm ci (widget/package-lock.json)", flush=True)
        command = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        if subprocess.run(command, cwd=WIDGET_DIR).returncode != 0:
            raise BrowserSetupFailed("`npm ci` in widget/ failed; run `make setup` again")
        STAMP.write_text(_lock_hash() + "\n")
    if not VENDORED_CLIENT.is_file() or VENDORED_CLIENT.read_bytes() != CLIENT_BUILD.read_bytes():
        VENDORED_CLIENT.parent.mkdir(exist_ok=True)
        shutil.copyfile(CLIENT_BUILD, VENDORED_CLIENT)
    return VENDORED_CLIENT


def ensure_chromium() -> Path:
    """Debian's Chromium at /usr/bin/chromium, installed when missing."""
    if not CHROMIUM.exists():
        _apt_install("the widget's browser test", APT_PACKAGES["chromium"])
    if not CHROMIUM.exists():
        raise BrowserSetupFailed(f"{CHROMIUM} is still missing after installing {APT_PACKAGES['chromium']}")
    return CHROMIUM
