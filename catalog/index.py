"""The persisted product index: FAISS vectors plus the products they stand for, with a manifest.

Layout under the index folder:
    manifest.json               which version is current, and what built it
    <version>/vectors.faiss     inner-product index over unit vectors (cosine similarity)
    <version>/products.jsonl    the catalog the vectors were built from, row i = FAISS id i

A new version is written beside the old one and the manifest is switched atomically, so a server
reading the index never sees a half-built one.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from artifacts import fingerprint_files, read_manifest, write_manifest
from catalog.embeddings import MODEL_NAME, encode
from catalog.products import Product, load_products, save_products

MANIFEST = "manifest.json"
INDEX_FORMAT = 1


class IndexMissing(RuntimeError):
    """No usable product index exists; build it with `python -m catalog build`."""


@dataclass(frozen=True)
class ProductIndex:
    """A loaded index: the FAISS vectors and the products behind their ids."""

    vectors: faiss.Index
    products: list[Product]
    manifest: dict[str, object]


def catalog_fingerprint(catalog_file: Path) -> str:
    """What decides the index's content: the catalog, the model and the index format."""
    return fingerprint_files([catalog_file], extra=[MODEL_NAME, f"format {INDEX_FORMAT}"], root=catalog_file.parent)


def index_is_current(index_dir: Path, catalog_file: Path) -> bool:
    """True when the index on disk was built from this catalog and all its files exist."""
    manifest = read_manifest(index_dir / MANIFEST)
    if not manifest or manifest.get("catalog_fingerprint") != catalog_fingerprint(catalog_file):
        return False
    version_dir = index_dir / str(manifest.get("version"))
    return (version_dir / "vectors.faiss").is_file() and (version_dir / "products.jsonl").is_file()


def build_index(index_dir: Path, catalog_file: Path, show_progress: bool = True) -> dict[str, object]:
    """Embed the catalog, write a new index version, switch the manifest to it; returns the manifest."""
    started = time.perf_counter()
    products = load_products(catalog_file)
    if not products:
        raise ValueError(f"{catalog_file} holds no products; nothing to index")
    fingerprint = catalog_fingerprint(catalog_file)
    vectors = encode([p.search_text() for p in products], show_progress=show_progress)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
    index.add_with_ids(vectors, np.arange(len(products), dtype=np.int64))

    version = f"{time.strftime('%Y%m%dT%H%M%S')}-{fingerprint[:10]}"
    version_dir = index_dir / version
    version_dir.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(version_dir / "vectors.faiss"))
    save_products(version_dir / "products.jsonl", products)
    manifest: dict[str, object] = {
        "version": version,
        "model": MODEL_NAME,
        "dimension": int(vectors.shape[1]),
        "index_type": "IDMap2,FlatIP",
        "products": len(products),
        "catalog_file": str(catalog_file),
        "catalog_fingerprint": fingerprint,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - started, 2),
        "format": INDEX_FORMAT,
    }
    write_manifest(index_dir / MANIFEST, manifest)
    for old in index_dir.iterdir():
        if old.is_dir() and old.name != version:
            shutil.rmtree(old, ignore_errors=True)
    return manifest


def load_index(index_dir: Path) -> ProductIndex:
    """Load the current index version, or raise IndexMissing saying what is wrong."""
    manifest = read_manifest(index_dir / MANIFEST)
    if manifest is None:
        raise IndexMissing(f"no product index at {index_dir} (manifest missing or unreadable)")
    version_dir = index_dir / str(manifest.get("version"))
    try:
        vectors = faiss.read_index(str(version_dir / "vectors.faiss"))
        products = load_products(version_dir / "products.jsonl")
    except (OSError, RuntimeError, ValueError) as error:
        raise IndexMissing(f"product index at {version_dir} is unreadable: {error}") from None
    if vectors.ntotal != len(products):
        raise IndexMissing(
            f"product index at {version_dir} is inconsistent: {vectors.ntotal} vectors, {len(products)} products"
        )
    return ProductIndex(vectors=vectors, products=products, manifest=manifest)
