"""Walking routes on the Rennes graph: the routes API against bare pgRouting and networkx.

Run: ``.venv/bin/python bench/routes.py [--pairs 200] [--pins 3000]``.

A fresh ``ressenti_bench_routes`` database gets the Rennes demo (``flask demo load``:
quartiers, the 2013 OSM streets and their walking graph, the Le Blosne workshop) and a
closed workshop of ``--pins`` pins in twelve clusters on streets across the town (70 %
unsafe), released, so the public's routes have something to avoid. Then ``--pairs``
random origin–destination pairs (nodes of the largest component, 500 m to 4 km apart as
the crow flies), each asked once for the public route, half of them at night.

* ours: ``GET /api/v1/territories/rennes/routes`` through the Flask app in this process
  (server time, no network): snapping, both routes (two ``pgr_dijkstra``), the figures.
  The edge costs are computed once before timing (they are stored per release).
* floor: one bare ``pgr_dijkstra`` on the same edges with the length as cost, through
  psycopg in this process (pgRouting's documented call for an undirected graph whose
  edges cost the same both ways: ``id, source, target, cost``, no ``reverse_cost``).
* networkx: ``shortest_path`` (Dijkstra) on the same edges with the same perception
  costs, the graph built once before timing.

Targets: ours p95 ≤ 200 ms and ≤ 3× the bare pgRouting call. Reports the mean detour
and exposure reduction of the recommended routes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.benchdb import fresh_database, machine  # noqa: E402
from geo import projections  # noqa: E402

DATABASE = "ressenti_bench_routes"


def prepare(url: str, pins: int):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "TILE_URL": "",
            "PIN_RATE_PER_CODE": (10**9, 60),
            "PIN_RATE_PER_CLIENT": (10**9, 60),
            "ROUTE_RATE_PER_CLIENT": (10**9, 60),
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    _clustered_workshop(app, pins)
    return app


def _clustered_workshop(app, count: int) -> None:
    """A closed workshop of ``count`` pins in twelve clusters on streets, released."""
    import sqlalchemy as sa

    from app.analysis import release
    from app.extensions import db
    from app.models import Quartier, Territory, Workshop, WorkshopGroup, utcnow
    from app.workshops.groups import new_join_code

    rng = np.random.default_rng(17)
    with app.app_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        quartiers = db.session.scalars(
            sa.select(Quartier).where(Quartier.territory_id == territory.id)
        ).all()
        workshop = Workshop(
            territory=territory, kind="atelier", title="Bench", status="open",
            held_on=utcnow().date(), quartiers=list(quartiers),
        )  # fmt: skip
        code = new_join_code()
        workshop.groups = [WorkshopGroup(territory_id=territory.id, name="T", join_code=code)]
        db.session.add(workshop)
        db.session.commit()
        xy = db.session.execute(
            sa.text(
                "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(geom, 2154) AS g "
                "FROM route_node WHERE component = 0 ORDER BY random() LIMIT 12) n"
            )
        ).all()
        workshop_id = workshop.id
    client = app.test_client()
    centres = np.array(xy)
    for i in range(count):
        x, y = centres[i % len(centres)] + rng.normal(0, 60, 2)
        lon, lat = projections.to_lonlat(np.array([x]), np.array([y]), 2154)
        unsafe = rng.random() < 0.7
        body = {
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "feeling": "unsafe" if unsafe else "safe",
            "category": "lighting" if unsafe else "good_lighting",
            "time_of_day": str(rng.choice(["day", "evening", "night", "always"])),
            "comment": None,
            "lon": float(lon[0]),
            "lat": float(lat[0]),
        }
        answer = client.post(f"/api/v1/groups/{code}/pins", json=body)
        assert answer.status_code in (201, 422), answer.get_json()  # 422: a tap off the quartiers
    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        workshop.status, workshop.closed_at = "closed", utcnow()
        release.make_release(workshop)
        db.session.commit()


def pairs(params: dict, count: int) -> list[tuple]:
    """Random node pairs of the largest component, 500 m to 4 km apart."""
    with psycopg.connect(**params) as conn:
        nodes = conn.execute(
            "SELECT id, ST_X(geom), ST_Y(geom), ST_X(ST_Transform(geom, 2154)), "
            "ST_Y(ST_Transform(geom, 2154)) FROM route_node WHERE component = 0 ORDER BY id"
        ).fetchall()
    rng = np.random.default_rng(5)
    chosen = []
    while len(chosen) < count:
        a, b = (nodes[i] for i in rng.integers(0, len(nodes), 2))
        if 500 <= np.hypot(a[3] - b[3], a[4] - b[4]) <= 4000:
            chosen.append((a, b, "night" if len(chosen) % 2 else None))
    return chosen


def time_ours(app, chosen) -> tuple[list[float], list[dict]]:
    client = app.test_client()
    times, documents = [], []
    for a, b, night in chosen:
        query = {"from": f"{a[1]},{a[2]}", "to": f"{b[1]},{b[2]}"}
        if night:
            query["time_of_day"] = night
        started = time.perf_counter()
        answer = client.get("/api/v1/territories/rennes/routes", query_string=query)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.get_json()
        documents.append(answer.get_json())
    return times, documents


def time_bare(params: dict, chosen) -> list[float]:
    sql = (
        "SELECT * FROM pgr_dijkstra('SELECT id, source, target, length_m AS cost "
        "FROM route_edge', %s::bigint, %s::bigint, directed => false)"
    )
    times = []
    with psycopg.connect(**params) as conn:
        conn.execute(sql, (chosen[0][0][0], chosen[0][1][0])).fetchall()  # warm the backend
        for a, b, _night in chosen:
            started = time.perf_counter()
            rows = conn.execute(sql, (a[0], b[0])).fetchall()
            times.append(time.perf_counter() - started)
            assert rows
    return times


def time_networkx(params: dict, chosen, alpha: float, beta: float) -> tuple[float, list[float]]:
    import networkx as nx

    from geo.routing import perception_cost

    started = time.perf_counter()
    with psycopg.connect(**params) as conn:
        rows = conn.execute(
            "SELECT e.source, e.target, e.length_m, c.unsafe, c.safe FROM route_edge e "
            "JOIN route_edge_cost c ON c.edge_id = e.id JOIN route_cost r ON r.id = c.cost_id "
            "WHERE r.basis = 'public' AND r.time_of_day = 'all' AND r.workshops LIKE ';%'"
        ).fetchall()
    source, target, length, unsafe, safe = (np.array(v) for v in zip(*rows, strict=True))
    cost = perception_cost(length, unsafe, safe, alpha, beta)
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(source.tolist(), target.tolist(), cost.tolist(), strict=True))
    build = time.perf_counter() - started
    times = []
    for a, b, _night in chosen:
        started = time.perf_counter()
        nx.shortest_path(graph, a[0], b[0], weight="weight")
        times.append(time.perf_counter() - started)
    return build, times


def quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def _mean(documents: list[dict], key: str) -> float:
    return float(np.mean([d[key] for d in documents])) if documents else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--pins", type=int, default=3000)
    args = parser.parse_args()
    url, params = fresh_database(DATABASE)
    started = time.perf_counter()
    app = prepare(url, args.pins)
    print(f"prepared in {time.perf_counter() - started:.0f} s")
    chosen = pairs(params, args.pairs)
    client = app.test_client()  # compute and store the public edge costs (all day, night)
    a, b, _ = chosen[0]
    cold = []
    for night in ("", "&time_of_day=night"):
        started = time.perf_counter()
        client.get(f"/api/v1/territories/rennes/routes?from={a[1]},{a[2]}&to={b[1]},{b[2]}{night}")
        cold.append(time.perf_counter() - started)
    ours, documents = time_ours(app, chosen)
    bare = time_bare(params, chosen)
    weights = app.config["ROUTE_ALPHA"], app.config["ROUTE_BETA"]
    build, networkx = time_networkx(params, chosen, *weights)
    with psycopg.connect(**params) as conn:
        nodes, edges = conn.execute("SELECT nodes, edges FROM route_graph").fetchone()
    print(machine())
    print(f"graph: {nodes} nodes, {edges} edges; {len(chosen)} pairs (half at night)")
    rows = (("ours (API, both routes)", ours), ("floor: bare pgr_dijkstra", bare),
            ("networkx shortest_path", networkx))  # fmt: skip
    for name, values in rows:
        p50, p95 = quantiles(values)
        print(f"{name:28s} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    print(f"networkx graph build (once): {build * 1000:.0f} ms")
    print(
        "first request after a release (edge costs computed and stored): "
        + ", ".join(f"{c * 1000:.0f} ms" for c in cold)
        + " (all day, night)"
    )
    ours95, bare95, nx95 = (quantiles(v)[1] for v in (ours, bare, networkx))
    print(f"ratio ours/bare p95: {ours95 / bare95:.2f}  (target ≤ 3)   ours p95 target ≤ 200 ms")
    print(f"ratio ours/networkx p95: {ours95 / nx95:.2f}")
    best = [d["features"][0]["properties"] for d in documents]
    changed = [p for p in best if p["detour_pct"] > 0]
    print(
        f"recommended ≠ shortest for {len(changed)} of {len(best)} pairs; mean detour "
        f"{np.mean([p['detour_pct'] for p in best]):.1f} % (over the changed: "
        f"{_mean(changed, 'detour_pct'):.1f} %), mean exposure "
        f"reduction {np.mean([p['exposure_reduction_pct'] for p in best]):.1f} % (over the "
        f"changed: {_mean(changed, 'exposure_reduction_pct'):.1f} %)"
    )


if __name__ == "__main__":
    main()
