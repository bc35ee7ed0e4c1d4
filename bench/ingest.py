"""Pin ingestion under load: the app under gunicorn vs raw single-row INSERTs.

Run: ``.venv/bin/python bench/ingest.py [--clients 32] [--seconds 10]``.

Both sides run in this one process's run, against the same ``pin`` table of a fresh
``ressenti_bench`` database in the embedded PostGIS cluster (or BENCH_DATABASE_URL):

* anchor: pgbench (C, prepared statements, N clients, 2 threads) running a single-row
  ``INSERT INTO pin ...`` — the rate PostgreSQL itself sustains on this machine;
* second anchor: the same load against a minimal Flask app that stores the same row
  with one psycopg INSERT and no checks (bench/minimal_pin_app.py, same gunicorn shape);
* ours: N client threads, each with a keep-alive connection, POSTing new pins (fresh
  UUIDs, points inside Le Blosne) to ``/api/v1/groups/<code>/pins`` served by gunicorn
  on 127.0.0.1, every request validated (category, time of day, inside the quartier).

Prints pins/s, latency percentiles and the ratios ours / pgbench and ours / minimal
app. Target (issue 16): ours >= 0.7 x the minimal app, p95 < 50 ms at 32 clients.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench import benchdb  # noqa: E402
from bench.benchdb import fresh_database  # noqa: E402

DATABASE = "ressenti_bench"
CATEGORIES = ("lighting", "noise", "gatherings", "harassment", "urban_rodeos")
TIMES = ("morning", "day", "evening", "night", "always")


def prepare(url: str) -> tuple[str, int]:
    """Migrate, import Rennes, open a workshop on Le Blosne; return a join code and its id."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    runner = app.test_cli_runner()
    data = ROOT / "data" / "quartiers" / "rennes_quartiers.geojson"
    out = runner.invoke(
        args=[
            "quartiers",
            "import",
            str(data),
            "--territory",
            "rennes",
            "--name-field",
            "nom",
            "--code-field",
            "matricule",
        ]
    )
    assert out.exit_code == 0, out.output
    with app.app_context():
        from datetime import date

        import sqlalchemy as sa

        from app.extensions import db
        from app.models import Quartier, Territory, Workshop, WorkshopGroup
        from app.workshops.groups import new_join_code

        territory = db.session.scalar(sa.select(Territory))
        blosne = db.session.scalar(sa.select(Quartier).where(Quartier.code == "Q.11"))
        workshop = Workshop(
            territory=territory,
            kind="atelier",
            title="bench",
            status="open",
            held_on=date.today(),
            quartiers=[blosne],
        )
        group = WorkshopGroup(territory_id=territory.id, name="bench", join_code=new_join_code())
        workshop.groups = [group]
        db.session.add(workshop)
        db.session.commit()
        return group.join_code, group.id


def points_inside(count: int) -> list[tuple[float, float]]:
    import geopandas as gpd

    frame = gpd.read_file(ROOT / "data" / "quartiers" / "rennes_quartiers.geojson")
    blosne = frame[frame["matricule"] == "Q.11"].geometry.iloc[0]
    west, south, east, north = blosne.bounds
    rng = random.Random(1)
    found: list[tuple[float, float]] = []
    from shapely.geometry import Point

    while len(found) < count:
        x, y = rng.uniform(west, east), rng.uniform(south, north)
        if blosne.contains(Point(x, y)):
            found.append((round(x, 7), round(y, 7)))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    url: str, port: int, workers: int, threads: int, app: str = "app:create_app()", **extra
) -> subprocess.Popen:
    env = {
        **os.environ,
        **extra,
        "DATABASE_URL": url,
        "RESSENTI_SECRET_KEY": "bench",
        "RESSENTI_PIN_RATE_PER_CODE": "[1000000, 1]",
        "RESSENTI_PIN_RATE_PER_CLIENT": "[1000000, 1]",
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
        "--pythonpath",
        str(ROOT / "bench"),
    ]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def run_clients(port: int, code: str, clients: int, seconds: float, points) -> dict:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.monotonic() + seconds
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        path = f"/api/v1/groups/{code}/pins"
        start.wait()
        while time.monotonic() < stop_at:
            lon, lat = points[rng.randrange(len(points))]
            body = json.dumps(
                {
                    "id": str(uuid.uuid4()),
                    "feeling": "unsafe",
                    "category": CATEGORIES[rng.randrange(len(CATEGORIES))],
                    "time_of_day": TIMES[rng.randrange(len(TIMES))],
                    "comment": None,
                    "lon": lon,
                    "lat": lat,
                }
            )
            began = time.perf_counter()
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            latencies[index].append(time.perf_counter() - began)
            if response.status != 201:
                errors[index] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    flat = sorted(x for per_client in latencies for x in per_client)
    return {
        "requests": len(flat),
        "errors": sum(errors),
        "seconds": elapsed,
        "rate": len(flat) / elapsed,
        "p50": percentile(flat, 50),
        "p95": percentile(flat, 95),
        "p99": percentile(flat, 99),
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index] * 1000


def pgbench_inserts(params: dict, group_id: int, clients: int, seconds: int) -> dict:
    """The anchor: single-row INSERTs into the same table, from C, prepared."""
    with connect(params) as conn:
        ids = conn.execute(
            "SELECT g.territory_id, g.workshop_id,"
            " (SELECT id FROM category WHERE code = 'lighting')"
            " FROM workshop_group g WHERE g.id = %s",
            (group_id,),
        ).fetchone()
    territory_id, workshop_id, category_id = ids
    script = (
        "INSERT INTO pin (id, territory_id, workshop_id, group_id, feeling, category_id, "
        "time_of_day, geom, created_at, updated_at) VALUES (gen_random_uuid(), "
        f"{territory_id}, {workshop_id}, {group_id}, 'unsafe', {category_id}, 'night', "
        "ST_SetSRID(ST_MakePoint(-1.66 + random() * 0.002, 48.085 + random() * 0.002), 4326), "
        "now(), now());\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    os.chmod(handle.name, 0o644)
    command = [
        "pgbench",
        "-n",
        "-M",
        "prepared",
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(seconds),
        "-f",
        handle.name,
    ]
    if "conninfo" in params:
        command.append(params["conninfo"])
    else:
        command += [
            "-h",
            params["host"],
            "-p",
            str(params["port"]),
            "-U",
            params["user"],
            params["dbname"],
        ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    os.unlink(handle.name)
    tps = float(
        next(line for line in done.stdout.splitlines() if line.startswith("tps")).split()[2]
    )
    latency = next(line for line in done.stdout.splitlines() if "latency average" in line)
    return {"rate": tps, "latency_avg_ms": float(latency.split("=")[1].split()[0])}


def connect(params: dict) -> psycopg.Connection:
    if "conninfo" in params:
        return psycopg.connect(params["conninfo"])
    return psycopg.connect(**params)


def machine(params: dict) -> str:
    """benchdb's machine line, with the PostgreSQL server's version."""
    with connect(params) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    return f"{benchdb.machine().removeprefix('machine: ')}; PostgreSQL {version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("pgbench"):
        sys.exit("pgbench is missing (Debian: postgresql-contrib)")
    url, params = fresh_database(DATABASE)
    code, group_id = prepare(url)
    points = points_inside(5000)
    print(f"machine: {machine(params)}")
    print(f"load: {args.clients} clients for {args.seconds:.0f} s each side")

    anchor = pgbench_inserts(params, group_id, args.clients, int(args.seconds))
    print(
        f"anchor  pgbench single-row INSERT : {anchor['rate']:8.0f} rows/s "
        f"(avg latency {anchor['latency_avg_ms']:.2f} ms)"
    )

    minimal = serve_and_load(
        url, args, code, points, "minimal_pin_app:create_app()",
        BENCH_MINIMAL_CONNINFO=conninfo(params), BENCH_MINIMAL_GROUP=group_triple(params, group_id),
    )  # fmt: skip
    report("minimal Flask + psycopg INSERT", minimal, args)
    ours = serve_and_load(url, args, code, points, "app:create_app()")
    report("ours    POST /pins via gunicorn", ours, args)
    ratio = ours["rate"] / anchor["rate"]
    print(f"ratio ours/pgbench: {ratio:.2f}")
    ratio = ours["rate"] / minimal["rate"]
    verdict = "meets" if ratio >= 0.7 and ours["p95"] < 50 else "MISSES"
    print(f"ratio ours/minimal app: {ratio:.2f}  (target >= 0.70, p95 < 50 ms: {verdict})")


def serve_and_load(url, args, code, points, app: str, **extra) -> dict:
    """Serve ``app`` with gunicorn, warm it up, then load it; the measured run."""
    port = free_port()
    server = start_gunicorn(url, port, args.workers, args.threads, app, **extra)
    try:
        run_clients(port, code, args.clients, 2, points)  # warm-up: imports, pools, caches
        return run_clients(port, code, args.clients, args.seconds, points)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def report(label: str, side: dict, args) -> None:
    print(
        f"{label:33s}: {side['rate']:8.0f} pins/s "
        f"(p50 {side['p50']:.1f} ms, p95 {side['p95']:.1f} ms, p99 {side['p99']:.1f} ms, "
        f"{side['errors']} errors / {side['requests']} requests; "
        f"gunicorn {args.workers} workers × {args.threads} threads)"
    )


def conninfo(params: dict) -> str:
    if "conninfo" in params:
        return params["conninfo"]
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})


def group_triple(params: dict, group_id: int) -> str:
    with connect(params) as conn:
        row = conn.execute(
            "SELECT territory_id, workshop_id, id FROM workshop_group WHERE id = %s", (group_id,)
        ).fetchone()
    return ",".join(str(v) for v in row)


if __name__ == "__main__":
    main()
