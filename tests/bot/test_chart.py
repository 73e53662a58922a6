"""The trend chart: a real PNG from matplotlib's Agg canvas, with or without data."""

from __future__ import annotations

import io
from datetime import date, timedelta

from matplotlib.image import imread

from digest.chart import render_trend_png
from digest.model import DailyShare


def _share(day: int, blogger: int, news: int) -> DailyShare:
    return DailyShare(day=date(2026, 11, 1) + timedelta(days=day), blogger_count=blogger,
                      blogger_total=50, blogger_share=blogger / 50, news_count=news,
                      news_total=20, news_share=news / 20)


def test_trend_png_has_the_expected_size():
    png = render_trend_png([_share(day, day * 3, day % 2) for day in range(14)], "Against <MoD>")
    pixels = imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (440, 880)  # 8 x 4 inches at 110 dpi
    assert pixels[..., :3].std() > 0.05  # lines and text were drawn, not a blank canvas


def test_trend_png_without_data_still_renders():
    png = render_trend_png([], "Nothing yet")
    assert png.startswith(b"\x89PNG")
    assert len(png) > 2_000
