"""Baseline maths: how far a window's theme rate stands above a reference rate, and how surely.

Pure functions on counts; never reads the store. The digest feeds it counts for the
bloggers' window, the same channels' previous N days, and the news feeds' window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import binom

SMOOTHING = 0.5  # pseudo-count added to each rate, so tiny counts cannot give huge ratios


@dataclass(frozen=True)
class Lift:
    """A window rate against a reference rate: ratio, two-proportion z and one-sided p."""

    count: int
    total: int
    reference_count: int
    reference_total: int
    lift: float
    z: float
    p_value: float

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def reference_share(self) -> float:
        return self.reference_count / self.reference_total if self.reference_total else 0.0


def smoothed_rate(count: int, total: int) -> float:
    return (count + SMOOTHING) / (total + 2 * SMOOTHING)


def two_proportion_z(count: int, total: int, ref_count: int, ref_total: int) -> float:
    """Pooled two-proportion z statistic (0 when either side is empty or the pool degenerate)."""
    if total == 0 or ref_total == 0:
        return 0.0
    pooled = (count + ref_count) / (total + ref_total)
    variance = pooled * (1 - pooled) * (1 / total + 1 / ref_total)
    if variance <= 0:
        return 0.0
    return (count / total - ref_count / ref_total) / math.sqrt(variance)


def binomial_p_value(count: int, total: int, reference_rate: float) -> float:
    """One-sided P(X >= count) for X ~ Binomial(total, reference_rate)."""
    if total == 0 or count == 0:
        return 1.0
    return float(binom.sf(count - 1, total, min(max(reference_rate, 1e-9), 1.0)))


def lift_against_baseline(count: int, total: int, ref_count: int, ref_total: int) -> Lift:
    """Lift of count/total over ref_count/ref_total with its z and exact binomial p-value."""
    reference_rate = smoothed_rate(ref_count, ref_total)
    return Lift(
        count=count,
        total=total,
        reference_count=ref_count,
        reference_total=ref_total,
        lift=smoothed_rate(count, total) / reference_rate,
        z=two_proportion_z(count, total, ref_count, ref_total),
        p_value=binomial_p_value(count, total, reference_rate),
    )


def is_spike(lift: Lift, min_lift: float, min_z: float, min_count: int) -> bool:
    """A spike needs all three: enough posts, a large enough ratio, and a large enough z."""
    return lift.count >= min_count and lift.lift >= min_lift and lift.z >= min_z
