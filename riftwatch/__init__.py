"""riftwatch: the command line and the wiring of pipeline, demo and service (no logic of its own
beyond starting the parts in order)."""
