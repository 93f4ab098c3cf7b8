"""Every run-page figure drawn in Chromium at panel widths: screenshots, and the boxes that overlap.

Run pages draw two figures to a row, about 430 px wide each on a 1024 px window and 560 px on a
1280 px one. Each registered algorithm trains 3 steps on its small dataset (as in
tests/test_every_algorithm.py); its panels (and the threshold explorer's) are drawn with Streamlit's
plotly template, by the plotly.js the plotly package bundles, in Debian's /usr/bin/chromium. Printed
per figure and width: titles, legends, colour bars, axis titles and annotations that overlap each
other or the plot, or reach past the figure's edge ("ok" when none); the PNGs are written for a look.
The layout rules are tested without a browser in tests/test_figure_layout.py.

    python bench/figure_layout_shots.py OUT_DIR [--widths 430,560] [--algorithms kmeans som ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import plotly

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit.elements.lib.streamlit_plotly_theme as streamlit_theme  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.test_every_algorithm import NAMES, run_panels  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Boxes of the figure's parts in the page, named kind + index; "plot" is each subplot's drag area.
BOXES_JS = """() => {
  const figure = document.getElementById('figure'), found = [];
  const add = (kind, selector) => figure.querySelectorAll(selector).forEach((element, index) => {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) found.push([kind + index, [box.left, box.top, box.right, box.bottom]]);
  });
  add('title', '.g-gtitle .gtitle'); add('legend', '.legend .bg'); add('colorbar', '.colorbar');
  add('xtitle', '[class^="g-x"][class$="title"] text'); add('ytitle', '[class^="g-y"][class$="title"] text');
  add('annotation', '.annotation'); add('plot', '.nsewdrag'); add('xtick', '.xaxislayer-above .xtick text');
  add('button', '.updatemenu-button'); add('sliderrail', '.slider-rail-rect');
  add('slidervalue', '.slider-group > .slider-label');  // 'pixels drawn: 0' above the rail
  const edge = figure.querySelector('.main-svg').getBoundingClientRect();
  return {boxes: found, edge: [edge.left, edge.top, edge.right, edge.bottom]};
}"""
# Pairs that may touch: subplots, neighbouring ticks and buttons, annotations on the plot, ticks under it.
ALLOWED = {("plot", "plot"), ("xtick", "xtick"), ("annotation", "plot"), ("plot", "xtick"), ("button", "button")}


def run_figures(name: str) -> list[tuple[str, dict]]:
    return [(f"{name}.{index:02d}.{panel.key}", panel.figure.to_plotly_json())
            for index, panel in enumerate(run_panels(name, steps=3))]


def overlaps(boxes: list, edge: list) -> list[str]:
    found = [f"{kind} past the edge" for kind, box in boxes if not kind.startswith("plot")
             and (box[0] < edge[0] - 1 or box[1] < edge[1] - 1 or box[2] > edge[2] + 1 or box[3] > edge[3] + 1)]
    for index, (first, a) in enumerate(boxes):
        for second, b in boxes[index + 1:]:
            kinds = (first.rstrip("0123456789"), second.rstrip("0123456789"))
            if kinds in ALLOWED:
                continue
            if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1:
                found.append(f"{first} over {second}")
    return sorted(set(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--widths", default="430,560")
    parser.add_argument("--algorithms", nargs="*", default=NAMES)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    streamlit_theme.configure_streamlit_plotly_theme()  # what st.plotly_chart draws with
    bundle = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    page_file = args.out / "page.html"
    page_file.write_text(f"<html><head><script src='{bundle.as_uri()}'></script></head>"
                         "<body style='margin:0;background:white'><div id='figure'></div></body></html>")
    figures = [figure for name in args.algorithms for figure in run_figures(name)]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(page_file.as_uri())
        for label, figure in figures:
            for width in (int(width) for width in args.widths.split(",")):
                figure["layout"]["width"] = width
                page.evaluate("""(figure) => { const div = document.getElementById('figure'); Plotly.purge(div);
                                 div.style.width = figure.layout.width + 'px';
                                 return Plotly.newPlot(div, figure.data, figure.layout); }""", figure)
                found = page.evaluate(BOXES_JS)
                page.locator("#figure").screenshot(path=str(args.out / f"{label}.w{width}.png"))
                print(f"{label} {width} px: {', '.join(overlaps(found['boxes'], found['edge'])) or 'ok'}", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
