"""Errors a user can cause; the CLI and pages turn them into one clear message, never a traceback."""


class UserError(ValueError):
    """Bad input from a user: unknown name, malformed or out-of-range value, unusable file."""
