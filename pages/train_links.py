"""The Train form and its link: the setup an opened link gives, its locks, and the form written back as a link."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from unsup_core.form_links import DATA_PREFIX, RUN_KEYS, FormLink, controls, decode, encode, link_url, \
    without_defaults

LINK_KEY = "train.link"  # the setup the opened link gave (None: none), kept while the session lasts
LINK_PROBLEM_KEY = "train.link_problem"
WRITTEN_KEY = "train.written"  # the query parameters the page last wrote


def opened_link() -> FormLink | None:
    """The setup in the address, read whenever the address is not the one the page wrote itself."""
    params = st.query_params.to_dict()
    if params and params != st.session_state.get(WRITTEN_KEY):
        decoded = decode({key: st.query_params.get_all(key) for key in params})  # every value, to name repeats
        st.session_state[LINK_KEY] = decoded.link
        st.session_state[LINK_PROBLEM_KEY] = decoded.problem
    return st.session_state.get(LINK_KEY)


def _unlock() -> None:
    if (link := st.session_state.get(LINK_KEY)) is not None:
        st.session_state[LINK_KEY] = replace(link, hidden=(), fixed=())


def link_notes(link: FormLink | None) -> None:
    """What was wrong with the opened link (one sentence), and a way out of a lesson's locks."""
    if problem := st.session_state.pop(LINK_PROBLEM_KEY, None):
        st.warning(problem)
    if link is not None and (link.hidden or link.fixed):
        note, unlock = st.columns([4, 1], vertical_alignment="center")
        note.caption("This link hides or fixes some controls, as its lesson asks.")
        unlock.button("Show every control", on_click=_unlock)


def locks(link: FormLink | None, names: list[str], dataset: str, algorithm: str | None = None) -> dict:
    """Which of these controls the link hides and which it fixes: run controls always, dataset options
    while its dataset is chosen, config fields while its dataset and algorithm are."""
    def applies(name: str) -> bool:  # ``dataset`` and ``algorithm`` matter only for the names they own
        if name in RUN_KEYS:
            return True
        if name.startswith(DATA_PREFIX):
            return link.dataset == dataset
        return link.dataset == dataset and link.algorithm == algorithm

    if link is None:
        return {"hidden": [], "fixed": []}
    return {"hidden": [name for name in names if name in link.hidden and applies(name)],
            "fixed": [name for name in names if name in link.fixed and applies(name)]}


def control_values(link: FormLink) -> dict:
    """Every control's value, by the names links use."""
    return {**link.config, **{DATA_PREFIX + name: value for name, value in link.dataset_options.items()},
            "steps": link.steps, "seed": link.seed, "device": link.device}


def link_box(current: FormLink, hidden: list[str], fixed: list[str]) -> None:
    """Keep the address in step with the form, and offer the form as a link with chosen controls locked."""
    settable = controls(current.algorithm, current.dataset)
    options = {name: value for name, value in current.dataset_options.items() if DATA_PREFIX + name in settable}
    setup = without_defaults(replace(current, dataset_options=options))
    params = encode(replace(setup, hidden=tuple(hidden), fixed=tuple(fixed)))
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    st.session_state[WRITTEN_KEY] = params
    with st.expander("Copy link", icon=":material/link:"):
        st.caption("Whoever opens this link gets this form, filled as it is now (press *Update link* after "
                   "changing values). For a lesson, hide or fix controls: this guides a class, it does not lock "
                   "anything, since a link can be edited.")
        hide_column, fix_column = st.columns(2)
        to_hide = hide_column.multiselect("Hide in the link", settable, default=hidden, key="train.link_hide")
        to_fix = fix_column.multiselect("Fix in the link", [name for name in settable if name not in to_hide],
                                        default=[name for name in fixed if name not in to_hide], key="train.link_fix")
        url = link_url(st.context.url or "", replace(setup, hidden=tuple(to_hide), fixed=tuple(to_fix)))
        st.code(url, language=None, wrap_lines=True)
