"""Soak: mixed load through the front for minutes, as `make run` serves (issue 16).

Run: ``.venv/bin/python bench/soak.py [--minutes 10] [--workers 3]``.

nginx (deploy/nginx-front.conf, app/front.py) in front of gunicorn
(deploy/gunicorn.conf.py, sync workers) on a fresh ``ressenti_soak`` database with
Rennes and an open workshop. Client threads, each with its own keep-alive connection:

* residents posting pins (new UUIDs, inside Le Blosne) and listing their table's pins;
* police reading dashboard layers (hexagons, density, hot spots) with changing filters;
* planners exporting the points (GeoJSON and CSV) and paging the OGC points.

Prints, per route: requests, errors (5xx, or a status the route should not give), p50
and p95; and the resident set size of every gunicorn worker at the start and at the
end, the same processes (worker recycling is off for the soak: it would hide a leak;
target: no error, growth < 10 %). Bounded: ``--minutes``, 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.front import LocalFront  # noqa: E402
from bench.benchdb import fresh_database, staff_token  # noqa: E402
from bench.ingest import (  # noqa: E402
    CATEGORIES,
    TIMES,
    free_port,
    machine,
    percentile,
    points_inside,
    prepare,
)

LAYERS = ("hexagons?full=1", "density?full=1", "hotspots?full=1")
FILTERS = ("", "&feeling=unsafe", "&time_of_day=night", "&category=lighting")
OK = {"pin": {201}, "list": {200}, "layer": {200, 422}, "export": {200}, "ogc": {200}}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, dict[int, int]] = {}

    def add(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.times.setdefault(route, []).append(seconds)
            if status not in OK[route]:
                bad = self.errors.setdefault(route, {})
                bad[status] = bad.get(status, 0) + 1


def client(port: int, role: str, stop_at: float, stats: Stats, code: str, token: str, points):
    rng = random.Random()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    auth = {"Authorization": f"Bearer {token}"}
    base = "/api/v1/territories/rennes"
    while time.monotonic() < stop_at:
        if role == "resident":
            lon, lat = points[rng.randrange(len(points))]
            body = {
                "id": str(uuid.uuid4()),
                "feeling": "unsafe",
                "comment": None,
                "category": rng.choice(CATEGORIES),
                "time_of_day": rng.choice(TIMES),
                "lon": lon,
                "lat": lat,
            }
            request = (
                "pin",
                "POST",
                f"/api/v1/groups/{code}/pins",
                json.dumps(body),
                {"Content-Type": "application/json"},
            )
            if rng.random() < 0.1:
                request = ("list", "GET", f"/api/v1/groups/{code}/pins", None, {})
        elif role == "police":
            path = f"{base}/layers/{rng.choice(LAYERS)}{rng.choice(FILTERS)}"
            request = ("layer", "GET", path, None, auth)
        else:
            path = rng.choice(
                (
                    f"{base}/pins.geojson",
                    f"{base}/pins.csv",
                    f"/ogc/collections/rennes-points/items?limit=1000&offset={rng.randrange(5)}000",
                )
            )
            request = ("ogc" if path.startswith("/ogc") else "export", "GET", path, None, auth)
        route, method, path, body, headers = request
        began = time.perf_counter()
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        stats.add(route, status, time.perf_counter() - began)
    connection.close()


def load(roles: list[str], until: float, stats: Stats, port: int, code, token, points) -> None:
    """One client thread per role until ``until``."""
    threads = [
        threading.Thread(target=client, args=(port, role, until, stats, code, token, points))
        for role in roles
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def worker_rss(master: int) -> dict[int, int]:
    """Resident set size (kB) of each gunicorn worker."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    found = {}
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                found[int(pid)] = int(line.split()[1])
    return found


def serve(url: str, workers: int) -> tuple[subprocess.Popen, LocalFront, int]:
    app_port, front_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RESSENTI_SECRET_KEY": "bench",
        "RESSENTI_PROXY_FIX": "true",
        "HOST": "127.0.0.1",
        "PORT": str(app_port),
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_LOGLEVEL": "warning",
        "RESSENTI_PIN_RATE_PER_CODE": "[1000000, 1]",
        "RESSENTI_PIN_RATE_PER_CLIENT": "[1000000, 1]",
        # The shipped config recycles a worker after ~2,000 requests, which would hide a
        # leak: the soak keeps the same workers from start to end.
        "GUNICORN_CMD_ARGS": "--max-requests 0",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "app:create_app()",
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    (ROOT / "var").mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="soak-front-", dir=ROOT / "var"))
    root.chmod(0o755)
    front = LocalFront(root, f"127.0.0.1:{front_port}", f"127.0.0.1:{app_port}")
    front.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", front_port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server, front, front_port
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the app did not answer through the front")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--residents", type=int, default=8)
    parser.add_argument("--police", type=int, default=3)
    parser.add_argument("--planners", type=int, default=1)
    args = parser.parse_args()
    url, params = fresh_database("ressenti_soak")
    code, _group_id = prepare(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    token, _rennes = staff_token(app, "rennes", "police")
    points = points_inside(5000)
    print(f"machine: {machine(params)}")
    server, front, port = serve(url, args.workers)
    stats = Stats()
    try:
        roles = (
            ["resident"] * args.residents + ["police"] * args.police + ["planner"] * args.planners
        )
        load(roles, time.monotonic() + 10, Stats(), port, code, token, points)  # warm-up
        before = worker_rss(server.pid)
        load(roles, time.monotonic() + args.minutes * 60, stats, port, code, token, points)
        after = worker_rss(server.pid)
    finally:
        front.stop()
        shutil.rmtree(front.root, ignore_errors=True)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    shape = f"nginx → gunicorn {args.workers} sync workers"
    print(f"{args.minutes:g} min, {len(roles)} clients through {shape}")
    for route, times in sorted(stats.times.items()):
        ordered = sorted(times)
        errors = stats.errors.get(route, {})
        p50, p95 = percentile(ordered, 50), percentile(ordered, 95)
        print(
            f"  {route:7s} {len(ordered):7d} requests, errors {errors or 0}, "
            f"p50 {p50:7.1f} ms, p95 {p95:7.1f} ms"
        )
    total_before, total_after = sum(before.values()), sum(after.values())
    growth = (total_after - total_before) / total_before
    print(
        f"  worker RSS: {total_before / 1024:.0f} MB → {total_after / 1024:.0f} MB "
        f"({growth:+.1%}; {len(set(before) & set(after))} of {len(before)} workers the same "
        "processes at both ends)"
    )
    failed = sum(sum(e.values()) for e in stats.errors.values())
    verdict = "meets" if not failed and growth < 0.10 else "MISSES"
    print(f"  target (no error, growth < 10 %): {verdict}")


if __name__ == "__main__":
    main()
