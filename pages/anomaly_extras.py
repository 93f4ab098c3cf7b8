"""Outlier runs: move the threshold, see what it catches, take the scores away.

The run page's ``threshold_explorer`` section, which the outlier detectors declare; drawn outside
the live fragment so the slider keeps its position while the run updates.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages.live import render_panels
from pages.run_sections import register_section
from unsup_core.analysis.anomaly import detection_at, scores_table
from unsup_core.analysis.export import table_bytes
from unsup_core.runs.store import RunRecord, RunStore
from unsup_core.snapshots import OutlierSnapshot
from unsup_core.viz.anomaly_views import score_panels


@register_section("threshold_explorer")
def threshold_explorer(run: RunRecord, store: RunStore) -> None:
    latest = store.load_snapshot(run.id)
    if latest is None or "row_outlier_score" not in latest[1]:
        return
    step, arrays = latest
    scores = arrays["row_outlier_score"].astype(np.float64)
    st.subheader("Choose the threshold")
    st.caption(f"Scores of step {step:,}. Rows scoring above the threshold are flagged; the run flagged its "
               f"`share` ({run.spec.config.get('share')}). Move it and watch what is caught.")
    low, high = float(scores.min()), float(scores.max())
    threshold = st.slider("Threshold (flag rows scoring above it)", min_value=low, max_value=max(high, low + 1e-9),
                          value=min(max(float(arrays["threshold"]), low), high), step=max((high - low) / 500, 1e-9),
                          format="%.4g", key=f"anomaly.threshold.{run.id}")
    columns = st.columns(3)
    columns[0].metric("Flagged rows", f"{int((scores > threshold).sum()):,}", help=f"of {len(scores):,}")
    if "planted" in arrays:
        detection = detection_at(scores, arrays["planted"].astype(bool), threshold)
        columns[1].metric("Precision", f"{detection.precision:.2f}",
                          help="Share of flagged rows that are planted anomalies.")
        columns[2].metric("Recall", f"{detection.recall:.2f}", help="Share of planted anomalies that are flagged.")
    render_panels(score_panels(OutlierSnapshot.from_arrays(arrays), threshold), f"anomaly.{run.id}")
    st.download_button(
        "Download rows with scores (CSV)",
        data=lambda: table_bytes(scores_table(run.dataset, run.spec.dataset_options, scores, threshold), "csv"),
        file_name=f"{run.id}-outlier-scores.csv", mime="text/csv", key=f"anomaly.download.{run.id}",
        help="Every row of the data with outlier_score and is_outlier at this threshold.")
