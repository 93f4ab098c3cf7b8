"""Who a browser is: ids made by the server and signed with a secret kept in the store.

A cookie holds ``<id>.<signature>``. Only ids this server made and signed verify; a forged, altered or
copied-from-an-export value is not an identity, and the browser is treated as a new anonymous user.
The secret never leaves the store's folder (run exports hold no owner at all).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

SECRET_FILE = "server-secret.key"
BROWSER_PREFIX = "u-"
LOGIN_PREFIX = "login:"
OPERATOR = "cli"  # the person at the server's shell: the CLI's runs are theirs
_TOKEN = re.compile(r"u-[A-Za-z0-9_-]{22}")
_SIGNATURE_BYTES = 18


def server_secret(home: str | Path) -> bytes:
    """The store's signing secret, made on first use (readable by the server's user only)."""
    path = Path(home) / SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read_secret(path)
    with os.fdopen(handle, "wb") as stream:
        stream.write(secrets.token_bytes(32))
        stream.flush()
        os.fsync(stream.fileno())
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    secret = path.read_bytes()
    if len(secret) < 32:
        raise OSError(f"the server secret {path} is damaged; delete it (everyone gets a new identity)")
    return secret


def new_browser_id() -> str:
    return BROWSER_PREFIX + secrets.token_urlsafe(16)


def _signature(identity: str, secret: bytes) -> str:
    digest = hmac.new(secret, identity.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(identity: str, secret: bytes) -> str:
    """The cookie value for ``identity``."""
    return f"{identity}.{_signature(identity, secret)}"


def verify(token: object, secret: bytes) -> str | None:
    """The browser id in a cookie this server signed, else None (forged, altered, old or junk)."""
    if not isinstance(token, str) or len(token) > 100:
        return None
    identity, _, signature = token.partition(".")
    if not _TOKEN.fullmatch(identity):
        return None
    return identity if hmac.compare_digest(signature, _signature(identity, secret)) else None


def login_identity(user: dict) -> str | None:
    """The id of a user signed in through Streamlit's login (``st.user``): their stable subject or email."""
    subject = user.get("sub") or user.get("email")
    return f"{LOGIN_PREFIX}{subject}" if isinstance(subject, str) and subject else None
