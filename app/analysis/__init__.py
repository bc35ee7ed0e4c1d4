"""Analysis of the pins: stored count cells (:mod:`.cells`), the public release
(:mod:`.release`), layers and their API (:mod:`.layers`), and the staff dashboard
(:mod:`.dashboard`, its map in :mod:`.dashboard_map`)."""
