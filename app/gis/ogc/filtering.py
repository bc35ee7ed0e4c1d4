"""CQL2 filters (OGC API – Features Part 3): parsed by pygeofilter (:mod:`.cql2`),
checked against the collection's queryables, turned into a SQLAlchemy condition (points,
quartiers) or a Python predicate over the cached features (hexagons, hot spots).

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

import math
import operator
import re
from datetime import UTC, date, datetime, time

import shapely
import sqlalchemy as sa
from flask_babel import gettext as _
from pygeofilter import ast

from app.analysis.filters import day_bound
from app.gis.ogc.cql2 import FilterError, bbox, geometry
from app.gis.ogc.queryables import Queryable

MAX_DEPTH = 20  # nested conditions
MAX_NODES = 300  # predicates and literals
MAX_LIST = 500  # values of IN
MAX_TEXT = 500  # characters of one string
MAX_WILDCARDS = 8  # % of one LIKE pattern
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


# -- checking and compiling ------------------------------------------------------------------


def compile_filter(node, queryables: dict[str, Queryable], backend):
    """``node`` checked against ``queryables`` and compiled by ``backend``."""
    try:
        _check_size(node)
        return _Compiler(queryables, backend).condition(node)
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

    def condition(self, node):
        """The compiled ``node``; its depth was bounded by :func:`_check_size`."""
        if isinstance(node, ast.And | ast.Or):
            parts = [self.condition(node.lhs), self.condition(node.rhs)]
            return self.backend.combine(isinstance(node, ast.And), parts)
        if isinstance(node, ast.Not):
            return self.backend.negate(self.condition(node.sub_node))
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

    def prop(self, node, spatial: bool = False) -> Queryable:
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
        if (found.type == "geometry") != spatial:
            raise FilterError(_("Type incompatible pour %(name)s.", name=found.name))
        return found

    def comparison(self, node):
        lhs, rhs, op = node.lhs, node.rhs, OPS[type(node)]
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
            lhs, rhs, op = rhs, lhs, FLIPPED[op]
        prop = self.prop(lhs)
        value = literal(prop, rhs, exact=op in ("=", "<>"))
        if isinstance(value, date) and not isinstance(value, datetime):
            start, end = _day(value)
            return self.backend.day(prop, op, start, end)
        return self.backend.compare(prop, op, value)

    def between(self, node):
        prop = self.prop(node.lhs)
        low, high = literal(prop, node.low, False), literal(prop, node.high, False)
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
        if prop.type != "string":
            raise FilterError(_("LIKE ne s'applique pas à %(name)s.", name=prop.name))
        if not isinstance(pattern, str) or len(pattern) > MAX_TEXT:
            raise FilterError(_("LIKE : un motif texte est attendu."))
        if pattern.count("%") > MAX_WILDCARDS:
            raise FilterError(_("LIKE : %(n)d « %% » au plus.", n=MAX_WILDCARDS))
        return self.backend.like(prop, pattern, node.not_, node.nocase)

    def is_null(self, node):
        return self.backend.is_null(self.prop(node.lhs), node.not_)

    def intersects(self, node):
        lhs, rhs = node.lhs, node.rhs
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        return self.backend.intersects(self.prop(lhs, spatial=True), geometry(rhs))

    def bbox(self, node):
        if node.crs not in (None, "", "CRS84", "EPSG:4326"):
            raise FilterError(_("Géométries en CRS84 (longitude, latitude) seulement."))
        box = bbox([node.minx, node.miny, node.maxx, node.maxy])
        return self.backend.intersects(self.prop(node.lhs, spatial=True), box)


def _name(node) -> str:
    return type(node).__name__ if isinstance(node, ast.Node) else repr(node)[:40]


def _is_day(value) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _day(value: date) -> tuple[datetime, datetime]:
    """A day of the towns' time zone as its first and last instant."""
    return day_bound(value, time.min), day_bound(value, time.max)


def literal(prop: Queryable, value, exact: bool = True):
    """``value`` as a value of ``prop``'s type, or :class:`FilterError`; with ``exact``
    (=, <>, IN) one of the values ``prop`` may take."""
    wrong = FilterError(
        _("Valeur de type %(type)s attendue pour %(name)s.", type=prop.type, name=prop.name)
    )
    if prop.type == "string":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise wrong
        if exact and prop.enum and value not in prop.enum:
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

    def like(self, prop, pattern, negated: bool, nocase: bool = False):
        column = self.columns[prop.name]
        condition = (column.ilike if nocase else column.like)(pattern, escape="\\")
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
        decisive = not conjunction  # False decides an AND, True an OR

        def test(feature):
            unknown = False
            for part in parts:  # in order, stopping at the first decisive value
                found = part(feature)
                if found is decisive:
                    return decisive
                unknown = unknown or found is None
            return None if unknown else not decisive

        return test

    def negate(self, part):
        return lambda feature: None if (v := part(feature)) is None else not v

    def compare(self, prop, op, value):
        return self._known(prop, lambda v: FUNCTIONS[op](v, value))

    def between(self, prop, low, high, negated: bool):
        return self._known(prop, lambda v: (low <= v <= high) != negated)

    def member(self, prop, found, negated: bool):
        return self._known(prop, lambda v: (v in found) != negated)

    def like(self, prop, pattern, negated: bool, nocase: bool = False):
        regex = re.compile(_like_regex(pattern), re.DOTALL | (re.IGNORECASE if nocase else 0))
        return self._known(prop, lambda v: (regex.fullmatch(v) is not None) != negated)

    def is_null(self, prop, negated: bool):
        return lambda feature: (value(feature, prop.name) is None) != negated

    def intersects(self, prop, shape):
        return lambda feature: bool(shapely.geometry.shape(feature["geometry"]).intersects(shape))

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
