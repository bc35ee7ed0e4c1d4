"""Error responses: JSON under /api and /ogc, a French (or English) page elsewhere."""

from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask.globals import request_ctx
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
    page = render_template("error.html", status=status, message=message, fields=fields or {})
    return page, status


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

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        # Never leak a stack trace; roll back whatever the request half-did.
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        return error_response(500, "internal_error", "Internal server error")
