"""Public pages: what residents said (aggregated, from the public release) and what was
done (:mod:`.views`)."""
