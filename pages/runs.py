"""Runs: filter and sort every run; open, compare, export, share or delete the selected ones; import."""

import io
import logging
import time

import pandas as pd
import streamlit as st

from pages import access, services
from pages.live import format_seconds
from pages.run_actions import zip_download_button
from unsup_core.datasets import dataset_label
from unsup_core.errors import UserError
from unsup_core.runs.archive import import_run
from unsup_core.runs.executor import cancel_and_wait

services.require_app()

store = services.store()
st.title("Runs")
store.reconcile()
runs = store.list_runs(visible_to=access.visible_owner())


@st.dialog("Delete runs")
def confirm_delete(run_ids: list[str]) -> None:
    st.write(f"Delete {len(run_ids)} run(s) with their metrics, snapshots and checkpoints? This cannot be undone.")
    st.code("\n".join(run_ids))
    if st.button("Delete", type="primary", key="runs.delete.confirm"):
        for run_id in run_ids:
            run = store.get_run(run_id)
            if not access.can_change(run):
                continue
            try:
                if run.is_active:
                    cancel_and_wait(store, run_id)  # returns once the worker (or its Ray job) has ended
            except UserError as error:
                st.session_state["runs.table_version"] = st.session_state.get("runs.table_version", 0) + 1
                st.error(f"Run {run_id} was not deleted: {error}")
                return
            store.delete_run(run_id)
        # A new table widget: the old one's ticked row numbers would point at other runs now.
        st.session_state["runs.table_version"] = st.session_state.get("runs.table_version", 0) + 1
        st.rerun()


with st.expander("Import a run from a zip"):
    upload = st.file_uploader("Run archive (.zip made by Export)", type=["zip"], key="runs.import",
                              max_upload_size=access.settings().max_upload_mb,
                              help="The run becomes yours, with a new id; its settings are checked like a new run's.")
    if upload is not None and st.button("Import", key="runs.import.go"):
        try:
            imported = import_run(store, io.BytesIO(upload.getvalue()), owner=access.current_user())
        except UserError as error:
            st.error(str(error))
        except Exception as error:  # an archive is a stranger's file: never a traceback, but keep the why
            logging.getLogger(__name__).exception("import of %s failed", upload.name)
            st.error(f"This archive could not be imported ({type(error).__name__}); nothing was added.")
        else:
            st.success(f"Imported run {imported}.")
            runs = store.list_runs(visible_to=access.visible_owner())

# Finished runs Your data starts for its own views (maps, choose-for-me, outlier scores) are listed on request only.
helpers = [run for run in runs if run.spec.is_helper]
show_helpers = bool(helpers) and st.toggle(
    f"Show helper runs from Your data ({len(helpers)})", key="runs.helpers",
    help="Maps, choose-for-me tournaments and outlier scores that the Your data page started for its views. They "
         "are reused there; deleting one only means it is computed again when needed.")
if not show_helpers:  # a helper still going stays listed: what uses the machine is never hidden
    runs = [run for run in runs if not run.spec.is_helper or run.is_active]

if not runs:
    st.info("No runs yet: start one on the Train page." if not helpers else
            "Only helper runs from Your data so far: switch them on above to list them.")
    st.page_link(services.TRAIN_PAGE, label="Go to Train")
    st.stop()

status_column, algorithm_column, dataset_column, search_column = st.columns(4)
statuses = status_column.multiselect("Status", sorted({run.status for run in runs}))
algorithms = algorithm_column.multiselect("Algorithm", sorted({run.algorithm for run in runs}))
datasets = dataset_column.multiselect("Dataset", sorted({run.dataset for run in runs}))
search = search_column.text_input("Search id or config", placeholder="e.g. latent_dim")
shown = [run for run in runs
         if (not statuses or run.status in statuses) and (not algorithms or run.algorithm in algorithms)
         and (not datasets or run.dataset in datasets)
         and (not search or search.lower() in f"{run.id} {run.spec.config}".lower())]


def _metrics_text(run_id: str) -> str:
    return ", ".join(f"{name}={value:.4g}" for name, value in sorted(store.last_metrics(run_id).items()))


table = pd.DataFrame({
    "id": [run.id for run in shown],
    "status": [run.status for run in shown],
    "algorithm": [run.algorithm for run in shown],
    "dataset": [dataset_label(run.dataset, run.spec.dataset_options) for run in shown],
    "started": [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at)) if run.started_at else "-"
                for run in shown],
    "duration": [format_seconds(run.duration) for run in shown],
    "progress": [f"{run.step}/{run.steps}" for run in shown],
    "shared": [run.shared for run in shown],
    "last metrics": [_metrics_text(run.id) for run in shown],
})
if not access.settings().shared:  # nothing is shared outside shared mode: the column would only confuse
    table = table.drop(columns="shared")
if any(run.spec.is_helper for run in shown):
    table.insert(3, "helper for", ["Your data" if run.spec.is_helper else "" for run in shown])
st.caption(f"{len(shown)} of {len(runs)} runs. Click a column header to sort; select rows to act on them.")
selection = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="multi-row",
                         key=f"runs.table.{st.session_state.get('runs.table_version', 0)}.{show_helpers}")
chosen = [shown[row] for row in selection.selection.rows if row < len(shown)]

if not chosen:
    st.caption("Select one run to open or export it, several to compare them.")
    st.stop()

open_column, compare_column, export_column, share_column, delete_column = st.columns(5)
if len(chosen) == 1 and open_column.button("Open", type="primary"):
    st.switch_page(services.RUN_PAGE, query_params={"run": chosen[0].id})
if len(chosen) >= 2 and compare_column.button("Compare", type="primary"):
    st.switch_page(services.COMPARE_PAGE, query_params={"runs": ",".join(run.id for run in chosen)})
if len(chosen) == 1:
    with export_column:
        zip_download_button(store, chosen[0].id)
if access.can_share():
    make_shared = not all(run.shared for run in chosen)
    if share_column.button("Share with everyone" if make_shared else "Stop sharing"):
        for run in chosen:
            store.set_shared(run.id, make_shared)
        st.rerun()
deletable = [run.id for run in chosen if access.can_change(run)]
if deletable and delete_column.button(f"Delete {len(deletable)}"):
    confirm_delete(deletable)
