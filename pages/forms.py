"""Widgets built from config field metadata, so every algorithm gets its form for free."""

from __future__ import annotations

from typing import Any, Collection

import streamlit as st

from unsup_core.config import FieldSpec, describe


def field_widget(spec: FieldSpec, key: str, default: Any = None, disabled: bool = False) -> Any:
    value = spec.default if default is None else default
    label = spec.name.replace("_", " ")
    common = {"help": spec.help, "key": key, "disabled": disabled}
    if spec.choices is not None:
        return st.selectbox(label, spec.choices, index=list(spec.choices).index(value), **common)
    if spec.type == "bool":
        return st.checkbox(label, value=bool(value), **common)
    if spec.type == "int":
        return st.number_input(label, min_value=None if spec.low is None else int(spec.low),
                               max_value=None if spec.high is None else int(spec.high),
                               value=int(value), step=int(spec.step or 1), **common)
    if spec.type == "float":
        return st.number_input(label, min_value=None if spec.low is None else float(spec.low),
                               max_value=None if spec.high is None else float(spec.high),
                               value=float(value), step=None if spec.step is None else float(spec.step),
                               format="%g", **common)
    return st.text_input(label, value=str(value), **common)


def fields_form(fields: list[FieldSpec], key_prefix: str, n_columns: int = 3, *, defaults: dict | None = None,
                hidden: Collection[str] = (), fixed: Collection[str] = ()) -> dict[str, Any]:
    """One widget per field, laid out in columns; returns {name: value} for every field.

    ``defaults`` replace the declared defaults (a link's values); ``hidden`` fields get no widget and
    keep their default, ``fixed`` ones are shown disabled.
    """
    defaults = defaults or {}
    shown = [spec for spec in fields if spec.name not in hidden]
    columns = st.columns(n_columns) if shown else []
    values = {spec.name: defaults.get(spec.name, spec.default) for spec in fields}
    for index, spec in enumerate(shown):
        with columns[index % n_columns]:
            values[spec.name] = field_widget(spec, f"{key_prefix}.{spec.name}", defaults.get(spec.name),
                                             disabled=spec.name in fixed)
    return values


def config_form(config_cls: type, key_prefix: str, n_columns: int = 3, **locks: Any) -> dict[str, Any]:
    """The form of an algorithm's config (see :func:`fields_form` for ``defaults``, ``hidden``, ``fixed``)."""
    return fields_form(describe(config_cls), key_prefix, n_columns, **locks)


def options_form(fields: list[FieldSpec], key_prefix: str, n_columns: int = 3, **locks: Any) -> dict[str, Any]:
    """Widgets for a dataset's declared options, bounded like its validation; returns {name: value}."""
    return fields_form(fields, key_prefix, n_columns, **locks)
