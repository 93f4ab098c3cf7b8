"""Your data, first half: upload a file, show what was read, and choose how to prepare it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from pages import access, services
from unsup_core.datasets import Dataset, coerce_options, get_entry
from unsup_core.datasets.file_dataset import COLOUR_CHOICES, FILE_OPTION_LIMITS, FILE_OPTIONS, prepare_file
from unsup_core.datasets.files import readable_size
from unsup_core.datasets.prepare import (MISSING_CHOICES, SCALING_CHOICES, feature_choices, skewed_columns,
                                         suggested_label)
from unsup_core.datasets.report import LoadedFile, describe_delimiter
from unsup_core.datasets.uploads import add_upload
from unsup_core.errors import UserError
from unsup_core.settings import SharingSettings
from unsup_core.text import markdown_text
from unsup_core.viz.images import image_grid

PATH_KEY = "data.path"
ERROR_KEY = "data.upload_error"
DEFAULTS_KEY = "data.defaults"  # preparation to start from when a run is reopened
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet", "npy", "npz", "zip"]
MISSING_LABELS = {"median": "fill with the column median", "mean": "fill with the column mean",
                  "drop": "drop rows with a missing value"}
SCALING_LABELS = {"standard": "standard (mean 0, sd 1)", "minmax": "min-max (0 to 1)",
                  "robust": "robust (median 0, IQR 1)", "none": "none (keep the units)"}


def _on_upload() -> None:
    """Store and read the new file before the page reruns; on failure the previous file stays."""
    upload = st.session_state.get("data.upload")
    if upload is None:
        return
    try:
        path, _ = add_upload(upload.getvalue(), upload.name)
        services.store().record_upload(path, access.current_user())
    except UserError as error:
        st.session_state[ERROR_KEY] = (upload.name, str(error))
        return
    except OSError as error:  # the disk, not the file: say so in one sentence
        st.session_state[ERROR_KEY] = (upload.name, f"the server could not store it ({error.strerror})")
        return
    st.session_state.pop(ERROR_KEY, None)
    st.session_state[PATH_KEY] = str(path)


def _on_reopen() -> None:
    chosen = st.session_state.get("data.reopen")
    upload = services.store().upload_for_path(chosen) if chosen else None
    if upload is not None and access.can_see(upload):
        st.session_state.pop(ERROR_KEY, None)
        st.session_state[PATH_KEY] = chosen


def upload_section() -> str | None:
    """The file uploader and the list of earlier uploads; returns the current file's stored path."""
    st.file_uploader("A table (CSV, TSV, TXT, Excel .xlsx, Parquet, NumPy .npy/.npz) or a .zip of images",
                     type=UPLOAD_TYPES, key="data.upload", on_change=_on_upload,
                     max_upload_size=SharingSettings.from_env().max_upload_mb,
                     help="Delimiter, encoding, decimal commas and headers are detected; you will see what was "
                          "assumed. The file is kept in the lab's data folder so runs on it can be reopened.")
    current = st.session_state.get(PATH_KEY)
    if failed := st.session_state.get(ERROR_KEY):
        name, message = failed
        kept = f" {markdown_text(Path(current).name)} is still loaded." if current else ""
        st.error(f"Could not use {markdown_text(name)}: {markdown_text(message, 400)}.{kept}")
    store = services.store()
    mine = store.list_uploads(visible_to=access.visible_owner())
    earlier = {str(store.upload_path(upload)): upload for upload in mine if str(store.upload_path(upload)) != current}
    if earlier:
        st.selectbox("...or reopen a file uploaded before", [None, *earlier],
                     format_func=lambda p: "choose a file" if p is None else
                     f"{earlier[p].name} ({readable_size(earlier[p].size)})",
                     key="data.reopen", on_change=_on_reopen)
    return current


def report_section(loaded: LoadedFile) -> None:
    """Rows, columns and types, missing values, what was assumed, warnings and a preview."""
    report = loaded.report
    facts = [("rows", f"{report.n_rows:,}"), ("columns", str(report.n_columns)), ("format", report.format)]
    if report.encoding:
        facts += [("encoding", report.encoding), ("delimiter", describe_delimiter(report.delimiter) or "none"),
                  ("decimal mark", report.decimal or "."), ("thousands", report.thousands or "none")]
    if report.image_shape:
        facts.append(("image", " x ".join(map(str, report.image_shape))))
    st.markdown("  ·  ".join(f"{label}: **{value}**" for label, value in facts))
    for note in report.notes:
        st.caption(f"Assumed: {markdown_text(note, 400)}")  # notes and warnings quote the file's own names
    for warning in report.warnings:
        st.warning(markdown_text(warning, 400))
    if report.columns:
        columns = pd.DataFrame([{"column": c.name, "type": c.kind, "missing": c.missing, "distinct": c.distinct,
                                 "example": c.example} for c in report.columns])
        left, right = st.columns([2, 3])
        left.dataframe(columns, hide_index=True, key="data.columns")
        right.dataframe(loaded.table.head(100), key="data.preview")
    if loaded.images is not None:
        count = min(32, len(loaded.images))
        st.plotly_chart(image_grid(loaded.images[:count], f"The first {count} images", n_cols=8), key="data.images")


def _default(defaults: dict, name: str, fallback):
    return defaults.get(name, fallback) if defaults else fallback


def remembered_preparation(path: str) -> dict:
    """The preparation this user last clustered the stored file with on Your data ({}: none yet)."""
    store = services.store()
    upload = store.upload_for_path(path)
    remembered = upload and store.remembered_preparation(upload.id, access.current_user())
    return remembered or {}


def remember_preparation(options: dict) -> None:
    """Keep ``options`` as this user's preparation of its file, the default wherever they pick it again."""
    store = services.store()
    if (upload := store.upload_for_path(options.get("path", ""))) is not None:
        store.remember_preparation(upload.id, access.current_user(), options)


def prepare_section(loaded: LoadedFile, path: str, key_prefix: str = "data.prep") -> dict:
    """Widgets for the preparation; returns the file dataset's options.

    Defaults: a reopened run's preparation, else the one this user last clustered the file with.
    """
    defaults = st.session_state.get(DEFAULTS_KEY, {}).get(path) or remembered_preparation(path)
    prefix = f"{key_prefix}.{Path(path).parent.name}"
    report = loaded.report
    label_choices = [""] + [c.name for c in report.columns if c.kind != "text" and c.distinct <= 50]
    label = _default(defaults, "label", suggested_label(loaded))
    options = {**FILE_OPTIONS, "path": path}
    left, right = st.columns(2)
    options["label"] = left.selectbox(
        "Label column (optional)", label_choices, index=label_choices.index(label) if label in label_choices else 0,
        format_func=lambda name: name or "none", key=f"{prefix}.label",
        help="Known groups, e.g. a species or a segment. Used only to colour the map and to score the clusters "
             "(ARI/NMI), never to fit them.")
    if loaded.images is not None:
        sizes = FILE_OPTION_LIMITS["image_size"]["choices"]
        options["image_size"] = right.selectbox(
            "Image size", sizes, index=sizes.index(_default(defaults, "image_size", 0)), key=f"{prefix}.image_size",
            format_func=lambda size: f"{size} x {size}" if size else "automatic", help="Every image is centre-cropped "
            "to a square and resized to this many pixels a side; automatic takes the median side (8 to 48).")
        options["colour"] = left.selectbox("Colour", COLOUR_CHOICES, key=f"{prefix}.colour",
                                           index=COLOUR_CHOICES.index(_default(defaults, "colour", "auto")),
                                           help="auto keeps colour when any image has it.")
        return options
    # The label is never offered as a feature: it scores the clusters and must not shape them.
    usable = [c.name for c in report.columns if c.kind in ("numeric", "categorical") and c.name != options["label"]]
    choices = feature_choices(loaded, options["label"])
    chosen = _default(defaults, "features", None) or [choice.name for choice in choices if choice.used]
    features = right.multiselect(
        "Feature columns", usable, default=[name for name in chosen if name in usable], key=f"{prefix}.features",
        help="The columns the clustering compares rows by. Ids, row numbers, dates and years, constants, integer "
             "codes, mostly empty columns and free text are left out by default (see why below); add any back here.")
    left_out = [choice for choice in choices if not choice.used and choice.name != options["label"]]
    if left_out:
        with right.expander(f"Left out by default: {len(left_out)} column{'s' if len(left_out) != 1 else ''}, "
                            "and why", expanded=len(left_out) <= 6):
            st.markdown("\n".join(f"- **{markdown_text(choice.name)}**: {markdown_text(choice.reason)}"
                                   for choice in left_out))
    options["features"] = [name for name in features if name != options["label"]]
    numeric = [name for name in options["features"] if report.column(name).kind == "numeric"]
    one, two, three = st.columns(3)
    options["missing"] = one.selectbox(
        "Missing values", MISSING_CHOICES, format_func=MISSING_LABELS.get, key=f"{prefix}.missing",
        index=MISSING_CHOICES.index(_default(defaults, "missing", "median")))
    options["scaling"] = two.selectbox(
        "Scaling", SCALING_CHOICES, format_func=SCALING_LABELS.get, key=f"{prefix}.scaling",
        index=SCALING_CHOICES.index(_default(defaults, "scaling", "standard")),
        help="Puts numeric columns on a comparable scale so that no column dominates by its units. Robust scaling "
             "is less affected by extreme values.")
    options["one_hot"] = three.checkbox("One-hot encode categories", value=_default(defaults, "one_hot", True),
                                        key=f"{prefix}.one_hot",
                                        help="Each category becomes a 0/1 column, so text columns like a city can "
                                             "be features.")
    skewed = skewed_columns(loaded.table, numeric)
    options["log_columns"] = one.multiselect(
        "Log transform", numeric, default=[c for c in _default(defaults, "log_columns", []) if c in numeric],
        key=f"{prefix}.log", help="sign(x) log(1 + |x|): tames long right tails (incomes, counts). " +
        (f"Skewed here: {', '.join(skewed)}." if skewed else "No column is strongly skewed."))
    options["max_rows"] = int(two.number_input(
        "Use at most this many rows (0 = all)", 0, 10_000_000, int(_default(defaults, "max_rows", 0)), step=1000,
        key=f"{prefix}.max_rows", help="A random sample (always the same one) for a quicker first look."))
    return options


def options_key(options: dict) -> str:
    return json.dumps(options, sort_keys=True)


@st.cache_resource(show_spinner="Preparing the data...", max_entries=3)
def prepared_dataset(key: str) -> tuple[Dataset, list[str]]:
    """The prepared data for these options and what the preparation did (shared by sessions; read-only)."""
    return prepare_file(coerce_options(get_entry("file"), json.loads(key)))


def prepared_summary(data: Dataset, notes: list[str]) -> None:
    plural = "s" if data.n_features != 1 else ""
    shape = f"**{data.n_samples:,} rows x {data.n_features} feature{plural}** ready to cluster"
    st.success(shape + ("" if not notes else ": " + "; ".join(markdown_text(note, 400) for note in notes)))
    if data.kind == "table" and data.n_features > 1 and np.isclose(data.X.std(axis=0), 0).any():
        st.info("Some features are constant after preparation; they do not help the clustering.")
