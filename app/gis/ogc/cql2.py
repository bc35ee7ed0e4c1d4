"""CQL2 read into pygeofilter's tree: JSON by pygeofilter's own parser, text by its
grammar adapted where it departs from CQL2 (quotes, one-letter names, AND before OR,
NOT of any condition) and from what GDAL 3.6 sends (ILIKE, its ``cql-text``). Any input
that is not CQL2 is a :class:`FilterError`, never an exception of the parser."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import shapely
from flask_babel import gettext as _
from lark import Lark, v_args
from pygeofilter import ast, values
from pygeofilter.parsers import cql2_text
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text.parser import CQLTransformer

from app.gis.ogc.collections import CRS84

LANGS = ("cql2-text", "cql2-json", "cql-text")  # cql-text: GDAL 3.6 sends the draft's name
FILTER_CRS = (CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326")  # both lon, lat here
MAX_LENGTH = 8_000  # characters of a filter
MAX_VERTICES = 10_000


class FilterError(ValueError):
    """A filter that cannot be used; its message is for the reader (French first)."""


# pygeofilter 0.4 gives AND and OR one precedence and takes NOT (…) of one predicate
# only; CQL2 binds AND tighter than OR and negates any condition.
_CONDITION = """?condition: condition_1
          | condition "AND"i condition_1                                 -> and_
          | condition "OR"i condition_1                                   -> or_

?condition_1: predicate
            | "NOT"i predicate                                               -> not_
            | "NOT"i "(" predicate ")"                                       -> not_
            | "(" condition ")"
"""
_CQL2_CONDITION = """?condition: conjunction
          | condition "OR"i conjunction -> or_

?conjunction: condition_1
          | conjunction "AND"i condition_1 -> and_

?condition_1: predicate
            | "NOT"i condition_1 -> not_
            | "(" condition ")"
"""


_LIKE = '          | expression "LIKE"i expression                                 -> like\n'


@cache
def _text_parser():
    """pygeofilter's CQL2 text grammar, adapted: strings with ``''`` for a quote (as
    CQL2 and GDAL write them), one-letter property names (the hot spots' ``z``, ``p``,
    ``q``), CQL2's precedence of AND over OR, and no debug dumps in its errors."""

    @v_args(inline=True)
    class Transformer(CQLTransformer):
        def SINGLE_QUOTED(self, token):  # noqa: N802 (lark's terminal name)
            return token[1:-1].replace("''", "'")

        def ilike(self, node, pattern):
            return ast.Like(node, pattern, True, "%", "_", "\\", False)

    folder = Path(cql2_text.__file__).parent
    grammar = (folder / "grammar.lark").read_text()
    for original, adapted in (
        ('SINGLE_QUOTED: "\'" /.*?/ "\'"', "SINGLE_QUOTED: /'(?:[^']|'')*'/"),
        ("attribute: /[a-zA-Z][a-zA-Z_:0-9.]+/", "attribute: /[a-zA-Z][a-zA-Z_:0-9.]*/"),
        (_CONDITION, _CQL2_CONDITION),
        (_LIKE, _LIKE + '          | expression "ILIKE"i expression -> ilike\n'),
    ):
        if original not in grammar:  # a pygeofilter whose grammar changed: look again
            raise RuntimeError(f"pygeofilter's CQL2 grammar changed: no {original}")
        grammar = grammar.replace(original, adapted)
    return Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=Transformer(),
        import_paths=[str(folder.parent)],
    )


def parse(raw: str, lang: str):
    """The AST of ``raw`` in ``lang``; :class:`FilterError` when it is not CQL2."""
    if len(raw) > MAX_LENGTH:
        raise FilterError(_("Filtre trop long (%(n)d caractères au plus).", n=MAX_LENGTH))
    text = None if lang == "cql2-json" else _text_parser()
    try:
        if text is None:
            return parse_json(json.loads(raw))
        return text.parse(raw)
    except (Exception, RecursionError) as exc:  # lark, json, pygeofilter: all bad input
        raise FilterError(_("Filtre CQL2 illisible : %(why)s", why=_reason(exc))) from None


def _reason(exc: Exception) -> str:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if line is not None and column is not None:
        return _("erreur ligne %(line)s, colonne %(column)s", line=line, column=column)
    return _("syntaxe inattendue")


# -- geometry literals ---------------------------------------------------------------------


def geometry(value):
    """A geometry literal as a shapely geometry in CRS84, or :class:`FilterError`."""
    if isinstance(value, values.Envelope):  # CQL2 JSON {"bbox": [w, s, e, n]}
        return bbox([value.x1, value.x2, value.y1, value.y2])
    if isinstance(value, ast.Function) and value.name.lower() == "bbox":
        return bbox(value.arguments)
    if not isinstance(value, values.Geometry) or "crs" in value.geometry:
        raise FilterError(_("Géométries en CRS84 (longitude, latitude) seulement."))
    try:
        shape = shapely.geometry.shape(value.geometry)
        points = shapely.get_coordinates(shape)
    except Exception:  # shapely's errors for bad coordinates are of several kinds
        raise FilterError(_("Géométrie illisible.")) from None
    if len(points) > MAX_VERTICES or not _in_crs84(points):
        raise FilterError(_("Géométries en CRS84 (longitude, latitude) seulement."))
    return shape


def bbox(numbers):
    if len(numbers) == 6:  # with heights: drop them
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(isinstance(n, int | float) for n in numbers):
        raise FilterError(_("BBOX : quatre nombres attendus (ouest, sud, est, nord)."))
    west, south, east, north = numbers
    if not (west <= east and south <= north and _in_crs84([[west, south], [east, north]])):
        raise FilterError(_("BBOX : quatre nombres attendus (ouest, sud, est, nord)."))
    return shapely.box(west, south, east, north)


def _in_crs84(points) -> bool:
    return all(
        math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90
        for x, y in ((p[0], p[1]) for p in points)
    )
