"""Widgets built from config field metadata, so every algorithm gets its form for free."""

from __future__ import annotations

from typing import Any

import streamlit as st

from unsup_core.config import FieldSpec, describe


def field_widget(spec: FieldSpec, key: str, default: Any = None) -> Any:
    value = spec.default if default is None else default
    label = spec.name.replace("_", " ")
    if spec.choices is not None:
        return st.selectbox(label, spec.choices, index=list(spec.choices).index(value), help=spec.help, key=key)
    if spec.type == "bool":
        return st.checkbox(label, value=bool(value), help=spec.help, key=key)
    if spec.type == "int":
        return st.number_input(label, min_value=None if spec.low is None else int(spec.low),
                               max_value=None if spec.high is None else int(spec.high),
                               value=int(value), step=int(spec.step or 1), help=spec.help, key=key)
    if spec.type == "float":
        return st.number_input(label, min_value=None if spec.low is None else float(spec.low),
                               max_value=None if spec.high is None else float(spec.high),
                               value=float(value), step=None if spec.step is None else float(spec.step),
                               format="%g", help=spec.help, key=key)
    return st.text_input(label, value=str(value), help=spec.help, key=key)


def config_form(config_cls: type, key_prefix: str, n_columns: int = 3) -> dict[str, Any]:
    """One widget per config field, laid out in columns; returns {name: value}."""
    columns = st.columns(n_columns)
    values = {}
    for index, spec in enumerate(describe(config_cls)):
        with columns[index % n_columns]:
            values[spec.name] = field_widget(spec, f"{key_prefix}.{spec.name}")
    return values


def options_form(fields: list[FieldSpec], key_prefix: str, n_columns: int = 3) -> dict[str, Any]:
    """Widgets for a dataset's declared options, bounded like its validation; returns {name: value}."""
    columns = st.columns(n_columns)
    values = {}
    for index, spec in enumerate(fields):
        with columns[index % n_columns]:
            values[spec.name] = field_widget(spec, f"{key_prefix}.{spec.name}")
    return values
