"""Pure figure builders: run data in, plotly figures out (no Streamlit, no I/O)."""

from unsup_core.viz import (  # noqa: F401  (each module registers its view builders)
    adversarial_views,
    anomaly_views,
    autoregressive_views,
    clustering_views,
    generative_views,
    selection_views,
    self_supervised_views,
    semi_supervised_views,
    som_views,
    tournament_views,
)
from unsup_core.viz.panels import Panel, RunView, build_panels, metric_panels, snapshot_panels

__all__ = ["Panel", "RunView", "build_panels", "metric_panels", "snapshot_panels"]
