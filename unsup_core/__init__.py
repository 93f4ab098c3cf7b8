"""Unsupervised Lab's library: datasets, algorithms, runs and figures, usable without Streamlit."""

__version__ = "0.1.0"
