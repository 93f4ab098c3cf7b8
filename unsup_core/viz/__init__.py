"""Pure figure builders: run data in, plotly figures out (no Streamlit, no I/O)."""

from unsup_core.viz import clustering_views, generative_views, selection_views  # noqa: F401  (register view builders)
from unsup_core.viz.panels import Panel, RunView, build_panels, metric_panels, snapshot_panels

__all__ = ["Panel", "RunView", "build_panels", "metric_panels", "snapshot_panels"]
