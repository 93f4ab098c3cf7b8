"""Who is using this browser; every question of what they may see or do goes to ``unsup_core.access``.

Identity: with ``[auth]`` in Streamlit's secrets, the account signed in through ``st.login``;
otherwise a browser id made by the server and kept in a cookie signed with the store's secret (a
forged or altered cookie is simply a new anonymous user). Teacher controls need the
``teacher_password`` from secrets (or an email listed in ``teacher_emails`` when accounts are used);
wrong passwords are slowed down and then locked out, per client and for the whole server.
"""

from __future__ import annotations

import hmac
import math

import streamlit as st

from pages import services
from unsup_core import access, identity
from unsup_core.access import LoginThrottle, Principal
from unsup_core.runs.ownership import UploadRecord
from unsup_core.runs.store import RunRecord
from unsup_core.settings import LoginLimits, SharingSettings

USER_COOKIE = "unsup_lab_user"
_USER_KEY = "access.user"
_TEACHER_KEY = "access.teacher"
_LOGIN_ERROR_KEY = "access.login_error"


def settings() -> SharingSettings:
    return SharingSettings.from_env()


@st.cache_resource(show_spinner=False)
def _secret(home: str) -> bytes:
    return identity.server_secret(home)


@st.cache_resource(show_spinner=False)
def _throttle() -> LoginThrottle:
    # One per server process: guesses from every session count together.
    limits = LoginLimits.from_env()
    return LoginThrottle(max_failures=limits.max_failures, lockout=limits.lockout_seconds)


@st.cache_resource(show_spinner=False)
def _teacher_browsers() -> set[str]:
    """Signed browser ids that entered the teacher password: a reload or a new tab keeps teacher mode."""
    return set()


def _secrets_get(name: str):
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets file at all: Streamlit raises rather than returning None
        return None


def accounts_configured() -> bool:
    return bool(_secrets_get("auth"))


def identify() -> str:
    """Who this browser is, found once per script run by app.py: the signed-in account, else the id in our
    signed cookie (made now, and the cookie written, if there is none or it does not verify)."""
    if accounts_configured():
        if not st.user.is_logged_in:
            st.title("Unsupervised Lab")
            st.write("This class server uses accounts: sign in to continue.")
            st.button("Sign in", type="primary", on_click=st.login)
            st.stop()
        user = identity.login_identity(st.user.to_dict()) or st.stop()
        st.session_state[_USER_KEY] = user
        return user
    secret = _secret(str(services.store().home))
    verified = identity.verify(st.context.cookies.get(USER_COOKIE), secret)
    user = verified or st.session_state.get(_USER_KEY) or identity.new_browser_id()
    st.session_state[_USER_KEY] = user
    if verified != user and user.startswith(identity.BROWSER_PREFIX):
        # Streamlit cannot set cookies from Python; a one-line script in the page does it, so a reload
        # or a second tab of the same browser keeps this identity. The value is [A-Za-z0-9_.-] only.
        st.html(f"<script>document.cookie = '{USER_COOKIE}={identity.sign(user, secret)}; path=/; "
                "max-age=31536000; SameSite=Strict';</script>", unsafe_allow_javascript=True)
    return user


def current_user() -> str:
    """This browser's user id, as :func:`identify` found it (kept server-side in the session)."""
    return st.session_state.get(_USER_KEY) or identify()


def teacher_password() -> str | None:
    return _secrets_get("teacher_password")


def is_teacher() -> bool:
    if not settings().shared and teacher_password() is None and not accounts_configured():
        return True  # one user on their own machine: every control is theirs
    if accounts_configured() and st.user.is_logged_in:
        teachers = _secrets_get("teacher_emails") or []
        if st.user.get("email") in teachers:
            return True
    return bool(st.session_state.get(_TEACHER_KEY)) or current_user() in _teacher_browsers()


def principal() -> Principal:
    return Principal(current_user(), teacher=is_teacher())


def _client_key() -> str:
    # Streamlit gives no address for local connections (a reverse proxy on this machine): those share
    # one key. Never the browser id, which a guesser renews by dropping the cookie.
    return st.context.ip_address or "local"


def _check_password() -> None:
    """Callback of the password box: runs once per entered value, so a rerun never counts as a guess."""
    attempt = st.session_state.get("access.password") or ""
    st.session_state["access.password"] = ""
    if not attempt:
        return
    throttle, client = _throttle(), _client_key()
    wait = throttle.retry_after(client)
    if wait > 0:
        st.session_state[_LOGIN_ERROR_KEY] = f"Too many wrong passwords: try again in {math.ceil(wait)} s."
    elif hmac.compare_digest(attempt.encode(), str(teacher_password()).encode()):
        throttle.record_success(client)
        st.session_state[_TEACHER_KEY] = True
        _teacher_browsers().add(current_user())
        st.session_state.pop(_LOGIN_ERROR_KEY, None)
    else:
        throttle.record_failure(client)
        st.session_state[_LOGIN_ERROR_KEY] = "Wrong password."


def _redeem_teacher_link() -> None:
    """``?teacher=TOKEN`` from `python -m unsup_core teacher-link`: teacher mode for this browser, once."""
    token = st.query_params.get("teacher")
    if token is None:
        return
    del st.query_params["teacher"]  # never left in the address bar or the history
    if services.store().redeem_teacher_link(token):
        st.session_state[_TEACHER_KEY] = True
        _teacher_browsers().add(current_user())
    else:
        st.error("That teacher link was already used or has expired: make a new one with "
                 "`python -m unsup_core teacher-link`.")


def teacher_login() -> None:
    """Sidebar form for the teacher's password (only when one is configured), and one-time teacher links."""
    _redeem_teacher_link()
    if teacher_password() is None and not st.session_state.get(_TEACHER_KEY):
        return
    if is_teacher():
        st.caption("Teacher controls on")
        if st.button("Leave teacher mode", key="access.logout"):
            st.session_state[_TEACHER_KEY] = False
            _teacher_browsers().discard(current_user())
            st.rerun()
        return
    with st.popover("Teacher"):
        st.text_input("Teacher password", type="password", key="access.password", on_change=_check_password)
        if error := st.session_state.get(_LOGIN_ERROR_KEY):
            st.error(error)


def visible_owner() -> str | None:
    """The owner whose runs and files to list (None: everyone's)."""
    return access.visible_to(principal(), settings())


def own_runs(runs: list[RunRecord]) -> list[RunRecord]:
    """Of ``runs``, those the current user owns: the only ones a page reuses as the user's own work."""
    return access.reusable_runs(principal(), runs)


def can_see(resource: RunRecord | UploadRecord) -> bool:
    return access.may(principal(), "see", resource, settings())


def can_change(resource: RunRecord | UploadRecord) -> bool:
    return access.may(principal(), "change", resource, settings())


def can_share() -> bool:
    """Sharing is a classroom feature: only in shared mode, only for the teacher."""
    return settings().shared and is_teacher()


def start_run(spec, parent_id: str | None = None) -> str:
    """Submit ``spec`` as this user's run, under every rule for new runs; returns the run id."""
    return access.submit_run(services.executor(), principal(), spec, parent_id=parent_id,
                             settings=settings()).run_id
