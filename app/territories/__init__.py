"""Territories and their places: lookups, quartier features, bounds, quartier and street
storage (:mod:`.places`), and the base map every page draws them on (:mod:`.maps`)."""
