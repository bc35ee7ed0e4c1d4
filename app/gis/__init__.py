"""For planners' GIS: file exports (:mod:`.exports`) and the OGC API Features endpoint
(:mod:`.ogc`)."""
