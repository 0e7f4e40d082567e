"""The whole product, started by the run command itself (`python3 -m devstack run`) on free ports."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.processes import free_port
from settings import PROJECT_ROOT
from tests.e2e.fake_platforms import FakePlatforms

READY_TIMEOUT = 600  # a first run may train the model


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The Ctrl-C test stops the shared stack: it runs after every other test (of any file) that uses it."""
    items.sort(key=lambda item: item.name == "test_ctrl_c_stops_every_process_it_started")


@dataclass
class RunningStack:
    """The run command's process and where its servers listen."""

    process: subprocess.Popen[bytes]
    output: Path
    data_dir: Path
    token: str
    rasa_url: str
    web_url: str
    ports: tuple[int, int, int]

    def descendants(self) -> set[int]:
        """Every live process started, directly or not, by the run command."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found: set[int] = set()
        pending = [self.process.pid]
        while pending:
            for child in children.get(pending.pop(), []):
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return found


def start_run_command(env_overrides: dict[str, str], output: Path) -> subprocess.Popen[bytes]:
    """Start `python3 -m devstack run` with extra settings, its output going to a file."""
    env = {**os.environ, **env_overrides}
    with output.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "devstack", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            # started as a background job would be, with SIGINT ignored: Ctrl-C must still stop everything
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )


@pytest.fixture(scope="session")
def platforms() -> Iterator[FakePlatforms]:
    """Local stand-ins for the Messenger, Telegram, Twilio and Slack APIs (tests/e2e/fake_platforms.py)."""
    with FakePlatforms() as fake:
        yield fake


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, platforms: FakePlatforms) -> Iterator[RunningStack]:
    data_dir = tmp_path_factory.mktemp("shop-data")
    ports = (free_port(), free_port(), free_port())
    token = "e2e-test-token"
    output = data_dir / "run-command.log"
    process = start_run_command(
        {
            "SHOP_DATA_DIR": str(data_dir),
            "RASA_PORT": str(ports[0]),
            "ACTION_PORT": str(ports[1]),
            "WEB_PORT": str(ports[2]),
            "CONSOLE_PORT": str(free_port()),  # the staff console; its URL is in the run command's output
            "RASA_AUTH_TOKEN": token,
            **platforms.settings(),  # every social channel on, talking to the local fakes
        },
        output,
    )
    running = RunningStack(
        process=process,
        output=output,
        data_dir=data_dir,
        token=token,
        rasa_url=f"http://127.0.0.1:{ports[0]}",
        web_url=f"http://127.0.0.1:{ports[2]}",
        ports=ports,
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while "READY" not in output.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_everything(running, grace=0)  # servers it had started do not outlive the failed start
            pytest.fail(f"the run command did not get ready:\n{output.read_text(errors='replace')[-4000:]}")
        time.sleep(1)
    yield running
    if process.poll() is None:  # the Ctrl-C test did not run or failed
        stop_everything(running, grace=60)


def stop_everything(running: RunningStack, grace: float) -> None:
    """Ctrl-C the run command, give it `grace` seconds, then kill it and every server it started."""
    pids = running.descendants()
    if grace > 0:
        running.process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            running.process.wait(timeout=grace)
    running.process.kill()
    running.process.wait()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
