"""Ports, health checks and stopping servers together with everything they spawned."""

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from devstack.processes import PortInUse, ServiceFailed, ServiceGroup, ServiceSpec, ensure_port_free, free_port

# A server that spawns a grandchild (as Rasa's workers do), writes its pid, then serves HTTP.
SERVER_WITH_CHILD = """
import http.server, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[2], "w").write(str(child.pid))
print("serving", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_port_in_use_names_the_port_and_the_holder() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortInUse) as caught:
            ensure_port_free("127.0.0.1", port, "Rasa server")
    message = str(caught.value)
    assert f"port {port} (Rasa server)" in message
    assert f"pid {os.getpid()}" in message


def test_a_free_port_passes() -> None:
    ensure_port_free("127.0.0.1", free_port(), "web pages")


def test_stop_all_leaves_no_orphans(tmp_path: Path) -> None:
    port = free_port()
    pid_file = tmp_path / "child.pid"
    spec = ServiceSpec(
        name="demo",
        command=[sys.executable, "-c", SERVER_WITH_CHILD, str(port), str(pid_file)],
        env=dict(os.environ),
        port=port,
        health_url=f"http://127.0.0.1:{port}/",
        ready_timeout=30,
    )
    group = ServiceGroup(tmp_path / "logs", echo=False)
    service = group.start(spec)
    group.wait_healthy(service)
    server_pid, child_pid = service.process.pid, int(pid_file.read_text())
    assert alive(server_pid) and alive(child_pid)

    group.stop_all(grace=5)
    deadline = time.monotonic() + 5
    while alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(server_pid)
    assert not alive(child_pid)
    ensure_port_free("127.0.0.1", port, "demo")
    assert "serving" in (tmp_path / "logs" / "demo.log").read_text()


def test_a_service_that_dies_while_starting_is_reported_with_its_output(tmp_path: Path) -> None:
    spec = ServiceSpec(
        name="broken",
        command=[sys.executable, "-c", "print('cannot load the model'); raise SystemExit(3)"],
        env=dict(os.environ),
        port=1,
        health_url="http://127.0.0.1:1/",
    )
    with ServiceGroup(tmp_path, echo=False) as group:
        service = group.start(spec)
        with pytest.raises(ServiceFailed, match="broken exited with code 3") as caught:
            group.wait_healthy(service)
    assert "cannot load the model" in str(caught.value)


def test_a_service_that_never_gets_healthy_times_out(tmp_path: Path) -> None:
    spec = ServiceSpec(
        name="silent",
        command=[sys.executable, "-c", "import time; time.sleep(60)"],
        env=dict(os.environ),
        port=1,
        health_url=f"http://127.0.0.1:{free_port()}/",
        ready_timeout=1.5,
    )
    with ServiceGroup(tmp_path, echo=False) as group:
        service = group.start(spec)
        with pytest.raises(ServiceFailed, match="not healthy after 2 s"):
            group.wait_healthy(service)
    assert service.process.poll() is not None
