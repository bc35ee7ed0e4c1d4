"""The second anchor of bench/ingest.py: the least a Flask endpoint can do to store the
same pin row — read the JSON body, one INSERT through psycopg (autocommit, a connection
per thread, the category ids read once), answer 201 with the id. No validation, no rate
limit, no inside-the-quartiers check: the floor for a Python web app on this machine.

Served by gunicorn exactly as Ressenti is in the benchmark (``minimal_pin_app:create_app()``);
the database and the group come from BENCH_MINIMAL_* environment variables.
"""

from __future__ import annotations

import os
import threading

import psycopg
from flask import Flask, jsonify, request

INSERT = (
    "INSERT INTO pin (id, territory_id, workshop_id, group_id, feeling, category_id,"
    " time_of_day, comment, comment_status, geom, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,"
    " ST_SetSRID(ST_MakePoint(%s, %s), 4326), now(), now())"
)


def create_app() -> Flask:
    app = Flask(__name__)
    conninfo = os.environ["BENCH_MINIMAL_CONNINFO"]
    territory, workshop, group = (int(v) for v in os.environ["BENCH_MINIMAL_GROUP"].split(","))
    local = threading.local()
    with psycopg.connect(conninfo) as connection:
        categories = dict(connection.execute("SELECT code, id FROM category").fetchall())

    def connection() -> psycopg.Connection:
        if getattr(local, "connection", None) is None:
            local.connection = psycopg.connect(conninfo, autocommit=True)
        return local.connection

    @app.post("/api/v1/groups/<code>/pins")
    def create_pin(code: str):
        body = request.get_json()
        comment = body.get("comment")
        connection().execute(
            INSERT,
            (
                body["id"], territory, workshop, group, body["feeling"],
                categories[body["category"]], body["time_of_day"], comment,
                "pending" if comment else None, body["lon"], body["lat"],
            ),
        )  # fmt: skip
        return jsonify(id=body["id"]), 201

    return app
