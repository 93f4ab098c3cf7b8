"""Dashboard pages. Every page is listed by ``st.navigation`` in app.py; helper modules live here too.

Streamlit falls back to its old pages/ auto-discovery until the server's first ``st.navigation``
call, so the first visitor of a fresh server who follows a deep link (``/run?run=...``) would get that
page run alone, without app.py. :func:`pages.services.require_app` turns the fallback off and reruns
such a visit through app.py.
"""


def disable_pages_directory_fallback() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
    except (ImportError, AttributeError):  # a Streamlit without this internal has no fallback to turn off
        pass


disable_pages_directory_fallback()
