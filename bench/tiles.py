"""Vector tiles on a territory holding 10^6 pins: server time per zoom, and the floor.

Run: ``.venv/bin/python bench/tiles.py [--pins 1000000] [--side 3]``.

The territory is :mod:`bench.layers`'s (Paris, the "Dans ma rue" reports jittered to 10^6
pins, loaded with COPY), with a public release of its (closed) questionnaire. A fixed
list of tiles: per zoom from 10 to 16, the ``side × side`` tiles around the centre of
Paris (Châtelet).

* ours: ``/ogc/collections/paris-<kind>/tiles/WebMercatorQuad/{z}/{y}/{x}`` through the
  Flask app in this process (server time, no network) for ``hexagons`` (public),
  ``hexagons-full`` and ``points`` (a police token), p50/p95 per zoom: cold (the shared
  layer cache emptied first: each tile built; the first tile of a zoom also computes the
  zoom's hexagon layer, shown apart as "first"), then warm (the same list again: tiles
  from the cache, as for a second reader of the same data version).
* floor: the bare ``ST_AsMVT`` query for the same tile, in the same run: the pins of the
  tile's envelope (index scan) as points with their ids (points from z14), or counted
  per hexagon of the zoom's size with each cell's mean point (cells below z14 and the
  hexagon collections) — no labels, no polygons, no access check, no audit; JIT off
  and ``OFFSET 0`` (each pin's ``ST_AsMVTGeom`` computed once),
  as for the app's tile queries (with it on, PostgreSQL spends 1-3 s compiling).

Targets (checked on the cold pass): p95 ≤ 1.5 × the floor's p95 and ≤ 150 ms per tile.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchdb import fresh_database, machine  # noqa: E402
from bench.layers import empty_cache, load_pins, prepare, staff_token  # noqa: E402
from geo.hexgrid import axial_sql  # noqa: E402

DATABASE = "ressenti_bench_tiles"
CENTRE = (2.3470, 48.8590)  # Châtelet
ZOOMS = range(10, 17)
KINDS = ("hexagons", "hexagons-full", "points")
ENVELOPE = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096)"
POINTS_FLOOR = f"""
SELECT ST_AsMVT(t, 'points', 4096, 'geom') FROM (
  SELECT id::text AS id, feeling, category_id, time_of_day, workshop_id, created_at,
         ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                      4096, 64, true) AS geom
  FROM pin WHERE territory_id = %(territory)s
    AND geom && ST_Transform({ENVELOPE}, 4326) OFFSET 0) AS t
WHERE geom IS NOT NULL
"""


def cells_floor(size: float) -> str:
    q, r = axial_sql("x_m", "y_m", size)
    return f"""
SELECT ST_AsMVT(t, 'cells', 4096, 'geom') FROM (
  SELECT q, r, count(*) AS total, count(*) FILTER (WHERE feeling = 'unsafe') AS unsafe,
         ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(avg(x_m), avg(y_m)), 2154), 3857),
                      ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS geom
  FROM (SELECT {q} AS q, {r} AS r, feeling, x_m, y_m FROM pin
        WHERE territory_id = %(territory)s
          AND geom && ST_Transform({ENVELOPE}, 4326)) AS p
  GROUP BY q, r) AS t
WHERE geom IS NOT NULL
"""


def tile_list(side: int) -> list[tuple[int, int, int]]:
    """``(z, x, y)``: per zoom the ``side × side`` tiles around the centre."""
    lon, lat = CENTRE
    found = []
    for z in ZOOMS:
        n = 2**z
        cx = int((lon + 180) / 360 * n)
        cy = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        half = side // 2
        found += [
            (z, cx + dx, cy + dy)
            for dx in range(-half, side - half)
            for dy in range(-half, side - half)
        ]
    return found


def release(app) -> None:
    """The public release of the bench questionnaire (closed), as closing it makes."""
    import sqlalchemy as sa

    from app.analysis.release import make_release
    from app.extensions import db
    from app.models import Workshop

    with app.app_context():
        make_release(db.session.scalar(sa.select(Workshop)))
        db.session.commit()


def ours(app, kind: str, tiles, headers) -> dict[int, list[float]]:
    client = app.test_client()
    times: dict[int, list[float]] = {}
    for z, x, y in tiles:
        url = f"/ogc/collections/paris-{kind}/tiles/WebMercatorQuad/{z}/{y}/{x}"
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.setdefault(z, []).append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]
    return times


def floor(params: dict, kind: str, tiles) -> dict[int, list[float]]:
    from app.gis.tiles import POINTS_FROM, hexagon_size

    times: dict[int, list[float]] = {}
    with psycopg.connect(**params) as conn:
        territory = conn.execute("SELECT id FROM territory").fetchone()[0]
        conn.execute("SET work_mem = '64MB'")
        conn.execute("SET jit = off")  # as the app's tiles: JIT costs seconds here
        for z, x, y in tiles:
            points = kind == "points" and z >= POINTS_FROM
            sql = POINTS_FLOOR if points else cells_floor(hexagon_size(z))
            start = time.perf_counter()
            conn.execute(sql, {"z": z, "x": x, "y": y, "territory": territory}).fetchone()
            times.setdefault(z, []).append((time.perf_counter() - start) * 1000)
    return times


def report(kind: str, cold, warm, bare) -> bool:
    """Per zoom: the cold pass (the first tile of a zoom computes the zoom's hexagon
    layer), the warm pass (tiles from the shared cache), the floor; the targets are
    checked on the cold pass."""
    met = True
    for z in ZOOMS:
        c50, c95 = np.percentile(cold[z], 50), np.percentile(cold[z], 95)
        w50, w95 = np.percentile(warm[z], 50), np.percentile(warm[z], 95)
        f50, f95 = np.percentile(bare[z], 50), np.percentile(bare[z], 95)
        ok = c95 <= 1.5 * f95 and c95 <= 150
        met &= ok
        print(
            f"{kind:14s} z{z:<2d} first {cold[z][0]:6.0f} | cold p50 {c50:6.1f} p95 {c95:6.1f}"
            f" | warm p50 {w50:5.1f} p95 {w95:5.1f} | floor p50 {f50:6.1f} p95 {f95:6.1f} ms"
            f" | cold/floor(p95) {c95 / f95:5.2f} {'meets' if ok else 'MISSES'}"
        )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=int, default=1_000_000)
    parser.add_argument("--side", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    args = parser.parse_args()
    url, params = fresh_database(DATABASE)
    if args.reuse:
        from app import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TILE_URL": ""})
    else:
        app = prepare(url)
        start = time.perf_counter()
        load_pins(params, args.pins)
        release(app)
        print(f"{args.pins:,} pins loaded and released in {time.perf_counter() - start:.1f} s")
    print(machine())
    tiles = tile_list(args.side)
    police = {"Authorization": f"Bearer {staff_token(app)}"}
    met = True
    for kind in KINDS:
        headers = None if kind == "hexagons" else police
        empty_cache(app)
        cold = ours(app, kind, tiles, headers)
        warm = ours(app, kind, tiles, headers)
        met &= report(kind, cold, warm, floor(params, kind, tiles))
    print("targets met" if met else "target MISSED")


if __name__ == "__main__":
    main()
