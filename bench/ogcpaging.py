"""OGC API paging of the points collection, as GDAL and QGIS read it (bench/export.py
``--ogc``): follow ``next`` links at ``limit=10000``, time each page; when the target is
missed, profile one deep page."""

from __future__ import annotations

import base64
import cProfile
import http.client
import io
import json
import pstats
import time
from urllib.parse import urlsplit

import psycopg

LIMIT = 10_000
TARGET = 1.5  # paging ≤ 1.5 × ogr2ogr from the database (ours, not the issue's)


def auth_header(token: str, auth: str) -> str:
    """``Bearer`` or HTTP Basic with the token as password (any user name, as QGIS)."""
    if auth == "basic":
        return "Basic " + base64.b64encode(f"qgis:{token}".encode()).decode()
    return f"Bearer {token}"


def _next(body: dict) -> str | None:
    for link in body.get("links", []):
        if link.get("rel") == "next" and "json" in link.get("type", "json"):
            parts = urlsplit(link["href"])
            return f"{parts.path}?{parts.query}"
    return None


def page_through(port: int, token: str, auth: str, budget: float) -> dict:
    """Read every page (or until ``budget`` seconds); per-page seconds and totals."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Authorization": auth_header(token, auth), "Accept": "application/geo+json"}
    path = f"/ogc/collections/paris-points/items?limit={LIMIT}"
    seconds, size, features, matched = [], 0, 0, None
    start = time.perf_counter()
    while path and time.perf_counter() - start < budget:
        began = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        data = response.read()
        assert response.status == 200, data[:500]
        body = json.loads(data)  # a client parses each page to find the next one
        seconds.append(time.perf_counter() - began)
        size += len(data)
        features += len(body["features"])
        matched = body.get("numberMatched", matched)
        path = _next(body)
    connection.close()
    total = time.perf_counter() - start
    return {
        "total": total,
        "pages": seconds,
        "bytes": size,
        "features": features,
        "matched": matched,
        "complete": path is None,
    }


def estimated_total(run: dict) -> float:
    """The whole paging's time: measured, or measured plus the rest at the last pages'
    pace (deeper pages cost at least as much: a lower bound)."""
    if run["complete"]:
        return run["total"]
    left = -(-(run["matched"] - run["features"]) // LIMIT)
    recent = run["pages"][-3:]
    return run["total"] + left * sum(recent) / len(recent)


def profile_deep_page(app, token: str, auth: str, offset: int) -> str:
    """cProfile of one page at ``offset``, served in this process: the 12 functions with
    the most time of their own (psycopg's ``wait`` is the time PostgreSQL takes)."""
    client = app.test_client()
    headers = {"Authorization": auth_header(token, auth), "Accept": "application/geo+json"}
    url = f"/ogc/collections/paris-points/items?limit={LIMIT}&offset={offset}"
    client.get(url, headers=headers)  # warm: imports, caches
    profiler = cProfile.Profile()
    profiler.enable()
    response = client.get(url, headers=headers)
    profiler.disable()
    assert response.status_code == 200
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    return out.getvalue()


def explain_deep_page(params: dict, sql: str, offset: int) -> str:
    """PostgreSQL's plan of the export's query cut to one page at ``offset``."""
    query = f"EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) {sql} LIMIT {LIMIT} OFFSET {offset}"
    with psycopg.connect(**params) as conn:
        return "\n".join(row[0] for row in conn.execute(query))


def ogc_report(app, port: int, token: str, args, anchor, explain=None) -> None:
    """Run the paging and ogr2ogr side by side, print the ratio; profile on a miss."""
    run = page_through(port, token, args.auth, args.budget)
    slow, anchor_features, anchor_size = anchor()
    whole = estimated_total(run)
    pages = run["pages"]
    print(
        f"OGC paging ({args.auth}): {len(pages)} pages of {LIMIT:,}, {run['features']:,} of "
        f"{run['matched']:,} features, {run['bytes'] / 1e6:.0f} MB in {run['total']:.1f} s"
        f"{'' if run['complete'] else ' (budget reached)'}; first page {pages[0]:.2f} s, "
        f"last page {pages[-1]:.2f} s"
    )
    print(
        f"ogr2ogr from the database: {slow:.2f} s, {anchor_size / 1e6:.0f} MB, "
        f"{anchor_features:,} features"
    )
    ratio = whole / slow
    estimate = "" if run["complete"] else "estimated "
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(
        f"{estimate}OGC paging {whole:.1f} s / ogr2ogr {slow:.2f} s = ratio {ratio:.1f} "
        f"({verdict} ≤ {TARGET})"
    )
    if ratio > TARGET:
        offset = max(0, (run["matched"] // LIMIT - 1) * LIMIT)
        print(f"-- profile of the page at offset {offset:,} (in process) --")
        print(profile_deep_page(app, token, args.auth, offset))
        if explain:
            print(f"-- plan of the export's query at offset {offset:,} --")
            print(explain(offset))
