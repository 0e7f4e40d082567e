"""When the Rasa model is retrained, and that a failed or interrupted training keeps the old model."""

import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from devstack.training import (
    MANIFEST,
    TrainingFailed,
    model_is_readable,
    needs_training,
    train_model,
    training_fingerprint,
)
from settings import Settings, load_settings


def write_model(path: Path, payload: bytes = b"weights") -> None:
    """A minimal Rasa-like model archive: a gzip tar holding metadata.json."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, data in (("metadata.json", b"{}"), ("components/diet", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"SHOP_MODELS_DIR": str(tmp_path / "models"), "SHOP_DATA_DIR": str(tmp_path / "var")})


def test_missing_corrupt_stale_and_current_models(settings: Settings) -> None:
    assert needs_training(settings, "abc") == "no trained model yet"

    settings.rasa_model_file.parent.mkdir(parents=True)
    settings.rasa_model_file.write_bytes(b"not a tarball")
    assert "corrupt" in (needs_training(settings, "abc") or "")

    write_model(settings.rasa_model_file)
    truncated = settings.rasa_model_file.read_bytes()[:-40]
    settings.rasa_model_file.write_bytes(truncated)
    assert not model_is_readable(settings.rasa_model_file)

    write_model(settings.rasa_model_file)
    assert needs_training(settings, "abc") == "training data, domain or config changed"  # no manifest
    (settings.rasa_models_dir / MANIFEST).write_text(json.dumps({"fingerprint": "abc"}))
    assert needs_training(settings, "abc") is None
    assert needs_training(settings, "def") == "training data, domain or config changed"


def test_fingerprint_follows_training_data(tmp_path: Path) -> None:
    for name in ("config.yml", "domain.yml", "data/nlu.yml", "bot/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    lock = tmp_path / "rasa.lock"
    lock.write_text("rasa==3.6.21\n")
    before = training_fingerprint("/models/minilm", lock, root=tmp_path)
    assert training_fingerprint("/models/minilm", lock, root=tmp_path) == before
    (tmp_path / "data" / "nlu.yml").write_text("# changed\n")
    changed = training_fingerprint("/models/minilm", lock, root=tmp_path)
    assert changed != before
    (tmp_path / "bot" / "__pycache__").mkdir(parents=True)
    (tmp_path / "bot" / "__pycache__" / "x.pyc").write_bytes(b"bytecode")
    assert training_fingerprint("/models/minilm", lock, root=tmp_path) == changed  # caches do not count
    (tmp_path / "bot" / "component.py").write_text("# our NLU component\n")
    with_code = training_fingerprint("/models/minilm", lock, root=tmp_path)
    assert with_code != changed
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text('{"id": "P1"}\n')
    with_catalog = training_fingerprint("/models/minilm", lock, root=tmp_path, catalog_file=catalog)
    assert with_catalog != with_code
    elsewhere = tmp_path / "other-data-folder" / "catalog.jsonl"
    elsewhere.parent.mkdir()
    elsewhere.write_text('{"id": "P1"}\n')
    assert training_fingerprint("/models/minilm", lock, root=tmp_path, catalog_file=elsewhere) == with_catalog
    catalog.write_text('{"id": "P2"}\n')  # the catalog's words become entity patterns
    assert training_fingerprint("/models/minilm", lock, root=tmp_path, catalog_file=catalog) != with_catalog


def test_successful_training_swaps_the_model_and_records_the_fingerprint(settings: Settings) -> None:
    def trainer(command: list[str], env: Mapping[str, str]) -> int:
        out_dir = Path(command[command.index("--out") + 1])
        write_model(out_dir / "assistant.tar.gz", b"new")
        return 0

    train_model(settings, Path("rasa"), {}, "fp-1", runner=trainer)
    assert model_is_readable(settings.rasa_model_file)
    assert needs_training(settings, "fp-1") is None
    assert not list(settings.rasa_models_dir.glob(".training-*"))


@pytest.mark.parametrize("outcome", ["fails", "writes half a model", "is interrupted"])
def test_failed_training_keeps_the_previous_model_in_service(settings: Settings, outcome: str) -> None:
    write_model(settings.rasa_model_file, b"old")
    (settings.rasa_models_dir / MANIFEST).write_text(json.dumps({"fingerprint": "old"}))
    before = settings.rasa_model_file.read_bytes()

    def trainer(command: list[str], env: Mapping[str, str]) -> int:
        out_dir = Path(command[command.index("--out") + 1])
        if outcome == "is interrupted":
            (out_dir / "assistant.tar.gz").write_bytes(b"\x1f\x8b partial")
            raise KeyboardInterrupt
        if outcome == "writes half a model":
            (out_dir / "assistant.tar.gz").write_bytes(b"\x1f\x8b partial")
            return 0
        return 1

    expected = KeyboardInterrupt if outcome == "is interrupted" else TrainingFailed
    with pytest.raises(expected):
        train_model(settings, Path("rasa"), {}, "new", runner=trainer)
    assert settings.rasa_model_file.read_bytes() == before
    assert needs_training(settings, "old") is None
    assert not list(settings.rasa_models_dir.glob(".training-*"))
