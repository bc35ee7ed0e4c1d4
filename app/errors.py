"""Error responses: JSON under /api and /ogc, a French (or English) page elsewhere."""

from __future__ import annotations

import sqlalchemy.exc as sa_exc
from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from werkzeug.exceptions import HTTPException

from app.extensions import db
from geo.errors import GeoError


class ValidationError(Exception):
    """Bad input: ``fields`` maps each offending field to what is wrong with it."""

    status = 422

    def __init__(self, fields: dict[str, str], message: str = "invalid input", status=None):
        super().__init__(message)
        self.fields = fields
        self.message = message
        if status is not None:
            self.status = status


JSON_PREFIXES = ("/api/", "/ogc", "/healthz")


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": code, "message": message, "fields": fields or {}}
        return jsonify(body), status
    if request_ctx.url_adapter is None:  # a refused Host: the page's links cannot be built
        return Response(message, mimetype="text/plain"), status
    try:
        page = render_template("error.html", status=status, message=message, fields=fields or {})
    except DATABASE_DOWN:  # the page's header reads the signed-in user from the database
        _forget_connection()
        g._login_user = AnonymousUserMixin()  # Flask-Login: do not load the user again
        page = render_template(
            "error.html", status=status, message=message, fields=fields or {}, offline_db=True
        )
    return page, status


# The database cannot be reached, is restarting, is out of disk or cancelled a statement:
# the request may succeed later, so 503 and Retry-After, never a 500 (DESIGN §7).
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError)

RETRY_AFTER = "5"  # seconds; the phone's queue waits this long before resending


def _forget_connection() -> None:
    """Roll back what the request half-did; on a dead connection that may fail too."""
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        db.session.close()


# How to authenticate, on every 401 (RFC 9110): a bearer token, or HTTP Basic with the
# token as the password (QGIS), so that clients know what to send.
CHALLENGES = ('Bearer realm="Ressenti"', 'Basic realm="Ressenti", charset="UTF-8"')


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        body, status = error_response(exc.code or 500, code, exc.description or exc.name)
        # Keep Retry-After, Allow, WWW-Authenticate…; our body has its own type.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        response = make_response(body, status)
        for name, value in headers:
            response.headers.add(name, value)
        if status == 401 and "WWW-Authenticate" not in response.headers:
            for challenge in CHALLENGES:  # one field per scheme: clients read the first
                response.headers.add("WWW-Authenticate", challenge)
        return response

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        return error_response(exc.status, "validation", exc.message, exc.fields)

    @app.errorhandler(GeoError)
    def geo_error(exc: GeoError):
        fields = {exc.field: exc.message} if exc.field else {}
        return error_response(exc.status, exc.code, exc.message, fields)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    def database_unavailable(exc: Exception):
        _forget_connection()
        app.logger.warning("database unavailable on %s: %s", request.path, exc.orig or exc)
        message = _("Service momentanément indisponible : réessayez dans quelques instants.")
        body, status = error_response(503, "unavailable", message)
        response = make_response(body, status)
        response.headers["Retry-After"] = RETRY_AFTER
        return response

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        # Never leak a stack trace; roll back whatever the request half-did.
        _forget_connection()
        app.logger.exception("unhandled error on %s", request.path)
        return error_response(500, "internal_error", "Internal server error")
