"""Ressenti web application: ``create_app`` builds it in short named steps."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, has_request_context, request

from app import replica
from app.config import PROJECT_ROOT, Defaults, database_url
from app.extensions import babel, csrf, db, migrate

PACKAGE_DIR = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    """Create the Flask application.

    Settings come from :class:`app.config.Defaults`, then ``RESSENTI_*`` environment
    variables and ``DATABASE_URL``, then ``test_config``.
    """
    app = Flask(
        __name__,
        template_folder=str(_asset_dir("templates")),
        static_folder=str(_asset_dir("static")),
    )
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def _asset_dir(name: str) -> Path:
    """Top-level ``templates/``/``static/`` in a checkout, ``app/<name>`` in a wheel."""
    checkout = PROJECT_ROOT / name
    return checkout if checkout.is_dir() else PACKAGE_DIR / name


def configure(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("RESSENTI")
    url = database_url(os.environ)
    if url:
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if test_config:
        app.config.update(test_config)
    replica.configure(app, os.environ)
    hosts = app.config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):  # RESSENTI_TRUSTED_HOSTS="a.example.org, b.example.org"
        app.config["TRUSTED_HOSTS"] = [h for h in hosts.replace(",", " ").split() if h]
    app.config["USES_LOCALDB"] = "SQLALCHEMY_DATABASE_URI" not in app.config
    if app.config["USES_LOCALDB"]:
        from app.localdb import LocalCluster

        cluster = LocalCluster(Path(app.config["LOCALDB_DIR"]), app.config["LOCALDB_PORT"])
        app.config["SQLALCHEMY_DATABASE_URI"] = cluster.url(
            app.config.get("LOCALDB_NAME", "ressenti")
        )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _generated_secret(Path(app.config["LOCALDB_DIR"]))
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set: export RESSENTI_SECRET_KEY (a long random string); "
            "`make run` creates one in var/secret_key"
        )


def _generated_secret(var_dir: Path) -> str | None:
    """The key `make run` wrote to var/secret_key, if any."""
    try:
        return (var_dir / "secret_key").read_text().strip() or None
    except OSError:
        return None


def select_locale() -> str:
    """The visitor's language; outside a request (CLI, the OGC core called directly)
    the first of the app's languages, French."""
    languages = list(_app_languages())
    if not has_request_context():
        return languages[0]
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if wanted in languages:
        return wanted
    return request.accept_languages.best_match(languages) or languages[0]


def _app_languages():
    from flask import current_app

    return current_app.config["LANGUAGES"]


def register_extensions(app: Flask) -> None:
    from app import security, vocabulary
    from app.accounts.auth import login_manager

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    babel.init_app(app, locale_selector=select_locale)

    vocabulary.register(app)

    @app.context_processor
    def locale_context() -> dict:
        from flask_babel import get_locale

        return {"current_locale": lambda: str(get_locale() or "fr")}


def _migrations_dir() -> Path:
    checkout = PROJECT_ROOT / "migrations"
    return checkout if checkout.is_dir() else PACKAGE_DIR / "migrations"


def register_blueprints(app: Flask) -> None:
    from app import openapi
    from app.accounts import views as accounts
    from app.admin import views as admin
    from app.analysis import brief, dashboard, layers
    from app.followup import views as followup
    from app.gis import exports
    from app.gis.ogc import routes as ogc
    from app.gis.ogc import tileroutes  # noqa: F401  (its routes join the ogc blueprint)
    from app.public import views as public
    from app.routes import api as routes_api
    from app.routes import circuits
    from app.routes import public as itineraries
    from app.survey import public as survey_public
    from app.survey import results_views as survey_results
    from app.survey import views as survey
    from app.workshops import join, offline, pinning, reports
    from app.workshops import views as workshops

    blueprints = (
        public.bp,
        accounts.bp,
        admin.bp,
        join.bp,
        pinning.bp,
        workshops.bp,
        layers.bp,
        dashboard.bp,
        brief.bp,
        exports.bp,
        ogc.bp,
        followup.bp,
        reports.bp,
        openapi.bp,
        offline.bp,
        routes_api.bp,
        circuits.bp,
        itineraries.bp,
        survey.bp,
        survey_public.bp,
        survey_results.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
