"""Fingerprints and manifests of built artifacts, and writes that never leave half a file behind."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def fingerprint_files(paths: Iterable[Path], extra: Iterable[str] = (), root: Path | None = None) -> str:
    """Hash of the files' names and contents (folders are walked, bytecode caches skipped), plus extra strings."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            files.append(path)
        else:
            digest.update(f"missing:{path}\n".encode())
    for file in sorted(files):
        name = file.relative_to(root) if root and file.is_relative_to(root) else file
        digest.update(f"{name}\n".encode())
        digest.update(file.read_bytes())
    for value in extra:
        digest.update(f"extra:{value}\n".encode())
    return digest.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest's content, or None when it is missing or unreadable."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def write_manifest(path: Path, content: dict[str, Any]) -> None:
    """Write a manifest atomically, as readable JSON."""
    write_atomically(path, (json.dumps(content, indent=2, sort_keys=True) + "\n").encode())
