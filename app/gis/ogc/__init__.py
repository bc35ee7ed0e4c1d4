"""OGC API – Features under ``/ogc``: the collections offered (:mod:`.collections`), the
items request read into plain arguments (:mod:`.params`), the features answered from
them (:mod:`.core`), and the thin Flask routes (:mod:`.routes`)."""
