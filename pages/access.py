"""Who is using this browser, and what they may see and do (for a shared classroom server).

Outside shared mode there is one user and every control is available. In shared mode
(``UNSUP_LAB_SHARED=1``) each browser gets an id kept in a cookie, sees its own runs plus the runs a
teacher marked shared, and may have only a few active runs. Teacher controls (see and delete every
run, share runs) need the ``teacher_password`` from Streamlit secrets; without it nobody has them.
"""

from __future__ import annotations

import hmac
import secrets

import streamlit as st

from unsup_core.errors import UserError
from unsup_core.runs.store import RunRecord, RunStore
from unsup_core.settings import SharingSettings

USER_COOKIE = "unsup_lab_user"
_USER_KEY = "access.user"
_TEACHER_KEY = "access.teacher"


def settings() -> SharingSettings:
    return SharingSettings.from_env()


def current_user() -> str:
    """A stable id for this browser: from our cookie, else made now and stored in the cookie."""
    cookie = _cookie()
    user = cookie or st.session_state.get(_USER_KEY) or secrets.token_urlsafe(12)
    st.session_state[_USER_KEY] = user
    if cookie != user:
        # Streamlit cannot set cookies from Python; a one-line script in the page does it, so a reload
        # or a second tab of the same browser keeps this identity.
        st.html(f"<script>document.cookie = '{USER_COOKIE}={user}; path=/; max-age=31536000; SameSite=Lax';"
                "</script>", unsafe_allow_javascript=True)
    return user


def _cookie() -> str | None:
    value = st.context.cookies.get(USER_COOKIE)
    # Only plain tokens we made: the value is written back into a script.
    return value if isinstance(value, str) and value.replace("-", "").replace("_", "").isalnum() else None


def teacher_password() -> str | None:
    try:
        return st.secrets.get("teacher_password")
    except Exception:  # no secrets file at all: Streamlit raises rather than returning None
        return None


def is_teacher() -> bool:
    if not settings().shared and teacher_password() is None:
        return True
    return bool(st.session_state.get(_TEACHER_KEY))


def teacher_login() -> None:
    """Sidebar form for the teacher's password (only when one is configured)."""
    password = teacher_password()
    if password is None:
        return
    if st.session_state.get(_TEACHER_KEY):
        st.caption("Teacher controls on")
        if st.button("Leave teacher mode", key="access.logout"):
            st.session_state[_TEACHER_KEY] = False
            st.rerun()
        return
    with st.popover("Teacher"):
        attempt = st.text_input("Teacher password", type="password", key="access.password")
        if attempt:
            if hmac.compare_digest(attempt.encode(), str(password).encode()):
                st.session_state[_TEACHER_KEY] = True
                st.rerun()
            st.error("Wrong password.")


def visible_owner() -> str | None:
    """The owner whose runs to list (None: everyone's)."""
    return None if not settings().shared or is_teacher() else current_user()


def can_see(run: RunRecord) -> bool:
    owner = visible_owner()
    return owner is None or run.owner == owner or run.shared


def can_change(run: RunRecord) -> bool:
    """Cancel, resume, delete: the run's own session, or the teacher."""
    return is_teacher() or not settings().shared or run.owner == current_user()


def check_run_limit(store: RunStore) -> None:
    """Refuse a new run when this session already has its share of active runs."""
    limit = settings().max_active_runs_per_user
    if not limit:
        return
    mine = [run for run in store.list_runs(statuses=("queued", "running")) if run.owner == current_user()]
    if len(mine) >= limit:
        raise UserError(f"you already have {len(mine)} active runs (the limit on this server is {limit}); "
                        "wait for one to finish or cancel one")
