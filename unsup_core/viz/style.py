"""Layout settings shared by every figure.

Run pages draw figures two to a row, so a figure can be as narrow as 430 px (a 1024 px window).
Titles are wrapped to fit that width and the top margin grows with their lines; legends sit at the
bottom of the figure, below the x axis's title (plotly adds the legend's height to the margin the
axis needs), so neither can cover the title, the plot or the axis title.
"""

from __future__ import annotations

import textwrap

import plotly.express as px

CATEGORY_COLOURS = px.colors.qualitative.D3 + px.colors.qualitative.Pastel

TITLE_FONT_SIZE = 15
TITLE_LINE_PX = 20  # one line of a 15 px title, with plotly's line spacing
TITLE_PAD_PX = 8  # above the title, and between the title and the plot
# About 390 px of a 430 px panel at ~7.5 px per character (15 px Open Sans / DejaVu Sans, mixed case),
# less a few characters for wide letters.
TITLE_CHARS_PER_LINE = 46


def title_lines(title: str, width: int = TITLE_CHARS_PER_LINE) -> list[str]:
    """``title`` broken at spaces into lines of at most ``width`` characters (existing ``<br>`` kept)."""
    lines: list[str] = []
    for part in title.split("<br>"):
        lines += textwrap.wrap(part, width, break_long_words=False, break_on_hyphens=False) or [""]
    return lines


def title_margin(n_lines: int) -> int:
    """The top margin that holds a title of ``n_lines`` lines above the plot."""
    return 2 * TITLE_PAD_PX + n_lines * TITLE_LINE_PX + 6


def base_layout(title: str, height: int = 360) -> dict:
    lines = title_lines(title)
    top = title_margin(len(lines))
    return {
        # Centred in the margin made for its lines: plotly places a multi-line title's "top" and "bottom"
        # anchors as if it had one line (seen in plotly.js 4.1), which cuts its first line off the figure
        # or lays its last on the plot.
        "title": {"text": "<br>".join(lines), "font": {"size": TITLE_FONT_SIZE}, "xref": "container", "x": 0,
                  "xanchor": "left", "pad": {"l": 8}, "yref": "container", "yanchor": "middle",
                  "y": 1 - (TITLE_PAD_PX + len(lines) * TITLE_LINE_PX / 2) / height},
        "height": height, "margin": {"l": 40, "r": 10, "t": top, "b": 35},
        # Axes grow the margins to hold their tick labels and titles (Streamlit's template does not).
        "xaxis_automargin": True, "yaxis_automargin": True,
        # uirevision keeps zoom and hidden traces across live updates of the same chart.
        "uirevision": title,
        "legend": {"orientation": "h", "xref": "container", "x": 0, "xanchor": "left",
                   "yref": "container", "y": 0, "yanchor": "bottom"},
    }


def category_colour(index: int) -> str:
    return "#999999" if index < 0 else CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]
