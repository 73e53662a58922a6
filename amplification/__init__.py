"""Amplification analysis: which channels pass on, mention, quote or attack which, found in
stored items and scores (edges) and near-duplicate texts; the store keeps what it finds."""
