"""Benchmarks: they measure riftwatch and change nothing in it. Each runs as a module from the
repository root, e.g. ``python -m bench.run``."""
