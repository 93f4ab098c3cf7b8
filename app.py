"""Unsupervised Lab: ``streamlit run app.py``."""

from pathlib import Path

import streamlit as st

from pages import access, services
from unsup_core.analysis.page_maps import start_umap_warm_up
from unsup_core.errors import UserError
from unsup_core.settings import check_environment

ASSETS = Path(__file__).parent / "assets"

# The icon is a local file: a material-icon name makes the browser fetch the favicon from a font host.
st.set_page_config(page_title="Unsupervised Lab", page_icon=str(ASSETS / "icon.svg"), layout="wide")
st.logo(str(ASSETS / "logo.svg"), icon_image=str(ASSETS / "icon.svg"))

navigation = st.navigation([
    st.Page(services.HOME_PAGE, title="Home", icon=":material/home:", default=True),
    st.Page(services.TRAIN_PAGE, title="Train", icon=":material/model_training:"),
    st.Page(services.RUN_PAGE, title="Run", icon=":material/monitoring:"),
    st.Page(services.RUNS_PAGE, title="Runs", icon=":material/list:"),
    st.Page(services.DATA_PAGE, title="Your data", icon=":material/upload_file:"),
    st.Page(services.COMPARE_PAGE, title="Compare", icon=":material/compare_arrows:"),
    st.Page(services.SOM_PAGE, title="SOM", icon=":material/grid_on:"),
])

try:  # a bad setting, or a lab on several machines without its database or Ray cluster: say so once
    check_environment()
    services.executor()
except UserError as error:
    st.error(str(error))
    st.stop()
# UMAP's numba code compiles once per server, in the background, so no click ever waits for it.
start_umap_warm_up()
access.identify()
with st.sidebar:
    services.sidebar_status(access.principal())
    access.teacher_login()

services.run_app(navigation)
