"""Figures as one self-contained HTML page (plotly.js inlined once, so it opens offline)."""

from __future__ import annotations

import html

import plotly.graph_objects as go


def figures_html(figures: list[go.Figure], title: str) -> str:
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>",
             f"<body style='font-family: sans-serif'><h1>{html.escape(title)}</h1>"]
    for index, figure in enumerate(figures):
        parts.append(figure.to_html(full_html=False, include_plotlyjs="inline" if index == 0 else False))
    parts.append("</body></html>")
    return "\n".join(parts)
