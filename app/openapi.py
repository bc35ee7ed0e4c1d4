"""The OpenAPI 3.0 document of ``/api/v1`` and ``/ogc``, generated from the routes.

Paths, methods and path parameters come from Flask's URL map and the summary from each
view's docstring; each view declares its query parameters, body and responses with
:func:`operation`. Every response may also be an error (``default``): the JSON body of
:mod:`app.errors`. A route under those prefixes without a declaration fails a test.
"""

from __future__ import annotations

import re

from flask import Blueprint, Flask, current_app, jsonify

PREFIXES = ("/api/v1/", "/ogc")
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json"

bp = Blueprint("openapi", __name__)


def operation(
    *,
    tag: str,
    params: tuple = (),
    responses: dict | None = None,
    body: dict | None = None,
    secured: bool | str = False,
):
    """Declare a view's query parameters, JSON body and responses.

    ``responses`` maps a status to ``{media type: schema}``; ``secured`` names the
    bearer token (the session cookie works too, for pages of the same site), or is
    ``"optional"`` where anonymous callers get the public part.
    """

    def decorator(view):
        view.openapi = {
            "tag": tag,
            "params": params,
            "responses": responses or {200: {JSON: {"type": "object"}}},
            "body": body,
            "secured": secured,
        }
        return view

    return decorator


def query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    """A query parameter, passed as ``name=value``."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def text(pattern: str | None = None, enum: list | None = None, **extra) -> dict:
    schema = {"type": "string", **extra}
    if pattern:
        schema["pattern"] = pattern
    if enum:
        schema["enum"] = enum
    return schema


BINARY = {"type": "string", "format": "binary"}
CACHED_GEOJSON = {200: {GEOJSON: {"$ref": "#/components/schemas/FeatureCollection"}}, 304: {}}
_CONVERTERS = {"int": {"type": "integer"}, "uuid": {"type": "string", "format": "uuid"}}
_RULE_ARG = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def document(app: Flask) -> dict:
    """The whole OpenAPI document, built from ``app``'s URL map."""
    paths: dict[str, dict] = {}
    seen: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIXES) or rule.endpoint in seen:
            continue  # the second spelling of a path ("/ogc/") is not documented
        seen.add(rule.endpoint)
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None)
        if spec is None:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) has no OpenAPI declaration")
        path = _RULE_ARG.sub(r"{\3}", rule.rule)
        path_params = [
            {"name": name, "in": "path", "required": True, "schema": _path_schema(kind, args)}
            for kind, args, name in _RULE_ARG.findall(rule.rule)
        ]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view, spec, path_params)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Ressenti",
            "version": "1",
            "description": (
                "Perception points placed by residents in neighbourhood workshops, their "
                "aggregated layers, exports and an OGC API – Features endpoint."
            ),
            "license": {"name": "ODbL 1.0 (data)"},
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "rst_… token"}
            },
        },
    }


def _path_schema(converter: str, args: str) -> dict:
    if converter == "any":  # <any(a, b):name>
        return {"type": "string", "enum": [a.strip().strip("'\"") for a in args.split(",")]}
    return _CONVERTERS.get(converter, {"type": "string", "minLength": 1})


def _operation(rule, view, spec: dict, path_params: list) -> dict:
    doc = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
    responses = {
        str(status): {
            "description": doc if status < 300 else "",
            "content": {media: {"schema": schema} for media, schema in content.items()},
        }
        for status, content in spec["responses"].items()
    }
    responses["default"] = {
        "description": "Error: 4xx with the field at fault",
        "content": {JSON: {"schema": ref("Error")}},
    }
    result = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": doc,
        "tags": [spec["tag"]],
        "parameters": path_params + list(spec["params"]),
        "responses": responses,
    }
    if spec["body"] is not None:
        result["requestBody"] = {"required": True, "content": {JSON: {"schema": spec["body"]}}}
    if spec["secured"] == "optional":  # public data for all, more with a token
        result["security"] = [{}, {"token": []}]
    elif spec["secured"]:
        result["security"] = [{"token": []}]
    return result


@bp.get("/api/v1/openapi.json")
@operation(tag="meta", responses={200: {OPENAPI: {"type": "object", "required": ["openapi"]}}})
def openapi_json():
    """This OpenAPI 3.0 document."""
    response = jsonify(document(current_app))
    response.mimetype = OPENAPI
    return response


# -- schemas -------------------------------------------------------------------------------

_NULLABLE_TEXT = {"type": "string", "nullable": True}
_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
_GEOMETRY = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["Point", "Polygon", "MultiPolygon", "LineString", "MultiLineString"],
        },
        "coordinates": {"type": "array"},
    },
}

_PIN_REQUIRED = ("id", "feeling", "category", "time_of_day", "lon", "lat")
_PIN_FIELDS = {
    "id": {"type": "string", "format": "uuid"},
    "feeling": {"type": "string", "enum": ["unsafe", "safe"]},
    "category": {"type": "string"},
    "time_of_day": {"type": "string"},
    "comment": _NULLABLE_TEXT,
    "lon": {"type": "number"},
    "lat": {"type": "number"},
}

_BILINGUAL = {
    "type": "object",
    "properties": {"fr": {"type": "string"}, "en": {"type": "string"}},
}

_COUNT = {"type": "integer", "nullable": True}  # None: withheld (under the threshold)
_SHARE = {"type": "number", "nullable": True}
_ANSWERS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["key", "label", "count", "share"],
        "properties": {
            "key": {"type": "string"},
            "label": {"type": "string"},
            "count": _COUNT,
            "share": _SHARE,
        },
    },
}
_SURVEY_QUESTION = {
    "type": "object",
    "required": ["key", "kind", "label", "n", "answers", "by"],
    "properties": {
        "key": {"type": "string"},
        "kind": {"type": "string", "enum": ["single", "multiple", "scale"]},
        "section": {"type": "string"},
        "label": {"type": "string"},
        "n": _COUNT,
        "answers": _ANSWERS,
        "by": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "label", "rows"],
                "properties": {
                    "key": {"type": "string"},
                    "label": {"type": "string"},
                    "rows": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "label", "n", "answers"],
                            "properties": {
                                "key": {"type": "string"},
                                "label": {"type": "string"},
                                "n": _COUNT,
                                "answers": _ANSWERS,
                            },
                        },
                    },
                },
            },
        },
    },
}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error", "message", "fields"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Link": _LINK,
    "Feature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "geometry": {**_GEOMETRY, "nullable": True},
            "properties": {"type": "object", "nullable": True},
            "links": {"type": "array", "items": _LINK},
        },
    },
    "FeatureCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": ref("Feature")},
            "links": {"type": "array", "items": _LINK},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"},
            "message": {"type": "string"},
        },
    },
    "Pin": {
        "type": "object",
        "required": list(_PIN_REQUIRED),
        "properties": {
            **_PIN_FIELDS,
            "comment_status": _NULLABLE_TEXT,
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
        },
    },
    "PinInput": {"type": "object", "required": list(_PIN_REQUIRED), "properties": _PIN_FIELDS},
    "SurveySummary": {
        "type": "object",
        "required": ["id", "code", "title", "opens_on", "closes_on", "status"],
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "title": {"type": "string"},
            "opens_on": {"type": "string", "format": "date"},
            "closes_on": {"type": "string", "format": "date"},
            "time_zone": {"type": "string"},
            "status": {"type": "string", "enum": ["upcoming", "open", "closed"]},
        },
    },
    "Survey": {
        "allOf": [
            ref("SurveySummary"),
            {
                "type": "object",
                "required": ["questions", "token", "min_seconds"],
                "properties": {
                    "questions": {"type": "array", "items": ref("Question")},
                    "question_set": {"type": "object"},
                    "pins": {"type": "string", "description": "the map question's pin API"},
                    "token": {"type": "string", "description": "send it with the answers"},
                    "min_seconds": {"type": "number"},
                },
            },
        ]
    },
    "Question": {
        "type": "object",
        "required": ["key", "kind", "label", "options"],
        "properties": {
            "key": {"type": "string"},
            "kind": {"type": "string", "enum": ["single", "multiple", "scale", "text", "map"]},
            "section": {"type": "string", "enum": ["main", "profile"]},
            "required": {"type": "boolean"},
            "allow_other": {"type": "boolean"},
            "label": _BILINGUAL,
            "help": _BILINGUAL,
            "options": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"key": {"type": "string"}, "label": _BILINGUAL},
                },
            },
        },
    },
    "SurveyResponseInput": {
        "type": "object",
        "required": ["answers", "token"],
        "properties": {
            "answers": {
                "type": "object",
                "description": "question key: an option key (single, scale), a list of "
                'option keys with "other" for autre (multiple), a text (text), a list '
                "of pin UUIDs (map)",
            },
            "other": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": 'question key: the text of its "autre" answer',
            },
            "token": {"type": "string", "description": "the page token of GET /surveys/{code}"},
            "website": {"type": "string", "description": "leave empty (a bot trap)"},
        },
    },
    "SurveyResponse": {
        "type": "object",
        "required": ["id", "survey", "answers"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "survey": {"type": "string"},
            "answers": {"type": "object"},
            "texts": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string", "nullable": True},
            "updated_at": {"type": "string", "nullable": True},
        },
    },
    "Diagnostic": {
        "type": "object",
        "properties": {
            **dict.fromkeys(("troubles", "causes", "solutions", "residents_role"), _NULLABLE_TEXT),
            "proposals": {"type": "array", "items": {"type": "string"}},
        },
    },
    "LandingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": {"type": "array", "items": _LINK},
        },
    },
    "Conformance": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "Collection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
            "extent": {"type": "object"},
            "links": {"type": "array", "items": _LINK},
        },
    },
    "SurveyResults": {
        "type": "object",
        "required": ["survey", "exact", "k", "release", "respondents", "questions"],
        "properties": {
            "survey": {
                "type": "object",
                "required": ["id", "code", "title", "opens_on", "closes_on"],
                "properties": {
                    "id": {"type": "integer"},
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                    "opens_on": {"type": "string", "format": "date"},
                    "closes_on": {"type": "string", "format": "date"},
                },
            },
            "exact": {"type": "boolean"},
            "k": _COUNT,
            "release": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "made_at": {"type": "string"},
                    "final": {"type": "boolean"},
                    "epsilon": {"type": "number"},
                },
            },
            "respondents": _COUNT,
            "questions": {"type": "array", "items": _SURVEY_QUESTION},
            "pins_by_time": {"type": "object", "nullable": True},
            "texts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"question": {"type": "string"}, "text": {"type": "string"}},
                },
            },
        },
    },
    "SurveyComparison": {
        "type": "object",
        "required": ["a", "b", "exact", "questions"],
        "properties": {
            "a": {"type": "object"},
            "b": {"type": "object"},
            "exact": {"type": "boolean"},
            "questions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "label", "n_a", "n_b", "answers"],
                    "properties": {
                        "key": {"type": "string"},
                        "label": {"type": "string"},
                        "n_a": _COUNT,
                        "n_b": _COUNT,
                        "answers": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "key": {"type": "string"},
                                    "label": {"type": "string"},
                                    "share_a": _SHARE,
                                    "share_b": _SHARE,
                                    "count_a": _COUNT,
                                    "count_b": _COUNT,
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "Collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": {"type": "array", "items": _LINK},
            "collections": {"type": "array", "items": ref("Collection")},
        },
    },
}
