"""OGC API – Features under ``/ogc``: the collections offered (:mod:`.collections`), the
items request read into plain arguments (:mod:`.params`), the features answered from
them (:mod:`.core`), and the thin Flask routes (:mod:`.routes`). Part 3: what a filter
may name (:mod:`.queryables`), CQL2 read (:mod:`.cql2`) and compiled (:mod:`.filtering`),
and the request's filter, sortby and properties applied (:mod:`.selection`)."""
