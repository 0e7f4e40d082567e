"""Start the product's servers, wait until each is healthy, and stop all of them with no orphans.

Every service runs in its own process group, so stopping it also stops whatever it spawned
(Rasa's and Sanic's workers). Output goes to a log file per service and, prefixed, to the console.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from settings import PROJECT_ROOT


class PortInUse(RuntimeError):
    """A port we must listen on is taken; the message names the port and, if known, the process."""


class ServiceFailed(RuntimeError):
    """A service exited or did not become healthy in time; the message holds its last log lines."""


def port_holder(port: int) -> str | None:
    """'name (pid N)' of the process listening on `port`, when the system will tell."""
    ss = shutil.which("ss")
    if ss is None:
        return None
    try:
        out = subprocess.run([ss, "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
    return f"{match.group(1)} (pid {match.group(2)})" if match else None


def ensure_port_free(host: str, port: int, purpose: str) -> None:
    """Raise PortInUse, naming the port, its purpose and its holder, if we cannot listen there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            holder = port_holder(port) or "another process"
            raise PortInUse(
                f"port {port} ({purpose}) on {host} is already in use by {holder}. "
                f"Stop that process or choose another port (see README, Configuration)."
            ) from None


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free right now (for tests and ad-hoc runs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class ServiceSpec:
    """How to start one server and how to know it is ready."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    health_url: str
    ready_timeout: float = 180.0


@dataclass
class RunningService:
    """A started server and the tail of its output."""

    spec: ServiceSpec
    process: subprocess.Popen[str]
    log_path: Path
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    output_reader: threading.Thread | None = None

    def last_lines(self) -> str:
        """The last lines the service printed, for error messages."""
        return "\n".join(f"    {line}" for line in self.tail) or "    (no output)"


def _is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class ServiceGroup:
    """The servers of one run: started together, stopped together."""

    def __init__(self, logs_dir: Path, echo: bool = True) -> None:
        self.logs_dir = logs_dir
        self.echo = echo
        self.services: list[RunningService] = []

    def __enter__(self) -> ServiceGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def _pump(self, service: RunningService, stream: IO[str], log: IO[str]) -> None:
        for line in stream:
            line = line.rstrip("\n")
            service.tail.append(line)
            log.write(line + "\n")
            log.flush()
            if self.echo:
                print(f"[{service.spec.name}] {line}", flush=True)
        log.close()

    def start(self, spec: ServiceSpec) -> RunningService:
        """Start a server in its own process group; its output is logged and echoed."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.logs_dir / f"{spec.name}.log"
        process = subprocess.Popen(
            spec.command,
            env=spec.env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        service = RunningService(spec=spec, process=process, log_path=log_path)
        self.services.append(service)
        log = log_path.open("w", encoding="utf-8")
        assert process.stdout is not None
        service.output_reader = threading.Thread(target=self._pump, args=(service, process.stdout, log), daemon=True)
        service.output_reader.start()
        return service

    def wait_healthy(self, service: RunningService) -> float:
        """Block until the service answers its health URL; returns the seconds it took."""
        started = time.monotonic()
        while True:
            if service.process.poll() is not None:
                if service.output_reader is not None:
                    service.output_reader.join(timeout=5)  # let the last lines reach the tail
                raise ServiceFailed(
                    f"{service.spec.name} exited with code {service.process.returncode} while starting "
                    f"(log: {service.log_path}):\n{service.last_lines()}"
                )
            if _is_healthy(service.spec.health_url):
                return time.monotonic() - started
            if time.monotonic() - started > service.spec.ready_timeout:
                raise ServiceFailed(
                    f"{service.spec.name} was not healthy after {service.spec.ready_timeout:.0f} s "
                    f"at {service.spec.health_url} (log: {service.log_path}):\n{service.last_lines()}"
                )
            time.sleep(0.5)

    def first_exited(self) -> RunningService | None:
        """A service that has stopped on its own, if any."""
        return next((s for s in self.services if s.process.poll() is not None), None)

    def stop_all(self, grace: float = 15.0) -> None:
        """Stop every service and everything it spawned: SIGTERM, then SIGKILL after `grace` seconds."""
        for service in reversed(self.services):
            _signal_group(service.process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for service in self.services:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for service in self.services:
            _signal_group(service.process, signal.SIGKILL)  # the group may hold children still
            service.process.wait()
        self.services.clear()


def _signal_group(process: subprocess.Popen[str], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
