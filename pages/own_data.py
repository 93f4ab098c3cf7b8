"""A user's uploads as datasets on Train and SOM: the picker's entries, their preparation and their preview.

The picker's values are the store's own upload records (never a path from a form or the address); the
path a run gets is derived from the record, and ``access.start_run`` checks it again.
"""

from __future__ import annotations

import streamlit as st

from pages import access, services
from pages.data_input import options_key, prepare_section, prepared_dataset
from unsup_core.datasets import get_entry
from unsup_core.datasets.file_dataset import open_file
from unsup_core.datasets.files import readable_size
from unsup_core.errors import UserError
from unsup_core.runs.ownership import UploadRecord
from unsup_core.viz.datasets import dataset_preview

UPLOAD_PREFIX = "upload:"
NO_LABEL_NOTE = ("These images have no label, so generative runs show their samples, reconstructions and losses "
                 "but no sample-quality scores (those need a classifier trained on labels): zip the images in one "
                 "folder per class (then *folder* is the label) to get them.")


def visible_uploads() -> dict[str, UploadRecord]:
    """This user's uploads, newest first, then (in shared mode) files of runs the teacher shared."""
    store = services.store()
    owner = access.visible_owner()
    uploads = store.list_uploads(visible_to=owner)
    if owner is not None:
        mine = {upload.id for upload in uploads}
        uploads += [upload for upload in store.list_uploads() if upload.shared and upload.id not in mine]
    return {UPLOAD_PREFIX + upload.id: upload for upload in uploads if access.can_see(upload)}


def upload_label(upload: UploadRecord) -> str:
    kind = "image zip" if upload.name.lower().endswith(".zip") else "table"
    whose = "your" if access.current_user() in upload.owners or not access.settings().shared else "shared"
    return f"{upload.name}  ({whose} file: {kind}, {readable_size(upload.size)})"


def file_dataset(upload: UploadRecord, key_prefix: str) -> tuple[dict, str] | None:
    """The preparation widgets, a preview and the kind of data; returns (the file dataset's options, kind),
    or None after saying why the file cannot be used as prepared."""
    path = str(services.store().upload_path(upload))
    try:
        loaded = open_file({"path": path})
    except UserError as error:
        st.error(f"Cannot read {upload.name}: {error}")
        return None
    with st.container(border=True):  # not an expander: the SOM page draws this inside one
        st.caption("Preparation (by default as you last clustered this file on Your data)")
        options = prepare_section(loaded, path, key_prefix=key_prefix)
    try:
        kind = get_entry("file").kind_for(options)
        data, notes = prepared_dataset(options_key(options))
    except UserError as error:
        st.error(str(error))
        return None
    plural = "s" if data.n_features != 1 else ""
    st.caption(f"{data.n_samples:,} rows x {data.n_features} feature{plural}" + (
        f" ({' x '.join(map(str, data.image_shape))} images)" if data.kind == "images" else "") +
        ("" if not notes else ": " + "; ".join(notes)))
    st.plotly_chart(dataset_preview(data), key=f"{key_prefix}.preview")
    if kind == "images" and data.y is None:
        st.info(NO_LABEL_NOTE)
    return options, kind
