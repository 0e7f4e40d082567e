"""The served bundle on disk: one file replaced atomically, with a readable manifest beside it.

The file is a pickle written by our own trainer into the models folder; it is only ever read from
there. Anything unreadable (missing, truncated, another format) raises ArtifactUnusable.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

from artifacts import write_atomically, write_manifest
from recommender.bundle import Bundle

ARTIFACT_FORMAT = 1


class ArtifactUnusable(RuntimeError):
    """The recommender file cannot be served; the message says why."""


def save_bundle(bundle: Bundle, path: Path, manifest: dict[str, Any]) -> None:
    """Write the bundle so readers see the old file or the new one, never a part; then its manifest."""
    payload = pickle.dumps({"format": ARTIFACT_FORMAT, "manifest": manifest, "bundle": bundle}, protocol=5)
    write_atomically(path, payload)
    write_manifest(path.with_suffix(".json"), {**manifest, "sha256": hashlib.sha256(payload).hexdigest()})


def load_bundle(path: Path) -> tuple[Bundle, dict[str, Any]]:
    """The bundle and its manifest, or ArtifactUnusable."""
    try:
        content = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        raise ArtifactUnusable(f"no recommender at {path}; train it with `python -m recommender train`") from None
    except Exception as error:  # a truncated or foreign file can raise almost anything while unpickling
        raise ArtifactUnusable(f"recommender file {path} is unreadable ({type(error).__name__}: {error})") from None
    if not isinstance(content, dict) or content.get("format") != ARTIFACT_FORMAT:
        raise ArtifactUnusable(f"recommender file {path} has another format; retrain it")
    bundle = content.get("bundle")
    if not isinstance(bundle, Bundle):
        raise ArtifactUnusable(f"recommender file {path} holds no bundle; retrain it")
    return bundle, dict(content.get("manifest") or {})
