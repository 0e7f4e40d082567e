"""Make sure the machine's PostgreSQL and Redis are running for tests that are about them.

Stdlib only, so both runtimes' test suites can use it. A test skips (loudly) only when the server
binary itself is missing; a stopped server is started with the commands in ARCHITECTURE.md.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)


def _listening(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def _start(address: tuple[str, int], command: list[str], what: str) -> None:
    if _listening(address):
        return
    subprocess.run(command, check=False, capture_output=True, timeout=120)
    deadline = time.monotonic() + 30
    while not _listening(address):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not start on {address[0]}:{address[1]} with: {' '.join(command)}")
        time.sleep(0.5)


def ensure_postgres() -> tuple[str, int]:
    """PostgreSQL at 127.0.0.1:5432 (trust auth), started if it is stopped."""
    if not _listening(POSTGRES):
        if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
            pytest.skip(
                "PostgreSQL IS NOT INSTALLED on this machine (no pg_ctlcluster): production-profile test skipped"
            )
        version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
        _start(POSTGRES, ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], "PostgreSQL")
    return POSTGRES


def ensure_redis() -> tuple[str, int]:
    """Redis at 127.0.0.1:6379, started if it is stopped."""
    if not _listening(REDIS):
        if shutil.which("redis-server") is None:
            pytest.skip("Redis IS NOT INSTALLED on this machine (no redis-server): production-profile test skipped")
        command = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379"]
        _start(REDIS, [*command, "--save", "", "--appendonly", "no"], "Redis")
    return REDIS
