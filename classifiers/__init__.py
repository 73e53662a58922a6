"""Classifiers: the transformer model, its heads, scoring of stored items, baseline maths and
evaluation. Reads items and writes scores; never fetches or sends."""
