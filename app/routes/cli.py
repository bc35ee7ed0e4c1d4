"""``flask routes build``: (re)build a territory's walking graph from its streets."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.models import Territory
from app.routes import graph
from app.routes.circuits import refresh_circuits
from app.territories import places

routes_cli = AppGroup("routes", help="Walking routes (pgRouting).")


@routes_cli.command("build")
@click.option("--territory", "slug", required=True, help="Territory slug, e.g. rennes.")
def routes_build(slug: str) -> None:
    """(Re)build the territory's walking graph from its imported streets."""
    territory = places.get_territory(slug)
    if territory is None:
        raise click.ClickException(f"unknown territory {slug!r}")
    click.echo(build_and_report(territory))


def build_and_report(territory: Territory) -> str:
    """Build the graph, recompute the circuits on it, commit, and say what was built."""
    summary = graph.build(territory)
    done, failed = refresh_circuits(territory) if summary.edges else (0, [])
    db.session.commit()
    if not summary.edges:
        return f"{territory.slug}: no walkable street: import streets first (flask streets import)."
    line = (
        f"{territory.slug}: walking graph of {summary.nodes} nodes and {summary.edges} edges "
        f"from {summary.streets} streets; {summary.largest_share:.1%} of the edges in the "
        "largest connected component."
    )
    if done or failed:
        line += f" {done} circuit(s) recomputed."
    if failed:
        line += f" Kept as they were (no route on the new graph): {', '.join(failed)}."
    return line
