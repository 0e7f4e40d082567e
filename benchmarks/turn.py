"""bench-turn: one customer turn end to end, next to a plain `rasa init` assistant as the floor.

A turn is one REST request: message in -> NLU -> policies -> custom action (store, catalog search,
recommender) -> reply out. Our assistant runs as the run command starts it (`python3 -m devstack
run`, fresh demo shop in a temporary data directory); the floor is the assistant `rasa init`
creates, trained once and cached under models/bench-floor/, served by the same Rasa. Both are
measured in the same run, one after the other, on the same machine:

- one conversation at a time: latency per turn, p50/p95 (targets for ours: 80 / 200 ms);
- N conversations at once (default 20): turns per second and p95.

Figures go to reports/turn.json. Nothing is downloaded: both assistants are trained locally.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.environments import RASA
from devstack.processes import free_port
from settings import BASE_ENVIRONMENT, PROJECT_ROOT
from store.identity import sign_customer_token

REPORTS = Path(os.environ.get("SHOP_REPORTS_DIR", PROJECT_ROOT / "reports"))
FLOOR_DIR = PROJECT_ROOT / "models" / "bench-floor"
SECRET = "bench-turn-secret"
READY_TIMEOUT = 900
# A shopping conversation touching every service: search, refinement, a product question,
# suggestions from the recommender, and order status for a customer proven by a signed token.
OUR_SCRIPT = (
    "do you have yoga mats?",
    "anything cheaper?",
    "the second one",
    "is it non-slip?",
    "what would you recommend?",
    "where is my order?",
)
FLOOR_SCRIPT = ("hello", "I am feeling great", "are you a bot?", "bye")


@dataclass
class Server:
    """A Rasa server under test: its REST webhook and how to send one turn to it."""

    name: str
    webhook: str
    script: tuple[str, ...]
    metadata: Callable[[], dict[str, Any]]


def post(server: Server, sender: str, text: str) -> tuple[float, list[dict[str, Any]]]:
    """One turn; its latency in ms and the replies."""
    body = json.dumps({"sender": sender, "message": text, "metadata": server.metadata()}).encode()
    request = urllib.request.Request(server.webhook, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        replies = json.loads(response.read())
    return (time.perf_counter() - started) * 1000, replies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies: list[float], seconds: float | None = None) -> dict[str, float]:
    figures = {
        "turns": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
    }
    if seconds:
        figures["turns_per_second"] = round(len(latencies) / seconds, 2)
    return figures


def conversation(
    server: Server, rounds: int, silent: list[str], by_message: dict[str, list[float]] | None = None
) -> list[float]:
    """`rounds` conversations one after the other; latencies of all their turns."""
    latencies = []
    for _ in range(rounds):
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        for text in server.script:
            latency, replies = post(server, sender, text)
            if not replies:
                silent.append(text)
            latencies.append(latency)
            if by_message is not None:
                by_message.setdefault(text, []).append(latency)
    return latencies


def measure(server: Server, rounds: int, concurrency: int) -> dict[str, Any]:
    """Sequential latency, then `concurrency` conversations at once."""
    silent: list[str] = []
    conversation(server, 1, silent)  # warm-up: caches, first model calls
    by_message: dict[str, list[float]] = {}
    sequential = conversation(server, rounds, silent, by_message)
    results: list[list[float]] = []
    lock = threading.Lock()

    def worker() -> None:
        got = conversation(server, max(1, rounds // 2), silent)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    parallel = [latency for chunk in results for latency in chunk]
    return {
        "one_conversation": summary(sequential),
        "p50_ms_by_message": {text: round(percentile(values, 0.5), 1) for text, values in by_message.items()},
        f"{concurrency}_conversations": summary(parallel, elapsed),
        "turns_without_reply": len(silent),
    }


def wait_until(predicate: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not predicate():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise SystemExit(f"{what} did not start:\n{tail}")
        time.sleep(1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def our_assistant(workdir: Path) -> Iterator[Server]:
    """The product as the run command starts it, with a fresh demo shop."""
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "SHOP_DATA_DIR": str(workdir / "ours"),
           "SHOP_IDENTITY_SECRET": SECRET, "SHOP_LOG_LEVEL": "WARNING"}  # fmt: skip
    log = workdir / "ours.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=PROJECT_ROOT, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        print("starting our assistant (python3 -m devstack run) ...", flush=True)
        wait_until(lambda: "READY" in log.read_text(errors="replace"), process, "our assistant", log)
        token = sign_customer_token(7, SECRET, dt.timedelta(hours=2))  # a demo customer with orders
        yield Server(
            "ours",
            f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook",
            OUR_SCRIPT,
            lambda: {"customer_token": token},
        )
    finally:
        stop(process)


def floor_model() -> Path:
    """The `rasa init` assistant's model, trained once and kept under models/bench-floor/."""
    project = FLOOR_DIR / "project"
    models = sorted((project / "models").glob("*.tar.gz")) if project.exists() else []
    if models:
        return models[-1]
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    print("training the floor: `rasa init --no-prompt` (once; cached in models/bench-floor/) ...", flush=True)
    env = {**os.environ, **BASE_ENVIRONMENT}
    log = FLOOR_DIR / "rasa-init.log"
    with log.open("wb") as sink:
        code = subprocess.run([str(RASA.executable("rasa")), "init", "--no-prompt", "--init-dir", str(project)],
                              cwd=project, env=env, stdout=sink, stderr=subprocess.STDOUT).returncode  # fmt: skip
    if code != 0:
        raise SystemExit(f"`rasa init` failed (exit {code}); see {log}")
    return sorted((project / "models").glob("*.tar.gz"))[-1]


@contextlib.contextmanager
def floor_assistant(workdir: Path) -> Iterator[Server]:
    """The plain `rasa init` assistant served by `rasa run` (no custom actions)."""
    model = floor_model()
    port = free_port()
    env = {**os.environ, **BASE_ENVIRONMENT}
    log = workdir / "floor.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(RASA.executable("rasa")), "run", "--model", str(model), "--port", str(port),
             "--interface", "127.0.0.1", "--enable-api"],
            cwd=model.parent.parent, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as response:
                return bool(json.loads(response.read()).get("model_file"))
        except OSError:
            return False

    try:
        print("starting the floor (rasa init assistant) ...", flush=True)
        wait_until(up, process, "the floor assistant", log)
        yield Server("rasa init", f"http://127.0.0.1:{port}/webhooks/rest/webhook", FLOOR_SCRIPT, dict)
    finally:
        stop(process)


def print_table(report: dict[str, Any]) -> None:
    key = f"{report['concurrency']}_conversations"
    print(f"\nturn benchmark on {report['machine']['host']} ({report['machine']['cpus']} CPUs)")
    print(f"{'assistant':<12} {'p50 ms':>8} {'p95 ms':>8} {'@' + str(report['concurrency']) + ' p95 ms':>12} "
          f"{'turns/s':>8} {'silent':>7}")  # fmt: skip
    for name in ("ours", "rasa init"):
        row = report["results"][name]
        one, many = row["one_conversation"], row[key]
        print(f"{name:<12} {one['p50_ms']:>8} {one['p95_ms']:>8} {many['p95_ms']:>12} {many['turns_per_second']:>8} "
              f"{row['turns_without_reply']:>7}")  # fmt: skip
    ratios = report["ratios_to_floor"]
    print(f"ours / floor: p50 x{ratios['p50']}, p95 x{ratios['p95']}, throughput x{ratios['throughput']}")
    print(
        f"targets (one conversation): p50 <= 80 ms {'met' if report['targets']['p50_met'] else 'NOT met'}, "
        f"p95 <= 200 ms {'met' if report['targets']['p95_met'] else 'NOT met'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="conversations per measurement (default 10)")
    parser.add_argument("--concurrency", type=int, default=20, help="conversations at once (default 20)")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-turn-") as tmp:
        workdir = Path(tmp)
        with our_assistant(workdir) as ours:
            print(f"measuring ours: {args.rounds} conversations of {len(OUR_SCRIPT)} turns, then "
                  f"{args.concurrency} at once", flush=True)  # fmt: skip
            results["ours"] = measure(ours, args.rounds, args.concurrency)
        with floor_assistant(workdir) as floor:
            print("measuring the floor", flush=True)
            results["rasa init"] = measure(floor, args.rounds, args.concurrency)
    key = f"{args.concurrency}_conversations"
    ours_one, floor_one = results["ours"]["one_conversation"], results["rasa init"]["one_conversation"]
    report = {
        "benchmark": "turn",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "data": "demo shop (store.demo, 550-product demo catalog) in a fresh data directory; "
        "floor: the assistant `rasa init` creates",
        "scripts": {"ours": list(OUR_SCRIPT), "rasa init": list(FLOOR_SCRIPT)},
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "results": results,
        "ratios_to_floor": {
            "p50": round(ours_one["p50_ms"] / floor_one["p50_ms"], 2),
            "p95": round(ours_one["p95_ms"] / floor_one["p95_ms"], 2),
            "throughput": round(
                results["ours"][key]["turns_per_second"] / results["rasa init"][key]["turns_per_second"], 2
            ),
        },
        "targets": {"p50_met": ours_one["p50_ms"] <= 80, "p95_met": ours_one["p95_ms"] <= 200},
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "turn.json").write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nwritten to {REPORTS / 'turn.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
