"""The persisted product index: FAISS vectors plus the products they stand for, with a manifest.

Layout under the index folder:
    manifest.json               which version is current, and what built it
    <version>/vectors.faiss     inner product over unit vectors (cosine), behind an IDMap
    <version>/products.jsonl    the products the vectors stand for
    <version>/ids.json          product id -> FAISS id

Small catalogs use an exact flat index; from HNSW_MIN_PRODUCTS on, an HNSW graph (the crossover
is measured by `make bench-search`). A changed catalog is applied incrementally where FAISS
allows it (flat: add, update and delete by id); otherwise, and when the model or format changed,
the index is rebuilt. A new version is written beside the old one and the manifest switched
atomically, so a server reading the index never sees a half-built one.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from artifacts import fingerprint_files, read_manifest, write_atomically, write_manifest
from catalog.embeddings import MODEL_NAME, encode
from catalog.products import Product, load_products, save_products

MANIFEST = "manifest.json"
INDEX_FORMAT = 2
# Measured by `make bench-search` (one thread, whole search): at 1k products exact and HNSW are
# equal (p95 12.0 vs 11.6 ms); at 10k HNSW is faster (13.1 vs 14.6 ms); at 50k 15.9 vs 17.4 ms.
HNSW_MIN_PRODUCTS = 10_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


class IndexMissing(RuntimeError):
    """No usable product index exists; build it with `python -m catalog build`."""


@dataclass
class ProductIndex:
    """A loaded index: the FAISS vectors and the products behind their ids."""

    vectors: Any  # faiss.IndexIDMap2
    products: dict[int, Product]
    faiss_ids: dict[str, int]
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """'flat' or 'hnsw'."""
        return str(self.manifest.get("index_kind", "flat"))


@dataclass(frozen=True)
class SyncReport:
    """What a sync did: nothing, an incremental update, or a full build."""

    action: str  # current, incremental, rebuilt
    added: int = 0
    updated: int = 0
    deleted: int = 0
    products: int = 0
    seconds: float = 0.0


def catalog_fingerprint(catalog_file: Path) -> str:
    """What decides the index's content: the catalog, the model and the index format."""
    return fingerprint_files([catalog_file], extra=[MODEL_NAME, f"format {INDEX_FORMAT}"], root=catalog_file.parent)


def new_vector_index(dimension: int, products: int, hnsw_min_products: int = HNSW_MIN_PRODUCTS) -> tuple[Any, str]:
    """An empty IDMap index: exact for small catalogs, HNSW for large ones; and its kind."""
    if products >= hnsw_min_products:
        graph = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        graph.hnsw.efSearch = HNSW_EF_SEARCH
        return faiss.IndexIDMap2(graph), "hnsw"
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), "flat"


def _write_version(
    index_dir: Path, index: ProductIndex, fingerprint: str, catalog_file: Path, extra: dict[str, Any]
) -> dict[str, Any]:
    version = f"{time.strftime('%Y%m%dT%H%M%S')}-{fingerprint[:10]}-{time.time_ns() % 10**6}"
    version_dir = index_dir / version
    version_dir.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index.vectors, str(version_dir / "vectors.faiss"))
    save_products(version_dir / "products.jsonl", list(index.products.values()))
    write_atomically(version_dir / "ids.json", json.dumps(index.faiss_ids).encode())
    manifest = {
        "version": version,
        "model": MODEL_NAME,
        "dimension": int(index.vectors.d),
        "index_kind": index.kind,
        "index_type": "IDMap2,HNSWFlat" if index.kind == "hnsw" else "IDMap2,FlatIP",
        "parameters": {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
        if index.kind == "hnsw"
        else {},
        "products": len(index.products),
        "next_faiss_id": max(index.faiss_ids.values(), default=-1) + 1,
        "catalog_file": str(catalog_file),
        "catalog_fingerprint": fingerprint,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "format": INDEX_FORMAT,
        **extra,
    }
    write_manifest(index_dir / MANIFEST, manifest)
    index.manifest = manifest
    for old in index_dir.iterdir():
        if old.is_dir() and old.name != version:
            shutil.rmtree(old, ignore_errors=True)
    return manifest


def build_index(
    index_dir: Path, catalog_file: Path, show_progress: bool = True, hnsw_min_products: int = HNSW_MIN_PRODUCTS
) -> dict[str, Any]:
    """Embed the whole catalog, write a new index version, switch the manifest to it; returns the manifest."""
    started = time.perf_counter()
    products = load_products(catalog_file)
    if not products:
        raise ValueError(f"{catalog_file} holds no products; nothing to index")
    vectors = encode([p.search_text() for p in products], show_progress=show_progress)
    index, kind = new_vector_index(vectors.shape[1], len(products), hnsw_min_products)
    ids = np.arange(len(products), dtype=np.int64)
    index.add_with_ids(vectors, ids)
    loaded = ProductIndex(
        vectors=index,
        products={int(i): p for i, p in zip(ids, products, strict=True)},
        faiss_ids={p.id: int(i) for i, p in zip(ids, products, strict=True)},
        manifest={"index_kind": kind},
    )
    seconds = time.perf_counter() - started
    extra = {"build_seconds": round(seconds, 2), "products_per_second": round(len(products) / max(seconds, 1e-9), 1)}
    return _write_version(index_dir, loaded, catalog_fingerprint(catalog_file), catalog_file, extra)


def index_is_current(index_dir: Path, catalog_file: Path) -> bool:
    """True when the index on disk was built from this catalog and all its files exist."""
    manifest = read_manifest(index_dir / MANIFEST)
    if not manifest or manifest.get("catalog_fingerprint") != catalog_fingerprint(catalog_file):
        return False
    version_dir = index_dir / str(manifest.get("version"))
    return all((version_dir / name).is_file() for name in ("vectors.faiss", "products.jsonl", "ids.json"))


def load_index(index_dir: Path) -> ProductIndex:
    """Load the current index version, or raise IndexMissing saying what is wrong."""
    manifest = read_manifest(index_dir / MANIFEST)
    if manifest is None:
        raise IndexMissing(f"no product index at {index_dir} (manifest missing or unreadable)")
    if manifest.get("format") != INDEX_FORMAT or manifest.get("model") != MODEL_NAME:
        raise IndexMissing(f"product index at {index_dir} was built by another format or model; rebuild it")
    version_dir = index_dir / str(manifest.get("version"))
    try:
        vectors = faiss.read_index(str(version_dir / "vectors.faiss"))
        products = load_products(version_dir / "products.jsonl")
        faiss_ids = {str(k): int(v) for k, v in json.loads((version_dir / "ids.json").read_text()).items()}
    except (OSError, RuntimeError, ValueError) as error:
        raise IndexMissing(f"product index at {version_dir} is unreadable: {error}") from None
    by_product = {p.id: p for p in products}
    if vectors.ntotal != len(products) or set(faiss_ids) != set(by_product) or vectors.d != manifest.get("dimension"):
        raise IndexMissing(
            f"product index at {version_dir} is inconsistent: {vectors.ntotal} vectors, {len(products)} products"
        )
    if manifest.get("index_kind") == "hnsw":
        graph: Any = faiss.downcast_index(vectors.index)  # type: ignore[attr-defined]
        graph.hnsw.efSearch = HNSW_EF_SEARCH
    return ProductIndex(
        vectors=vectors,
        products={faiss_ids[pid]: product for pid, product in by_product.items()},
        faiss_ids=faiss_ids,
        manifest=manifest,
    )


def sync_index(
    index_dir: Path, catalog_file: Path, show_progress: bool = True, hnsw_min_products: int = HNSW_MIN_PRODUCTS
) -> SyncReport:
    """Bring the index in line with the catalog: nothing if current, incremental if possible, else rebuild."""
    started = time.perf_counter()
    if index_is_current(index_dir, catalog_file):
        try:
            current = load_index(index_dir)
            return SyncReport("current", products=len(current.products))
        except IndexMissing:
            pass  # corrupt despite a matching manifest: rebuilt below
    products = load_products(catalog_file)
    try:
        index = load_index(index_dir)
    except IndexMissing:
        index = None
    wanted_kind = "hnsw" if len(products) >= hnsw_min_products else "flat"
    if index is None or index.kind != wanted_kind or index.kind == "hnsw":  # HNSW cannot delete: rebuild
        manifest = build_index(index_dir, catalog_file, show_progress, hnsw_min_products)
        return SyncReport("rebuilt", added=len(products), products=int(manifest["products"]),
                          seconds=time.perf_counter() - started)  # fmt: skip
    wanted = {p.id: p for p in products}
    old = {p.id: p for p in index.products.values()}
    deleted = [pid for pid in old if pid not in wanted]
    added = [pid for pid in wanted if pid not in old]
    reembed = [pid for pid in wanted if pid in old and wanted[pid].search_text() != old[pid].search_text()]
    metadata_only = [pid for pid in wanted if pid in old and pid not in reembed and wanted[pid] != old[pid]]
    stale_ids = np.array([index.faiss_ids[pid] for pid in deleted + reembed], dtype=np.int64)
    if len(stale_ids):
        index.vectors.remove_ids(stale_ids)
    for pid in deleted:
        index.products.pop(index.faiss_ids.pop(pid))
    to_embed = added + reembed
    if to_embed:
        next_id = int(index.manifest.get("next_faiss_id", max(index.faiss_ids.values(), default=-1) + 1))
        new_ids = np.arange(next_id, next_id + len(to_embed), dtype=np.int64)
        vectors = encode([wanted[pid].search_text() for pid in to_embed], show_progress=show_progress)
        index.vectors.add_with_ids(vectors, new_ids)
        for pid, fid in zip(to_embed, new_ids, strict=True):
            if pid in index.faiss_ids:
                index.products.pop(index.faiss_ids[pid])
            index.faiss_ids[pid] = int(fid)
            index.products[int(fid)] = wanted[pid]
    for pid in metadata_only:
        index.products[index.faiss_ids[pid]] = wanted[pid]
    _write_version(index_dir, index, catalog_fingerprint(catalog_file), catalog_file,
                   {"last_sync": {"added": len(added), "updated": len(reembed) + len(metadata_only),
                                  "deleted": len(deleted)}})  # fmt: skip
    return SyncReport("incremental", added=len(added), updated=len(reembed) + len(metadata_only), deleted=len(deleted),
                      products=len(index.products), seconds=time.perf_counter() - started)  # fmt: skip
