"""Analysis of the pins: request filters (:mod:`.filters`), counts in PostGIS
(:mod:`.counts`), stored count cells (:mod:`.cells`), density (:mod:`.density`), the
public release (:mod:`.release`), layers and their API (:mod:`.layers`), and the staff
dashboard (:mod:`.dashboard`, its map in :mod:`.dashboard_map`)."""
