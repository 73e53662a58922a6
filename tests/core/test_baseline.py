"""Baseline maths on constructed counts, checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from classifiers.baseline import (
    binomial_p_value,
    is_spike,
    lift_against_baseline,
    two_proportion_z,
)


def test_two_proportion_z_by_hand() -> None:
    # 12/40 vs 20/600: pooled p = 32/640 = 0.05; se = sqrt(.05·.95·(1/40+1/600))
    expected = (0.3 - 20 / 600) / math.sqrt(0.05 * 0.95 * (1 / 40 + 1 / 600))
    assert two_proportion_z(12, 40, 20, 600) == pytest.approx(expected)
    assert two_proportion_z(0, 0, 5, 10) == 0.0
    assert two_proportion_z(0, 10, 0, 10) == 0.0


def test_binomial_tail_by_hand() -> None:
    # P(X >= 2), X ~ Bin(3, 0.5) = 3/8 + 1/8
    assert binomial_p_value(2, 3, 0.5) == pytest.approx(0.5)
    assert binomial_p_value(0, 3, 0.5) == 1.0


def test_lift_is_smoothed_so_tiny_counts_do_not_explode() -> None:
    tiny = lift_against_baseline(1, 1, 0, 0)
    # (1 + .5) / (1 + 1) over (0 + .5) / (0 + 1): a bounded 1.5, not 1/0
    assert tiny.lift == pytest.approx(1.5)
    assert tiny.z == 0.0
    big = lift_against_baseline(12, 40, 20, 600)
    assert big.lift == pytest.approx((12.5 / 41) / (20.5 / 601))
    assert big.share == pytest.approx(0.3)
    assert big.reference_share == pytest.approx(1 / 30)
    assert big.p_value < 1e-6


def test_spike_needs_count_lift_and_z() -> None:
    strong = lift_against_baseline(12, 40, 20, 600)
    assert is_spike(strong, min_lift=2.0, min_z=2.0, min_count=3)
    assert not is_spike(strong, min_lift=2.0, min_z=2.0, min_count=13)
    few = lift_against_baseline(2, 3, 1, 100)
    assert few.lift > 2
    assert not is_spike(few, min_lift=2.0, min_z=2.0, min_count=3)
    flat = lift_against_baseline(30, 300, 100, 1000)
    assert not is_spike(flat, min_lift=2.0, min_z=2.0, min_count=3)
