"""Perception-aware walking routes (pgRouting): the graph, its costs, the planner and
its API, circuits and the public routes page."""
