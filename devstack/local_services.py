"""Start the machine's PostgreSQL and Redis when they are stopped (development machines and CI).

Used by the tests that are about them and by benchmarks. Stdlib only, usable from both runtimes.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)


class ServiceNotInstalled(RuntimeError):
    """The server's binary is not on this machine at all."""


def listening(address: tuple[str, int]) -> bool:
    """True when something accepts connections at the address."""
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def _start(address: tuple[str, int], command: list[str], what: str) -> None:
    subprocess.run(command, check=False, capture_output=True, timeout=120)
    deadline = time.monotonic() + 30
    while not listening(address):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start on {address[0]}:{address[1]} with: {' '.join(command)}")
        time.sleep(0.5)


def ensure_postgres() -> tuple[str, int]:
    """PostgreSQL at 127.0.0.1:5432 (trust auth), started if it is stopped."""
    if not listening(POSTGRES):
        if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
            raise ServiceNotInstalled("PostgreSQL is not installed on this machine (no pg_ctlcluster)")
        version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
        _start(POSTGRES, ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], "PostgreSQL")
    return POSTGRES


def ensure_redis() -> tuple[str, int]:
    """Redis at 127.0.0.1:6379, started if it is stopped."""
    if not listening(REDIS):
        if shutil.which("redis-server") is None:
            raise ServiceNotInstalled("Redis is not installed on this machine (no redis-server)")
        command = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379"]
        _start(REDIS, [*command, "--save", "", "--appendonly", "no"], "Redis")
    return REDIS
