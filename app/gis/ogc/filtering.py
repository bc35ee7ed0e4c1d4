"""CQL2 filters (OGC API – Features Part 3): parsed by pygeofilter, checked against the
collection's queryables, turned into a SQLAlchemy condition (points, quartiers) or a
Python predicate over the cached features (hexagons, hot spots).

**Public collections accept only what the public release allows.** Which properties a
filter may name is decided in :mod:`.queryables` (public: the published properties of
the published features); here every name is checked against that list, so a filter on a
public collection can only ever select among features everyone already sees.

pygeofilter's own SQLAlchemy backend runs on SQLAlchemy 2, but it checks no type and no
property, takes a geometry's CRS from the request (any SRID, straight to PostGIS), and
has nothing for the cached layers; so the checked AST is compiled here, by one walk with
two back-ends (:class:`SQL`, :class:`Python`). Supported: AND/OR/NOT, the six
comparisons, IS [NOT] NULL, LIKE, BETWEEN, IN, S_INTERSECTS and BBOX with any geometry
in CRS84. Anything else is a 400 naming ``filter``, never a 500: the text is bounded in
length, the tree in depth and size, lists and strings in length.
"""

from __future__ import annotations

import json
import math
import operator
import re
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path

import shapely
import sqlalchemy as sa
from flask_babel import gettext as _
from pygeofilter import ast, values

from app.analysis.filters import day_bound
from app.gis.ogc.collections import CRS84
from app.gis.ogc.queryables import Queryable

LANGS = ("cql2-text", "cql2-json", "cql-text")  # cql-text: GDAL 3.6 sends the draft's name
FILTER_CRS = (CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326")  # both lon, lat here
MAX_LENGTH = 8_000  # characters of a filter
MAX_DEPTH = 20  # nested conditions
MAX_NODES = 300  # predicates and literals
MAX_LIST = 500  # values of IN
MAX_TEXT = 500  # characters of one string
MAX_WILDCARDS = 8  # % of one LIKE pattern
MAX_VERTICES = 10_000
MAX_NUMBER = 1e15  # beyond any count, id or score here

OPS = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
FUNCTIONS = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class FilterError(ValueError):
    """A filter that cannot be used; its message is for the reader (French first)."""


# -- parsing ---------------------------------------------------------------------------------


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


@cache
def _text_parser():
    """pygeofilter's CQL2 text grammar, adapted: strings with ``''`` for a quote (as
    CQL2 and GDAL write them), one-letter property names (the hot spots' ``z``, ``p``,
    ``q``), CQL2's precedence of AND over OR, and no debug dumps in its errors."""
    from lark import Lark
    from pygeofilter.parsers import cql2_text
    from pygeofilter.parsers.cql2_text.parser import CQLTransformer

    class Transformer(CQLTransformer):
        def SINGLE_QUOTED(self, token):  # noqa: N802 (lark's terminal name)
            return token[1:-1].replace("''", "'")

    folder = Path(cql2_text.__file__).parent
    grammar = (folder / "grammar.lark").read_text()
    for original, adapted in (
        ('SINGLE_QUOTED: "\'" /.*?/ "\'"', "SINGLE_QUOTED: /'(?:[^']|'')*'/"),
        ("attribute: /[a-zA-Z][a-zA-Z_:0-9.]+/", "attribute: /[a-zA-Z][a-zA-Z_:0-9.]*/"),
        (_CONDITION, _CQL2_CONDITION),
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
            from pygeofilter.parsers.cql2_json import parse as parse_json

            return parse_json(json.loads(raw))
        return text.parse(raw)
    except (Exception, RecursionError) as exc:  # lark, json, pygeofilter: all bad input
        raise FilterError(_("Filtre CQL2 illisible : %(why)s", why=_reason(exc))) from None


def _reason(exc: Exception) -> str:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if line is not None and column is not None:
        return _("erreur ligne %(line)s, colonne %(column)s", line=line, column=column)
    return _("syntaxe inattendue")


# -- checking and compiling ------------------------------------------------------------------


def compile_filter(node, queryables: dict[str, Queryable], backend):
    """``node`` checked against ``queryables`` and compiled by ``backend``."""
    try:
        _check_size(node)
        return _Compiler(queryables, backend).condition(node, 0)
    except FilterError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError):  # a tree pygeofilter let by
        raise FilterError(
            _("Filtre CQL2 illisible : %(why)s", why=_("syntaxe inattendue"))
        ) from None


def _check_size(node) -> None:
    seen, stack = 0, [(node, 0)]
    while stack:
        current, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH or seen > MAX_NODES:
            raise FilterError(_("Filtre trop complexe."))
        children = current.get_sub_nodes() if isinstance(current, ast.Node) else None
        if isinstance(children, list):
            stack.extend((c, depth + 1) for c in children if isinstance(c, ast.Node))
        elif isinstance(children, ast.Node):
            stack.append((children, depth + 1))


class _Compiler:
    def __init__(self, queryables: dict[str, Queryable], backend):
        self.queryables = queryables
        self.backend = backend

    def condition(self, node, depth: int):
        if isinstance(node, ast.And | ast.Or):
            parts = [self.condition(node.lhs, depth + 1), self.condition(node.rhs, depth + 1)]
            return self.backend.combine(isinstance(node, ast.And), parts)
        if isinstance(node, ast.Not):
            return self.backend.negate(self.condition(node.sub_node, depth + 1))
        for kind, method in (
            (ast.Comparison, self.comparison),
            (ast.Between, self.between),
            (ast.In, self.member),
            (ast.Like, self.like),
            (ast.IsNull, self.is_null),
            (ast.GeometryIntersects, self.intersects),
            (ast.BBox, self.bbox),
        ):
            if isinstance(node, kind):
                return method(node)
        raise FilterError(_("Opération non prise en charge : %(op)s", op=_name(node)))

    def prop(self, node, geometry: bool = False) -> Queryable:
        if not isinstance(node, ast.Attribute):
            raise FilterError(_("Une propriété est attendue à gauche : %(op)s", op=_name(node)))
        found = self.queryables.get(node.name)
        if found is None:
            raise FilterError(
                _(
                    "Propriété inconnue ou non interrogeable ici : %(name)s ; "
                    "possibles : %(names)s.",
                    name=node.name[:100],
                    names=", ".join(self.queryables),
                )
            )
        if (found.type == "geometry") != geometry:
            raise FilterError(_("Type incompatible pour %(name)s.", name=found.name))
        return found

    def comparison(self, node):
        lhs, rhs, op = node.lhs, node.rhs, OPS[type(node)]
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
            lhs, rhs, op = rhs, lhs, FLIPPED[op]
        prop = self.prop(lhs)
        value = literal(prop, rhs)
        if isinstance(value, date) and not isinstance(value, datetime):
            start, end = _day(value)
            return self.backend.day(prop, op, start, end)
        return self.backend.compare(prop, op, value)

    def between(self, node):
        prop = self.prop(node.lhs)
        low, high = literal(prop, node.low), literal(prop, node.high)
        low = _day(low)[0] if _is_day(low) else low
        high = _day(high)[1] if _is_day(high) else high
        return self.backend.between(prop, low, high, node.not_)

    def member(self, node):
        prop = self.prop(node.lhs)
        if not isinstance(node.sub_nodes, list) or not 0 < len(node.sub_nodes) <= MAX_LIST:
            raise FilterError(_("IN : de 1 à %(n)d valeurs.", n=MAX_LIST))
        found = [literal(prop, v) for v in node.sub_nodes]
        if prop.type == "datetime":
            raise FilterError(_("IN ne s'applique pas aux dates."))
        return self.backend.member(prop, found, node.not_)

    def like(self, node):
        prop = self.prop(node.lhs)
        pattern = node.pattern
        if not prop.like:
            raise FilterError(_("LIKE ne s'applique pas à %(name)s.", name=prop.name))
        if not isinstance(pattern, str) or len(pattern) > MAX_TEXT:
            raise FilterError(_("LIKE : un motif texte est attendu."))
        if pattern.count("%") > MAX_WILDCARDS:
            raise FilterError(_("LIKE : %(n)d « %% » au plus.", n=MAX_WILDCARDS))
        return self.backend.like(prop, pattern, node.not_)

    def is_null(self, node):
        return self.backend.is_null(self.prop(node.lhs), node.not_)

    def intersects(self, node):
        lhs, rhs = node.lhs, node.rhs
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        return self.backend.intersects(self.prop(lhs, geometry=True), geometry(rhs))

    def bbox(self, node):
        if node.crs not in (None, "", "CRS84", "EPSG:4326"):
            raise FilterError(_("Géométries en CRS84 (longitude, latitude) seulement."))
        box = _box([node.minx, node.miny, node.maxx, node.maxy])
        return self.backend.intersects(self.prop(node.lhs, geometry=True), box)


def _name(node) -> str:
    return type(node).__name__ if isinstance(node, ast.Node) else repr(node)[:40]


def _is_day(value) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _day(value: date) -> tuple[datetime, datetime]:
    """A day of the towns' time zone as its first and last instant."""
    return day_bound(value, time.min), day_bound(value, time.max)


def literal(prop: Queryable, value):
    """``value`` as a value of ``prop``'s type, or :class:`FilterError`."""
    wrong = FilterError(
        _("Valeur de type %(type)s attendue pour %(name)s.", type=prop.type, name=prop.name)
    )
    if prop.type == "string":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise wrong
        if prop.enum and value not in prop.enum:
            raise FilterError(
                _(
                    "Valeurs possibles pour %(name)s : %(values)s.",
                    name=prop.name,
                    values=", ".join(prop.enum),
                )
            )
        return value
    if prop.type in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            raise wrong
        return value
    if prop.type == "datetime":
        return _moment(value, wrong)
    raise wrong


def _moment(value, wrong: FilterError):
    if isinstance(value, str):  # GDAL writes 'YYYY-MM-DDTHH:MM:SSZ' as a string
        try:
            value = (
                datetime.fromisoformat(value.replace("Z", "+00:00"))
                if "T" in value.upper()
                else date.fromisoformat(value)
            )
        except ValueError:
            raise wrong from None
    if isinstance(value, datetime):
        return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    raise wrong


def geometry(value):
    """A geometry literal as a shapely geometry in CRS84, or :class:`FilterError`."""
    if isinstance(value, values.Envelope):  # CQL2 JSON {"bbox": [w, s, e, n]}
        return _box([value.x1, value.x2, value.y1, value.y2])
    if isinstance(value, ast.Function) and value.name.lower() == "bbox":
        return _box(value.arguments)
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


def _box(numbers):
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


# -- back-ends ---------------------------------------------------------------------------------


class SQL:
    """Conditions on the columns named by ``columns`` (queryable name → SQL expression)."""

    def __init__(self, columns: dict):
        self.columns = columns

    def combine(self, conjunction: bool, parts):
        return sa.and_(*parts) if conjunction else sa.or_(*parts)

    def negate(self, part):
        return sa.not_(part)

    def compare(self, prop, op, value):
        return FUNCTIONS[op](self.columns[prop.name], _bound(prop, value))

    def day(self, prop, op, start, end):
        column = self.columns[prop.name]
        return {
            "=": column.between(start, end),
            "<>": sa.not_(column.between(start, end)),
            "<": column < start,
            "<=": column <= end,
            ">": column > end,
            ">=": column >= start,
        }[op]

    def between(self, prop, low, high, negated: bool):
        condition = self.columns[prop.name].between(_bound(prop, low), _bound(prop, high))
        return sa.not_(condition) if negated else condition

    def member(self, prop, found, negated: bool):
        condition = self.columns[prop.name].in_([_bound(prop, v) for v in found])
        return sa.not_(condition) if negated else condition

    def like(self, prop, pattern, negated: bool):
        condition = self.columns[prop.name].like(pattern, escape="\\")
        return sa.not_(condition) if negated else condition

    def is_null(self, prop, negated: bool):
        column = self.columns[prop.name]
        return column.is_not(None) if negated else column.is_(None)

    def intersects(self, prop, shape):
        other = sa.func.ST_GeomFromText(shape.wkt, 4326)
        return sa.func.ST_Intersects(self.columns[prop.name], other)


def _bound(prop: Queryable, value):
    """Numbers as NUMERIC parameters: ``workshop_id = 1.5`` must not be cast to 2, nor
    a large number overflow the column's type."""
    return sa.literal(value, sa.Numeric()) if prop.type in ("integer", "number") else value


class Python:
    """Predicates over GeoJSON features, in SQL's three-valued logic: a comparison with a
    null (a count the release does not state) is unknown, and so is its negation, so that
    ``NOT unsafe >= 3`` never selects the cells whose ``unsafe`` is hidden."""

    def combine(self, conjunction: bool, parts):
        def test(feature):
            found = [part(feature) for part in parts]
            if conjunction:
                return False if False in found else (None if None in found else True)
            return True if True in found else (None if None in found else False)

        return test

    def negate(self, part):
        return lambda feature: None if (v := part(feature)) is None else not v

    def compare(self, prop, op, value):
        return self._known(prop, lambda v: FUNCTIONS[op](v, value))

    def between(self, prop, low, high, negated: bool):
        return self._known(prop, lambda v: (low <= v <= high) != negated)

    def member(self, prop, found, negated: bool):
        return self._known(prop, lambda v: (v in found) != negated)

    def like(self, prop, pattern, negated: bool):
        regex = re.compile(_like_regex(pattern), re.DOTALL)
        return self._known(prop, lambda v: (regex.fullmatch(v) is not None) != negated)

    def is_null(self, prop, negated: bool):
        return lambda feature: (value(feature, prop.name) is None) != negated

    def intersects(self, prop, shape):
        return lambda feature: shapely.geometry.shape(feature["geometry"]).intersects(shape)

    def day(self, prop, op, start, end):  # no public or hexagon queryable is a date
        raise FilterError(_("Type incompatible pour %(name)s.", name=prop.name))

    @staticmethod
    def _known(prop, test):
        def run(feature):
            found = value(feature, prop.name)
            return None if found is None else test(found)

        return run


def value(feature: dict, name: str):
    """A property of a GeoJSON feature, ``id`` being the feature's id."""
    return feature["id"] if name == "id" else (feature.get("properties") or {}).get(name)


def _like_regex(pattern: str) -> str:
    """CQL2's LIKE (``%`` any run, ``_`` one character, ``\\`` escapes) as a regex."""
    parts, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "".join(parts)
