"""Home: what this is in two lines, three ways in, the built-in lessons, and how every model works."""

import streamlit as st

from pages import services
from unsup_core.algorithms import list_algorithms
from unsup_core.algorithms.catalogue import families
from unsup_core.form_links import encode
from unsup_core.lessons import LESSONS

services.require_app()

st.title("Unsupervised Lab")
st.markdown("Train real unsupervised models live on real data: clusterings, self-organizing maps, VAEs and GANs.  \n"
            "Watch them learn, read what each view means, and take the results away.")

learn, own_data, teach = st.columns(3, border=True)
with learn:
    st.subheader("Learn how a model works")
    st.caption("Pick a built-in dataset and a model, press Train and watch its curves, samples and maps change; "
               "or start from one of the lessons below.")
    st.page_link(services.TRAIN_PAGE, label="Train a model", icon=":material/model_training:")
with own_data:
    st.subheader("Cluster my own data")
    st.caption("Upload a table or a zip of images; see what was read, choose k, cluster and download the rows.")
    st.page_link(services.DATA_PAGE, label="Upload a file", icon=":material/upload_file:")
with teach:
    st.subheader("Run a class")
    st.caption("One server for the whole class: each student sees their own runs, the teacher shares runs "
               "with everyone (start the server with `UNSUP_LAB_SHARED=1`; see the README).")
    st.page_link(services.RUNS_PAGE, label="See the runs", icon=":material/list:")

st.header("Lessons")
st.caption("Each link opens Train set up for the lesson, with its seed: what it says to look for is what you "
           "will see (the project's tests check every claim). Use Train's *Copy link* to make your own.")
for lesson in LESSONS:
    with st.expander(lesson.title):
        st.markdown(f"**Try:** {lesson.try_this}  \n**Look for:** {lesson.look_for}")
        for column, lesson_link in zip(st.columns(len(lesson.links)), lesson.links):
            column.page_link(services.TRAIN_PAGE, label=f"Open: {lesson_link.label}", icon=":material/school:",
                             query_params=encode(lesson_link.form_link()))

st.header("How each model works")
for family, algorithms in families(list_algorithms()).items():
    st.subheader(family)
    for algorithm in algorithms:
        with st.expander(f"{algorithm.title}: {algorithm.summary}"):
            st.markdown(algorithm.explanation)
