"""Workshops: coordinator views (:mod:`.views`), the resident page and pin API
(:mod:`.pinning`), pins, groups and their join codes, the synthesis report, the demo
workshop and comment retention."""
