"""Perception-aware walking routes on pgRouting: the walking graph of each territory
(:mod:`graph`), the perception costs of its edges (:mod:`costs`), routes between places
(:mod:`planner`) and the routes API (:mod:`api`); circuits coordinators publish
(:mod:`circuits`) and the public routes page (:mod:`public`)."""
