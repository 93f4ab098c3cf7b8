"""Unsupervised Lab: ``streamlit run app.py``."""

import streamlit as st

from pages import services

st.set_page_config(page_title="Unsupervised Lab", layout="wide")

navigation = st.navigation([
    st.Page(services.TRAIN_PAGE, title="Train", icon=":material/model_training:", default=True),
    st.Page(services.RUN_PAGE, title="Run", icon=":material/monitoring:"),
    st.Page(services.RUNS_PAGE, title="Runs", icon=":material/list:"),
    st.Page(services.DATA_PAGE, title="Your data", icon=":material/upload_file:"),
])

with st.sidebar:
    st.caption(f"Device: **{services.device_label()}**")
    active = services.store().list_runs(statuses=("queued", "running"))
    st.caption(f"Active runs: **{len(active)}**")

navigation.run()
