"""`make bench-search`: relevance, speed, index build and memory of product search, side by side.

Relevance: nDCG@10, recall@50 and MRR of BM25 alone, dense alone, hybrid, and hybrid with the
filters read from the query, on our labelled relevance set (and on WANDS with --wands DIR).
Speed: single-thread latency of the whole search at 1k, 10k and 50k products, exact and HNSW.
Build: index build throughput next to raw MiniLM encoding of the same texts, in the same run.
Figures go to reports/search.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch

from catalog.demo_catalog import PRODUCT_TYPES, generate_demo_catalog
from catalog.embeddings import encode
from catalog.evaluation import JudgedQuery, load_relevance_set, ndcg_at, recall_at, reciprocal_rank
from catalog.evaluation.wands import load_wands
from catalog.filters import parse_query
from catalog.index import ProductIndex, build_index, load_index, new_vector_index
from catalog.products import save_products
from catalog.search import ProductSearch, clean_query
from settings import load_settings

Ranker = Callable[[str], list[str]]


def rankers(search: ProductSearch, index: ProductIndex) -> dict[str, Ranker]:
    """The compared ways to rank: each maps a query to product ids, best first."""

    def ids(candidates: Sequence[Any]) -> list[str]:
        return [index.products[c.faiss_id].id for c in candidates]

    def with_filters(query: str) -> list[str]:
        return [h.product.id for h in search.search(query, k=50, only_matches=False).hits]

    def without_filters(mode: str) -> Ranker:
        return lambda query: ids(search.rank(clean_query(parse_query(query, search.vocabulary).text), mode))

    return {"bm25": without_filters("bm25"), "dense": without_filters("dense"), "hybrid": without_filters("hybrid"),
            "hybrid+filters": with_filters}  # fmt: skip


def evaluate(search: ProductSearch, index: ProductIndex, judged: list[JudgedQuery]) -> dict[str, dict[str, float]]:
    """Mean nDCG@10, recall@50 and MRR of each ranker over the judged queries."""
    results = {}
    for name, rank in rankers(search, index).items():
        ndcg, recall, mrr = [], [], []
        for query in judged:
            ranking = rank(query.query)
            ndcg.append(ndcg_at(ranking, query.grades, 10))
            recall.append(recall_at(ranking, query.grades, 50))
            mrr.append(reciprocal_rank(ranking, query.grades))
        results[name] = {"ndcg@10": round(statistics.fmean(ndcg), 4), "recall@50": round(statistics.fmean(recall), 4),
                         "mrr": round(statistics.fmean(mrr), 4), "queries": len(judged)}  # fmt: skip
    return results


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * len(ordered))] * 1000, 2),
    }


def _latency(search: ProductSearch, queries: list[str]) -> dict[str, float]:
    """Single-query latency on one thread (index builds use every core)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    try:
        for query in queries[:20]:
            search.search(query)
        timings = []
        for query in queries:
            started = time.perf_counter()
            search.search(query)
            timings.append(time.perf_counter() - started)
    finally:
        torch.set_num_threads(threads)
        faiss.omp_set_num_threads(threads)
    return _percentiles(timings)


def _memory_bytes(index_dir: Path, search: ProductSearch) -> int:
    manifest = json.loads((index_dir / "manifest.json").read_text())
    version = index_dir / manifest["version"]
    lexical = search._lexical._retriever.scores  # measuring, not using
    files = sum(f.stat().st_size for f in version.iterdir())
    return int(files + sum(int(getattr(v, "nbytes", 0)) for v in lexical.values()))


def speed(sizes: list[int], queries: list[str], work_dir: Path) -> dict[str, Any]:
    """Latency (exact and HNSW), build throughput and memory at each catalog size."""
    results: dict[str, Any] = {}
    for size in sizes:
        per_type = -(-size // len(PRODUCT_TYPES))
        products = generate_demo_catalog(products_per_type=per_type)[:size]
        catalog_file = work_dir / f"catalog-{size}.jsonl"
        save_products(catalog_file, products)
        index_dir = work_dir / f"index-{size}"
        started = time.perf_counter()
        build_index(index_dir, catalog_file, show_progress=True, hnsw_min_products=10**9)  # exact
        build_seconds = time.perf_counter() - started
        entry: dict[str, Any] = {"products": size, "build_products_per_s": round(size / build_seconds, 1)}
        if size <= 10_000:  # raw encoding of the same texts, for the build's physical limit
            started = time.perf_counter()
            encode([p.search_text() for p in products], show_progress=True)
            entry["raw_encoding_products_per_s"] = round(size / (time.perf_counter() - started), 1)
            entry["build_vs_raw_encoding"] = round(
                entry["build_products_per_s"] / entry["raw_encoding_products_per_s"], 3
            )
        exact = load_index(index_dir)
        search = ProductSearch(exact)
        entry["exact"] = _latency(search, queries)
        entry["memory_bytes_per_product"] = round(_memory_bytes(index_dir, search) / size)
        flat: Any = faiss.downcast_index(exact.vectors.index)
        vectors = flat.reconstruct_n(0, flat.ntotal)
        graph, _ = new_vector_index(vectors.shape[1], size, hnsw_min_products=0)
        started = time.perf_counter()
        graph.add_with_ids(vectors, faiss.vector_to_array(exact.vectors.id_map).astype(np.int64))
        entry["hnsw_graph_build_seconds"] = round(time.perf_counter() - started, 2)
        hnsw = ProductIndex(graph, exact.products, exact.faiss_ids, {**exact.manifest, "index_kind": "hnsw"})
        entry["hnsw"] = _latency(ProductSearch(hnsw), queries)
        results[str(size)] = entry
    return results


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,50000", help="catalog sizes for the speed runs")
    parser.add_argument("--wands", type=Path, help="folder with WANDS product.csv, query.csv, label.csv")
    args = parser.parse_args()
    settings = load_settings()
    work_dir = settings.data_dir / "bench" / "search"
    work_dir.mkdir(parents=True, exist_ok=True)

    demo = generate_demo_catalog()
    save_products(work_dir / "demo.jsonl", demo)
    build_index(work_dir / "demo-index", work_dir / "demo.jsonl", show_progress=False)
    demo_index = load_index(work_dir / "demo-index")
    judged = load_relevance_set(demo)
    report: dict[str, Any] = {
        "benchmark": "search",
        "machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": {
            "relevance_set": f"catalog/evaluation/relevance_set.yml ({len(judged)} queries)",
            "demo_catalog_products": len(demo),
            "speed_catalogs": "seeded demo catalog generator at each size",
            "latency_threads": 1,
            "build_threads": torch.get_num_threads(),
        },
        "relevance_demo": evaluate(ProductSearch(demo_index), demo_index, judged),
    }
    if args.wands:
        products, wands_judged = load_wands(args.wands)
        save_products(work_dir / "wands.jsonl", products)
        build_index(work_dir / "wands-index", work_dir / "wands.jsonl")
        wands_index = load_index(work_dir / "wands-index")
        report["relevance_wands"] = evaluate(ProductSearch(wands_index), wands_index, wands_judged)
    report["speed"] = speed([int(s) for s in args.sizes.split(",")], [q.query for q in judged], work_dir)
    out = settings.reports_dir / "search.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nfigures written to {out}")


def print_table(report: dict[str, Any]) -> None:
    """The figures as readable tables."""
    for key in ("relevance_demo", "relevance_wands"):
        if key in report:
            print(f"\n{key}: {next(iter(report[key].values()))['queries']} queries")
            print(f"  {'ranker':<16}{'nDCG@10':>10}{'recall@50':>11}{'MRR':>8}")
            for name, m in report[key].items():
                print(f"  {name:<16}{m['ndcg@10']:>10}{m['recall@50']:>11}{m['mrr']:>8}")
    print("\nspeed (one thread, whole search):")
    columns = ("products", "exact p50", "exact p95", "hnsw p50", "hnsw p95", "build/s", "raw enc/s", "B/product")
    print("  " + "".join(f"{c:>11}" for c in columns))
    for size, e in report["speed"].items():
        latency = (e["exact"]["p50_ms"], e["exact"]["p95_ms"], e["hnsw"]["p50_ms"], e["hnsw"]["p95_ms"])
        build = (e["build_products_per_s"], e.get("raw_encoding_products_per_s", "-"), e["memory_bytes_per_product"])
        values = (size, *latency, *build)
        print("  " + "".join(f"{v!s:>11}" for v in values))


if __name__ == "__main__":
    main()
