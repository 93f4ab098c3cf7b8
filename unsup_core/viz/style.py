"""Layout settings shared by every figure."""

from __future__ import annotations

import plotly.express as px

CATEGORY_COLOURS = px.colors.qualitative.D3 + px.colors.qualitative.Pastel


def base_layout(title: str, height: int = 360) -> dict:
    # uirevision keeps zoom and hidden traces across live updates of the same chart.
    return {"title": {"text": title}, "height": height, "margin": {"l": 40, "r": 10, "t": 40, "b": 35},
            "uirevision": title, "legend": {"orientation": "h", "y": -0.15}}


def category_colour(index: int) -> str:
    return "#999999" if index < 0 else CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]
