"""Your data: upload a file, see what was read, prepare it, choose k, cluster, understand, export."""

import streamlit as st

from pages import access, services
from pages.data_cluster import CLUSTER_RUN_KEY, choose_k_section, cluster_section, show_clustering_progress
from pages.data_input import (DEFAULTS_KEY, PATH_KEY, options_key, prepare_section, prepared_dataset,
                              prepared_summary, report_section, upload_section)
from pages.data_results import export_section, understand_section
from unsup_core.datasets.file_dataset import open_file
from unsup_core.errors import UserError
from unsup_core.runs.store import RunNotFound, RunRecord
from unsup_core.text import markdown_text

store = services.store()

# A link to a clustering (?cluster=RUN_ID, set when one starts) reopens its file and preparation, for
# whoever may see that run; to anyone else it names no run at all.
if (reopened := st.query_params.get("cluster")) and st.session_state.get(CLUSTER_RUN_KEY) != reopened:
    try:
        run = store.get_run(reopened)
        if not access.can_see(run):
            raise RunNotFound(reopened)
        if run.spec.dataset == "file":
            st.session_state[PATH_KEY] = run.spec.dataset_options["path"]
            st.session_state.setdefault(DEFAULTS_KEY, {})[run.spec.dataset_options["path"]] = run.spec.dataset_options
            st.session_state[CLUSTER_RUN_KEY] = reopened
    except RunNotFound as error:
        st.query_params.pop("cluster")
        st.error(f"Cannot open that clustering: {error}.")


def own_runs() -> list[RunRecord]:
    """The user's own runs, newest first: the only ones this page reuses (maps, clusterings, outliers)."""
    return access.own_runs(store.list_runs(visible_to=access.visible_owner()))


st.title("Your data")
st.caption("Upload a table or images, check what was read, prepare it, let the lab suggest how many clusters, "
           "cluster it, see what sets each cluster apart, and take the results away.")

st.subheader("1. Upload")
path = upload_section()
if not path:
    st.info("Upload a file to start. Nothing leaves this machine.")
    st.stop()
try:
    loaded = open_file({"path": path})
except UserError as error:
    st.error(f"Cannot read the stored file any more: {error}")
    st.stop()

st.subheader(f"2. What was read from {markdown_text(loaded.report.file_name)}")
report_section(loaded)

st.subheader("3. Prepare")
options = prepare_section(loaded, path)
try:
    data, notes = prepared_dataset(options_key(options))
except UserError as error:
    st.error(str(error))
    st.stop()
prepared_summary(data, notes)
runs = own_runs()

st.subheader("4. How many clusters?")
choose_k_section(options, data, runs)

st.subheader("5. Cluster")
clustering = cluster_section(options, data, runs)
if clustering is None or not show_clustering_progress(clustering):
    st.stop()

st.subheader(f"6. Understand the clusters ({clustering.algorithm}, run {clustering.id})")
runs = own_runs()
figures = understand_section(options, data, clustering, runs)

st.subheader("7. Export")
export_section(options, data, clustering, own_runs(), figures)
