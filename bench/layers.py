"""Layer endpoints on a territory holding 10^6 pins: server time, and a naive path.

Run: ``.venv/bin/python bench/layers.py [--pins 1000000] [--requests 15]``.

A fresh ``ressenti_bench_layers`` database in the embedded cluster gets the 80 Paris
quartiers and 10^6 pins: the 10,000 real "Dans ma rue" reports of ../shared/data,
each jittered 100 times (Gaussian, 40 m), with feelings, categories and times of day
drawn at random, loaded with COPY.

* ours: ``/layers/density`` and ``/layers/hexagons`` through the Flask app in this
  process (server time: no network), with varied filters; p50/p95.
* naive: load every matching pin with geopandas (``read_postgis``), project it, then
  compute the same layer with the same ``geo`` functions.

* cached: the same requests again, answered from the shared layer cache (the territory's
  data version unchanged).

Targets: p95 < 300 ms per endpoint cold, < 20 ms from the cache; prints the ratios
naive / ours.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.benchdb import fresh_database  # noqa: E402
from geo import projections  # noqa: E402

DATABASE = "ressenti_bench_layers"
DATA = ROOT.parent / "shared" / "data" / "paris_dansmarue_10k.csv"
QUARTIERS = ROOT / "data" / "quartiers" / "paris_quartiers_administratifs.geojson"
QUERIES = (
    "",
    "feeling=unsafe",
    "time_of_day=night",
    "category=lighting,noise,gatherings",
    "from=2024-03-01&to=2024-08-31",
)


def prepare(url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TILE_URL": ""})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    out = app.test_cli_runner().invoke(
        args=[
            "quartiers",
            "import",
            str(QUARTIERS),
            "--territory",
            "paris",
            "--territory-name",
            "Paris",
            "--name-field",
            "l_qu",
            "--code-field",
            "c_quinsee",
        ]
    )
    assert out.exit_code == 0, out.output
    return app


def load_pins(params: dict, count: int) -> None:
    with open(DATA, newline="", encoding="utf-8") as handle:
        rows = [(float(r["lon"]), float(r["lat"])) for r in csv.DictReader(handle)]
    lon, lat = np.array(rows).T
    x, y = projections.to_metric(lon, lat, projections.LAMBERT_93)
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(x), count)
    x, y = x[pick] + rng.normal(0, 40, count), y[pick] + rng.normal(0, 40, count)
    lon, lat = projections.to_lonlat(x, y, projections.LAMBERT_93)
    with psycopg.connect(**params) as conn:
        territory = conn.execute("SELECT id FROM territory").fetchone()[0]
        workshop = conn.execute(
            "INSERT INTO workshop (territory_id, kind, title, edition, held_on, place, status,"
            " created_at) VALUES (%s, 'questionnaire', 'bench', '', now(), '', 'closed', now())"
            " RETURNING id",
            (territory,),
        ).fetchone()[0]
        group = conn.execute(
            "INSERT INTO workshop_group (territory_id, workshop_id, name, join_code, troubles,"
            " causes, solutions, residents_role, created_at) VALUES (%s, %s, 'bench', 'BENCH2345',"
            " '', '', '', '', now()) RETURNING id",
            (territory, workshop),
        ).fetchone()[0]
        categories = dict(conn.execute("SELECT code, id FROM category").fetchall())
        unsafe = [categories[c] for c in ("lighting", "noise", "gatherings", "incivility")]
        safe = [categories[c] for c in ("human_presence", "good_lighting")]
        feeling = rng.random(count) < 0.7
        category = np.where(feeling, rng.choice(unsafe, count), rng.choice(safe, count))
        times = np.array(["morning", "day", "evening", "night", "always"])[
            rng.integers(0, 5, count)
        ]
        # Reported over a year, like a year-long online questionnaire.
        days = (np.datetime64("2024-01-01") + rng.integers(0, 365, count)).astype(str)
        buffer = io.StringIO()
        for i in range(count):
            when = f"{days[i]}T12:00:00Z"
            buffer.write(
                f"{uuid.uuid4()}\t{territory}\t{workshop}\t{group}\t"
                f"{'unsafe' if feeling[i] else 'safe'}\t{category[i]}\t{times[i]}\t"
                f"SRID=4326;POINT({lon[i]:.7f} {lat[i]:.7f})\t{when}\t{when}\n"
            )
        buffer.seek(0)
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY pin (id, territory_id, workshop_id, group_id, feeling, category_id,"
                " time_of_day, geom, created_at, updated_at) FROM STDIN"
            ) as copy,
        ):
            while block := buffer.read(1 << 20):
                copy.write(block)
        conn.execute("ANALYZE pin")


def staff_token(app) -> str:
    """A police token for Paris: the exact layers (``full=1``) are the staff's; the
    public's come from the stored release and count nothing per request."""
    import sqlalchemy as sa

    from app.accounts.auth import create_token
    from app.extensions import db
    from app.models import Territory, User

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "bench@example.org"))
        if user is None:
            paris = db.session.scalar(sa.select(Territory).where(Territory.slug == "paris"))
            user = User(
                email="bench@example.org",
                name="Bench",
                role="police",
                password_hash="!",
                territories=[paris],
            )
            db.session.add(user)
        _row, clear = create_token(user, "bench")
        db.session.commit()
        return clear


def empty_cache(app) -> None:
    from app.extensions import db
    from app.models import LayerCache

    with app.app_context():
        db.session.execute(LayerCache.__table__.delete())
        db.session.commit()


def server_times(app, layer: str, repeat: int, cold: bool = True) -> np.ndarray:
    """Server time of ``repeat`` requests over the filter sets; ``cold``: the layer cache
    emptied before each (not timed), so every request counts and computes; else each
    answered from the cache."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {staff_token(app)}"}
    times = []
    for i in range(repeat):
        query = QUERIES[i % len(QUERIES)] + "&full=1"
        if cold:
            empty_cache(app)
        start = time.perf_counter()
        response = client.get(f"/api/v1/territories/paris/layers/{layer}?{query}", headers=headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.headers["X-Cache"] == ("miss" if cold else "hit")
    return np.array(times) * 1000


def fill(app, layer: str) -> None:
    """One request per filter set, which leaves each document in the cache."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {staff_token(app)}"}
    for query in QUERIES:
        url = f"/api/v1/territories/paris/layers/{layer}?{query}&full=1"
        assert client.get(url, headers=headers).status_code == 200


def naive(url: str, layer: str) -> float:
    """Load all pins with geopandas, then compute the layer with geo/."""
    import geopandas as gpd
    import sqlalchemy as sa

    from geo.density import kernel_density
    from geo.hexgrid import hexagon_counts

    engine = sa.create_engine(url)
    start = time.perf_counter()
    frame = gpd.read_postgis("SELECT feeling, geom FROM pin", engine, geom_col="geom")
    metric = frame.to_crs(projections.LAMBERT_93)
    x, y = metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()
    if layer == "hexagons":
        hexagon_counts(x, y, 150.0, classes=frame["feeling"].to_numpy())
    else:
        pad = 400
        extent = (x.min() - pad, y.min() - pad, x.max() + pad, y.max() + pad)
        cell = max(extent[2] - extent[0], extent[3] - extent[1]) / 600
        kernel_density(x, y, extent, cell, 400.0)
    engine.dispose()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=16)
    args = parser.parse_args()
    url, params = fresh_database(DATABASE)
    app = prepare(url)
    start = time.perf_counter()
    load_pins(params, args.pins)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}")
    print(f"{args.pins:,} pins loaded in {time.perf_counter() - start:.1f} s (COPY)")
    for layer in ("density", "hexagons"):
        server_times(app, layer, 2)  # warm caches
        times = server_times(app, layer, args.requests)
        p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
        slow = naive(url, layer)
        verdict = "meets" if p95 < 300 else "MISSES"
        print(
            f"{layer:9s} ours p50 {p50:6.0f} ms, p95 {p95:6.0f} ms ({verdict} < 300 ms); "
            f"naive {slow:6.0f} ms; naive/ours(p50) = {slow / p50:.1f}"
        )
        fill(app, layer)
        hot = server_times(app, layer, args.requests, cold=False)
        h50, h95 = np.percentile(hot, 50), np.percentile(hot, 95)
        verdict = "meets" if h95 < 20 else "MISSES"
        print(
            f"{layer:9s} from the cache p50 {h50:6.1f} ms, p95 {h95:6.1f} ms "
            f"({verdict} < 20 ms); naive/cached(p50) = {slow / h50:.0f}"
        )


if __name__ == "__main__":
    main()
