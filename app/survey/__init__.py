"""Perception questionnaires: versioned question sets, questionnaires open between two
dates with a public link, one response per device, results from the public release."""
