"""The scorecard's trend chart: a small PNG shown inline in the e-mail.

Drawn with matplotlib's Agg backend in the same CJK font as the PDFs (Noto
Sans CJK SC from ``mplfonts``), without a timestamp or software tag, so the
same scores give the same bytes. Only the recipient's own scores are drawn.
matplotlib is imported on first use: it costs about half a second.
"""

from __future__ import annotations

import io
import math
from decimal import Decimal
from typing import Any

from notifications.documents import Language, TrendPoint
from notifications.formatting import format_points, period_label
from notifications.pdf import cjk_font_path

# Pixels: wide enough for eight periods, small enough for a phone screen.
WIDTH_INCHES, HEIGHT_INCHES, DPI = 6.0, 2.4, 100
LINE_COLOUR = "#1f5fa8"
# Scores are 0-100 points: a fixed axis keeps charts comparable over time.
SCORE_AXIS = (0, 100)


def trend_chart_png(
    trend: tuple[TrendPoint, ...], language: Language, title: str
) -> bytes:
    """The partner's score over ``trend`` as PNG bytes; gaps where unscored."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(fname=str(cjk_font_path()))
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    axes = figure.add_subplot()
    labels = [period_label(point.period, language) for point in trend]
    scores = [_plotted(point.score) for point in trend]
    axes.plot(labels, scores, marker="o", color=LINE_COLOUR)
    for label, point, score in zip(labels, trend, scores, strict=True):
        if point.score is not None:
            axes.annotate(
                format_points(point.score),
                (label, score),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontproperties=font,
                fontsize=8,
            )
    axes.set_ylim(*SCORE_AXIS)
    axes.set_title(title, fontproperties=font, fontsize=10)
    for tick in axes.get_xticklabels():
        tick.set_fontproperties(font)
        tick.set_fontsize(8)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata=_NO_METADATA)
    return buffer.getvalue()


# Matplotlib writes its version as "Software" unless told not to.
_NO_METADATA: dict[str, Any] = {"Software": None}


def _plotted(score: Decimal | None) -> float:
    # A chart position, not an amount: the printed scores stay Decimal. NaN
    # leaves a gap in the line where a period was not scored.
    return math.nan if score is None else float(score)
