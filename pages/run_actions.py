"""What a user can do with one run besides watching it: cancel, resume, clone, export, share.

Actions run in widget callbacks: a callback runs once, before the rerun, so a click is never lost to
a rerun and a new run can be opened straight away.
"""

from __future__ import annotations

import io

import streamlit as st

from pages import access, services
from pages.forms import field_widget
from unsup_core.algorithms import get_algorithm
from unsup_core.access import check_run_limit, require
from unsup_core.config import describe
from unsup_core.errors import UserError
from unsup_core.runs.archive import export_run
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunRecord, RunStore

ERROR_KEY = "run_actions.error"


def zip_download_button(store: RunStore, run_id: str) -> None:
    def build() -> bytes:  # runs only when clicked: a large run is not zipped on every rerun
        buffer = io.BytesIO()
        export_run(store, run_id, buffer)
        return buffer.getvalue()

    st.download_button("Export zip", build, file_name=f"{run_id}.zip", mime="application/zip",
                       key=f"export.{run_id}", help="Config, metrics, snapshots and checkpoint; Runs > Import reads it.")


def _cancel(run_id: str) -> None:
    require(access.principal(), "change", services.store().get_run(run_id))
    services.executor().cancel(run_id)
    st.toast("Cancel requested: the run stops after its current step.")


def _resume(run: RunRecord) -> None:
    steps = int(st.session_state[f"resume.steps.{run.id}"])
    try:
        store = services.store()
        run = store.get_run(run.id)
        require(access.principal(), "change", run)
        check_run_limit(store, access.principal())
        services.executor().resume(run.id, steps=steps if steps != run.steps else None)
    except UserError as error:
        st.session_state[ERROR_KEY] = str(error)


def run_controls(run: RunRecord, store: RunStore) -> None:
    """The row of buttons under a run's title."""
    row = st.container(horizontal=True, vertical_alignment="center")
    if not access.can_change(run):
        row.caption("This run belongs to another session: you can watch it.")
    elif run.is_active:
        row.button("Cancel", key=f"cancel.{run.id}", on_click=_cancel, args=(run.id,))
    elif store.checkpoint_path(run.id).exists():
        with row.popover("Resume"):
            st.number_input("total steps", min_value=run.step + 1,
                            value=run.steps * 2 if run.status == "done" else max(run.steps, run.step + 1),
                            key=f"resume.steps.{run.id}",
                            help="Resume continues from the last checkpoint; raise it to train further.")
            st.button("Resume from checkpoint", type="primary", key=f"resume.{run.id}", on_click=_resume,
                      args=(run,))
    with row:
        zip_download_button(store, run.id)
    if access.can_share() and row.toggle("Shared", value=run.shared, key=f"share.{run.id}",
                                          help="Shared runs are visible to every session.") != run.shared:
        store.set_shared(run.id, not run.shared)
        st.rerun()
    if error := st.session_state.pop(ERROR_KEY, None):
        st.error(error)


def _clone(run: RunRecord, field_names: list[str]) -> None:
    state = st.session_state
    try:
        spec = make_spec(run.algorithm, run.dataset, {name: state[f"clone.{run.id}.{name}"] for name in field_names},
                         steps=int(state[f"clone.{run.id}.steps"]), seed=int(state[f"clone.{run.id}.seed"]),
                         device=run.spec.device, dataset_options=run.spec.dataset_options)
        run_id = access.start_run(spec, parent_id=run.id)
    except UserError as error:
        state[ERROR_KEY] = str(error)
    else:
        services.open_run_on_next_rerun(run_id)


def clone_form(run: RunRecord) -> None:
    """Start a new run from this run's settings, with edits."""
    specs = describe(get_algorithm(run.algorithm).Config)
    with st.expander("Clone with edits"), st.form(f"clone.{run.id}"):
        columns = st.columns(3)
        for index, spec in enumerate(specs):
            with columns[index % 3]:
                field_widget(spec, f"clone.{run.id}.{spec.name}", default=run.spec.config.get(spec.name))
        st.number_input("steps", 1, value=run.spec.steps, key=f"clone.{run.id}.steps")
        st.number_input("seed", 0, value=run.spec.seed, key=f"clone.{run.id}.seed")
        st.form_submit_button("Start the clone", on_click=_clone, args=(run, [spec.name for spec in specs]))
