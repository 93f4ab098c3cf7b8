"""What a user can do with one run besides watching it: pause, step, play, change its learning rate,
cancel, resume, clone, export, share.

Actions run in widget callbacks: a callback runs once, before the rerun, so a click is never lost to
a rerun and a new run can be opened straight away.
"""

from __future__ import annotations

import io

import streamlit as st

from pages import access, services
from pages.forms import field_widget
from pages.live import shown_step_key
from unsup_core.algorithms import get_algorithm
from unsup_core.access import check_run_limit, require
from unsup_core.config import describe
from unsup_core.errors import UserError
from unsup_core.runs.archive import export_run
from unsup_core.runs.control import MAX_STEP_REQUEST, adjustable_fields, current_values
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


def _control(run_id: str, request: str, *args) -> None:
    """Pause, play or step: a request in the store that the worker reads between steps."""
    try:
        store = services.store()
        require(access.principal(), "change", store.get_run(run_id))
        getattr(store, request)(run_id, *args)
    except UserError as error:
        st.session_state[ERROR_KEY] = str(error)


def _step(run_id: str) -> None:
    # From the step the live status line shows (both pages that have Step draw it), so a click
    # delivered twice asks for the same step. Not from a step drawn with this button: the button is
    # drawn by the full rerun after Pause, often before the worker reaches the step it holds at.
    # Without a shown step the store counts from where the run holds.
    _control(run_id, "request_steps", int(st.session_state[f"step.count.{run_id}"]),
             st.session_state.get(shown_step_key(run_id)))


def _apply(run_id: str, names: list[str]) -> None:
    """Send the values that differ from those in force (one marker per real change)."""
    store = services.store()
    run = store.get_run(run_id)
    current = current_values(run.algorithm, run.spec.config, store.applied_changes(run_id))
    for name in names:
        value = st.session_state[f"adjust.{run_id}.{name}"]
        if value != current[name]:
            _control(run_id, "set_hyperparameter", name, value)


def pause_controls(row, run: RunRecord, store: RunStore) -> None:
    """Pause / Play, Step N and the learning rates (per network for GANs) of an active run."""
    control = store.control_state(run.id)
    if control.paused:
        row.button("Continue training", key=f"play.{run.id}", icon=":material/play_arrow:", on_click=_control,
                   args=(run.id, "request_play"), help="Train on from where it holds.")
    else:
        row.button("Pause training", key=f"pause.{run.id}", icon=":material/pause:", on_click=_control,
                   args=(run.id, "request_pause"),
                   help="Hold at the next step boundary. A paused run keeps its worker and its device slot "
                        "(the model stays in memory, so Step and Continue go on at once); Cancel frees the slot.")
    row.number_input("steps to take", min_value=1, max_value=MAX_STEP_REQUEST, value=10, step=1,
                     key=f"step.count.{run.id}", label_visibility="collapsed", width=110)
    row.button("Step", key=f"step.{run.id}", icon=":material/skip_next:", on_click=_step, args=(run.id,),
               help="Train on to this many steps past the step shown, then hold (pauses a playing run there).")
    fields = adjustable_fields(run.algorithm)
    if fields:
        labels = {a.name: a.label for a in get_algorithm(run.algorithm).adjustables}
        current = current_values(run.algorithm, run.spec.config, store.applied_changes(run.id))
        with row.popover("Learning rate" if len(fields) == 1 else "Learning rates"):
            for name, spec in fields.items():
                st.number_input(f"{labels[name]} ({name})", min_value=spec.low, max_value=spec.high,
                                value=current[name], step=spec.step or spec.low, format="%g",
                                key=f"adjust.{run.id}.{name}", help=spec.help)
            st.caption("Applied between two steps and marked on every curve; a resumed or exported run keeps it.")
            st.button("Apply", type="primary", key=f"adjust.{run.id}", on_click=_apply, args=(run.id, list(fields)))
    if control.paused:
        row.caption("Paused: it holds at a step boundary and keeps its device slot (Cancel frees it).")


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
        pause_controls(row, run, store)
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
