"""Find a Python interpreter by its version, and say exactly what is missing when there is none."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path


class InterpreterNotFound(RuntimeError):
    """No interpreter of the wanted version exists on this machine."""


def candidate_interpreters(version: str, environ: dict[str, str] | None = None) -> list[Path]:
    """Places a Python of `version` (e.g. "3.10") may live, most specific first."""
    env = os.environ if environ is None else environ
    found: list[Path] = []
    override = env.get(f"PYTHON{version.replace('.', '')}")  # e.g. PYTHON310=/opt/py/bin/python3.10
    if override:
        found.append(Path(override))
    pyenv_root = Path(env.get("PYENV_ROOT") or Path.home() / ".pyenv")
    versions_dir = pyenv_root / "versions"
    if versions_dir.is_dir():
        for entry in sorted(versions_dir.iterdir(), reverse=True):
            if entry.name == version or entry.name.startswith(version + "."):
                found.append(entry / "bin" / "python")
    on_path = shutil.which(f"python{version}", path=env.get("PATH"))
    if on_path:
        found.append(Path(on_path))
    return found


def interpreter_version(python: Path) -> str | None:
    """'3.10' for a working 3.10 interpreter, None if it does not run."""
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def find_interpreter(version: str, candidates: Iterable[Path] | None = None) -> Path:
    """The first working interpreter of `version`, or InterpreterNotFound naming what was tried."""
    tried = list(candidate_interpreters(version) if candidates is None else candidates)
    for python in tried:
        if interpreter_version(python) == version:
            return python
    looked = ", ".join(str(p) for p in tried) or "no candidates"
    raise InterpreterNotFound(
        f"Python {version} was not found (looked at: {looked}). "
        f"It is required for this runtime; install it, e.g. `pyenv install {version}`, "
        f"or point PYTHON{version.replace('.', '')} at an interpreter."
    )
