"""Framework-free geospatial core of Ressenti.

Nothing in this package imports Flask or ``app``: it works on numpy arrays, shapely
geometries, GeoDataFrames and explicit SQLAlchemy connections, and raises the errors
of :mod:`geo.errors`.
"""
