"""Draw a theme's daily share among bloggers vs news as a PNG (matplotlib, Agg backend).

Plots given numbers only; never reads the store or computes shares.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure

from digest.model import DailyShare

BLOGGER_COLOUR = "#c0392b"
NEWS_COLOUR = "#2c3e50"


def render_trend_png(shares: Sequence[DailyShare], title: str, dpi: int = 110) -> bytes:
    """A line chart of blogger vs news share per day (percent), returned as PNG bytes.

    Uses a bare ``Figure`` with the Agg canvas, so it is safe off the main thread and
    leaves no global pyplot state behind.
    """
    figure = Figure(figsize=(8, 4), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    days = date2num([share.day for share in shares])
    axes.plot(days, [share.blogger_share * 100 for share in shares], marker="o",
              color=BLOGGER_COLOUR, label="bloggers")
    axes.plot(days, [share.news_share * 100 for share in shares], marker="s",
              color=NEWS_COLOUR, linestyle="--", label="news")
    axes.set_title(title)
    axes.set_ylabel("share of posts (%)")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
    axes.xaxis.set_major_formatter(DateFormatter("%d %b"))
    axes.legend(loc="upper left")
    if not shares:
        axes.text(0.5, 0.5, "no data in this period", transform=axes.transAxes,
                  ha="center", va="center", color="grey")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
