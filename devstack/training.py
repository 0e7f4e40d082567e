"""Train the Rasa model only when its inputs changed, and never leave a broken model in service.

Training writes into a scratch folder; only a finished, readable model replaces the served one
(an atomic rename), and the manifest beside it records the inputs' fingerprint. An interrupted
run therefore leaves the previous model in place, and a missing or corrupt model is retrained.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from artifacts import fingerprint_files, read_manifest, write_manifest
from settings import PROJECT_ROOT, Settings

MANIFEST = "manifest.json"
# bot/ holds our pipeline components and the sentiment examples they learn from; catalog/prices.py
# is the price reading one of them imports
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "bot", "catalog/prices.py")


class TrainingFailed(RuntimeError):
    """`rasa train` did not produce a model; the previous model (if any) is still in service."""


def training_fingerprint(
    minilm_dir: str, rasa_lock: Path, root: Path = PROJECT_ROOT, catalog_file: Path | None = None
) -> str:
    """What decides the trained model: training data, domain, config, our components, the features
    model, the Rasa pins and the catalog (its vocabulary becomes entity patterns)."""
    catalog = "none"
    if catalog_file is not None:  # by content: the same catalog in another data folder is the same model
        catalog = hashlib.sha256(catalog_file.read_bytes()).hexdigest() if catalog_file.is_file() else "missing"
    # the channel connectors (bot/channels/) are served, not trained: editing them must not retrain
    inputs = [root / name for name in TRAINING_INPUTS if name != "bot"]
    bot = root / "bot"
    inputs += sorted(p for p in bot.iterdir() if p.name != "channels") if bot.is_dir() else [bot]
    return fingerprint_files(
        [*inputs, rasa_lock],
        extra=[f"minilm {minilm_dir}", f"catalog {catalog}"],
        root=root,
    )


def model_is_readable(model_file: Path) -> bool:
    """True when the file is a complete Rasa model archive (a gzip tar holding its metadata)."""
    try:
        with tarfile.open(model_file, "r:gz") as archive:
            names = archive.getnames()  # reads the whole archive: a truncated file fails here
    except (OSError, tarfile.TarError, EOFError):
        return False
    return any(name.endswith("metadata.json") for name in names)


def needs_training(settings: Settings, fingerprint: str) -> str | None:
    """Why the model must be (re)trained, or None when the served model is current."""
    model = settings.rasa_model_file
    if not model.exists():
        return "no trained model yet"
    if not model_is_readable(model):
        return f"the model {model} is corrupt"
    manifest = read_manifest(settings.rasa_models_dir / MANIFEST)
    if manifest is None or manifest.get("fingerprint") != fingerprint:
        return "training data, domain or config changed"
    return None


def rasa_train_command(rasa: Path, out_dir: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """The `rasa train` call that writes `assistant.tar.gz` into `out_dir`."""
    return [
        str(rasa), "train",
        "--config", str(root / "config.yml"),
        "--domain", str(root / "domain.yml"),
        "--data", str(root / "data"),
        "--out", str(out_dir),
        "--fixed-model-name", "assistant",
    ]  # fmt: skip


Runner = Callable[[list[str], Mapping[str, str]], int]


def _run(command: list[str], env: Mapping[str, str]) -> int:
    return subprocess.run(command, env=dict(env), cwd=PROJECT_ROOT, stdout=sys.stdout, stderr=sys.stderr).returncode


def train_model(
    settings: Settings,
    rasa: Path,
    env: Mapping[str, str],
    fingerprint: str,
    runner: Runner = _run,
) -> Path:
    """Train into a scratch folder, then swap the new model in atomically and record its manifest."""
    models_dir = settings.rasa_models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    for stale in models_dir.glob(".training-*"):  # left by an interrupted run
        shutil.rmtree(stale, ignore_errors=True)
    scratch = models_dir / f".training-{int(time.time())}"
    scratch.mkdir()
    started = time.perf_counter()
    try:
        code = runner(rasa_train_command(rasa, scratch), env)
        candidate = scratch / "assistant.tar.gz"
        if code != 0 or not model_is_readable(candidate):
            raise TrainingFailed(
                f"rasa train failed (exit {code}); "
                + ("the previous model is still in service" if settings.rasa_model_file.exists() else "no model yet")
            )
        candidate.replace(settings.rasa_model_file)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_manifest(
        models_dir / MANIFEST,
        {
            "fingerprint": fingerprint,
            "model_file": settings.rasa_model_file.name,
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "training_seconds": round(time.perf_counter() - started, 1),
        },
    )
    return settings.rasa_model_file
