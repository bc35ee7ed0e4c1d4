"""10^6 pins to GeoJSON: our streamed HTTP export against GDAL's ogr2ogr.

Run: ``.venv/bin/python bench/export.py [--pins 1000000]``.

A fresh ``ressenti_bench_export`` database gets the 80 Paris quartiers and 10^6 pins
(the loader of ``bench/layers.py``). Then, in the same run:

* ours: gunicorn (1 sync worker, as deployed) serves
  ``/api/v1/territories/paris/pins.geojson`` to a planner's token; a client on
  127.0.0.1 reads the stream and throws it away. Time to first byte, total time, and
  the worker's peak resident memory (``VmHWM``).
* anchor: ``ogr2ogr -f GeoJSON /vsistdout/ PG:… -sql …`` (Debian's GDAL) runs the same
  query — the same columns, joins and quartier lookup — with 7-decimal coordinates,
  its output thrown away too.

Targets: ours / ogr2ogr ≤ 1.0, peak RSS < 150 MB, first byte < 200 ms.

With ``--ogc`` (issue 15), the same pins through the OGC API as QGIS or GDAL read them:
``/ogc/collections/paris-points/items?limit=10000``, following each page's ``next``
link, with the token as ``Bearer`` or as HTTP Basic's password (``--auth basic``, what
QGIS sends); each page is parsed as a client must (to find ``next``). Anchor: the same
ogr2ogr from the database, in the same run. Paging stops after ``--budget`` seconds:
the run then reports the pages read and an estimate for the rest from the last pages'
pace (a lower bound: a deeper page is never cheaper). Target (ours, not the issue's):
paging ≤ 1.5 × ogr2ogr. A miss prints where a deep page's time goes (cProfile of one
page in this process, and PostgreSQL's plan of its query).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchdb import fresh_database, wait_healthy  # noqa: E402
from bench.layers import load_pins, prepare  # noqa: E402
from bench.ogcpaging import explain_deep_page, ogc_report  # noqa: E402

DATABASE = "ressenti_bench_export"
FEATURE = b'"Feature"'  # once per feature, whatever the spacing

# The export's query, as ogr2ogr gets it (app/exports.py pin_query, no filter).
ANCHOR_SQL = """
SELECT pin.id::text AS id, pin.feeling, category.code AS category,
       category.label_fr AS category_label, pin.time_of_day, pin.workshop_id,
       workshop.title AS workshop,
       quartier.name AS quartier, pin.created_at, NULL::text AS comment, pin.geom
FROM pin JOIN category ON category.id = pin.category_id
         JOIN workshop ON workshop.id = pin.workshop_id
         LEFT JOIN quartier ON quartier.id = pin.quartier_id
WHERE pin.territory_id = {territory}
ORDER BY pin.created_at, pin.id
"""


def make_token(app) -> tuple[str, int]:
    from app.accounts.auth import create_token, hash_password
    from app.extensions import db
    from app.models import Territory, User

    with app.app_context():
        paris = db.session.scalar(db.select(Territory).where(Territory.slug == "paris"))
        user = User(
            email="bench@example.org",
            name="Bench",
            role="planner",
            password_hash=hash_password("bench bench bench"),
            territories=[paris],
        )
        db.session.add(user)
        db.session.flush()
        _, secret = create_token(user, "bench")
        db.session.commit()
        return secret, paris.id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RESSENTI_SECRET_KEY": "bench",
        "RESSENTI_TILE_URL": "",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "600",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return wait_healthy(server, port)


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ours(port: int, token: str) -> tuple[float, float, int, int]:
    """(first byte s, total s, bytes, features) for one streamed export."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    connection.request(
        "GET",
        "/api/v1/territories/paris/pins.geojson",
        headers={"Authorization": f"Bearer {token}"},
    )
    response = connection.getresponse()
    assert response.status == 200, response.read(500)
    first = response.read1(65536)
    first_byte = time.perf_counter() - start
    size, features, tail = len(first), first.count(FEATURE), first[-32:]
    while chunk := response.read1(1 << 20):
        size += len(chunk)
        features += (tail + chunk).count(FEATURE) - tail.count(FEATURE)
        tail = chunk[-32:]
    total = time.perf_counter() - start
    connection.close()
    return first_byte, total, size, features


def anchor(params: dict, territory: int) -> tuple[float, int]:
    conninfo = (
        f"PG:host={params['host']} port={params['port']} user={params['user']} "
        f"dbname={params['dbname']}"
    )
    command = [
        "ogr2ogr",
        "-f",
        "GeoJSON",
        "/vsistdout/",
        conninfo,
        "-sql",
        ANCHOR_SQL.format(territory=territory),
        "-lco",
        "COORDINATE_PRECISION=7",
        "-lco",
        "WRITE_NAME=NO",
        "-nln",
        "pins",
    ]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    size, features, tail = 0, 0, b""
    while chunk := process.stdout.read(1 << 20):
        size += len(chunk)
        features += (tail + chunk).count(FEATURE) - tail.count(FEATURE)
        tail = chunk[-32:]
    process.wait()
    assert process.returncode == 0, process.stderr.read()[:500]
    return time.perf_counter() - start, features, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ogc", action="store_true", help="OGC API paging instead")
    parser.add_argument("--auth", choices=("bearer", "basic"), default="bearer")
    parser.add_argument("--budget", type=float, default=300.0, help="OGC paging, seconds")
    args = parser.parse_args()
    url, params = fresh_database(DATABASE)
    app = prepare(url)
    load_pins(params, args.pins)
    token, territory = make_token(app)
    version = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout
    print(f"machine: {os.cpu_count()} cores; Python {platform.python_version()}; {version.strip()}")
    port = free_port()
    server = start_gunicorn(url, port)
    if args.ogc:
        try:
            sql = ANCHOR_SQL.format(territory=territory)
            ogc_report(
                app,
                port,
                token,
                args,
                lambda: anchor(params, territory),
                explain=lambda offset: explain_deep_page(params, sql, offset),
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        return
    try:
        worker = worker_pid(server.pid)
        idle = peak_rss_mb(worker)
        results = []
        for _ in range(args.rounds):
            first_byte, total, size, features = ours(port, token)
            slow, anchor_features, anchor_size = anchor(params, territory)
            results.append((total, slow))
            print(
                f"ours: first byte {first_byte * 1000:.0f} ms, {total:.2f} s, "
                f"{size / 1e6:.0f} MB, {features:,} features | ogr2ogr: {slow:.2f} s, "
                f"{anchor_size / 1e6:.0f} MB, {anchor_features:,} features | "
                f"ratio ours/ogr2ogr {total / slow:.2f}"
            )
        peak = peak_rss_mb(worker)
    finally:
        server.terminate()
        server.wait(timeout=30)
    best_ours, best_anchor = min(r[0] for r in results), min(r[1] for r in results)
    ratio = best_ours / best_anchor
    print(
        f"best of {args.rounds}: ours {best_ours:.2f} s, ogr2ogr {best_anchor:.2f} s, "
        f"ratio {ratio:.2f} ({'meets' if ratio <= 1 else 'MISSES'} ≤ 1.0); worker RSS idle "
        f"{idle:.0f} MB, peak {peak:.0f} MB ({'meets' if peak < 150 else 'MISSES'} < 150 MB)"
    )


if __name__ == "__main__":
    main()
