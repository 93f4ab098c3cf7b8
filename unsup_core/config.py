"""Typed configuration dataclasses whose field metadata drives forms, the CLI and validation.

An algorithm's ``Config`` is a plain dataclass; each field is declared with :func:`param`, which
records the range, step, choices and help text. Pages build widgets from :func:`describe`, the CLI
parses ``key=value`` strings with :func:`build`, and both get the same validation and messages.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any

from unsup_core.errors import UserError


class ConfigError(UserError):
    """A user-supplied configuration value is unknown, malformed or out of range."""


MAX_SEED = 2**32 - 1  # numpy's legacy RandomState and scikit-learn refuse seeds that need more than 32 bits


def param(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    step: float | None = None,
    choices: tuple | None = None,
    log: bool = False,
    help: str = "",
) -> Any:
    """Declare a config field with its allowed range (inclusive) or choices and a help text."""
    metadata = {"low": low, "high": high, "step": step, "choices": choices, "log": log, "help": help}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class FieldSpec:
    """Everything a form or a CLI needs to know about one config field."""

    name: str
    type: str  # "int", "float", "bool" or "str"
    default: Any
    low: float | None
    high: float | None
    step: float | None
    choices: tuple | None
    log: bool
    help: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def admits(self, value: Any) -> bool:
        if self.choices is not None:
            return value in self.choices
        return ((self.low is None or value >= self.low) and (self.high is None or value <= self.high))

    def allowed(self) -> str:
        """The values this field takes, as a phrase: 'an integer from 10 to 200,000'."""
        if self.choices is not None:
            return "one of " + ", ".join(str(choice) for choice in self.choices)
        if self.type == "bool":
            return "true or false"
        if self.type == "str":
            return "a text"
        noun = "an integer" if self.type == "int" else "a number"
        if self.low is not None and self.high is not None:
            return f"{noun} from {self.low:,} to {self.high:,}"
        if self.low is not None:
            return f"{noun} of at least {self.low:,}"
        return noun if self.high is None else f"{noun} of at most {self.high:,}"


_TYPE_NAMES = {int: "int", float: "float", bool: "bool", str: "str"}


def describe(config_cls: type) -> list[FieldSpec]:
    """The fields of a config dataclass, in declaration order."""
    hints = typing.get_type_hints(config_cls)
    specs = []
    for field in dataclasses.fields(config_cls):
        meta = field.metadata
        specs.append(
            FieldSpec(
                name=field.name,
                type=_TYPE_NAMES[hints[field.name]],
                default=field.default,
                low=meta.get("low"),
                high=meta.get("high"),
                step=meta.get("step"),
                choices=meta.get("choices"),
                log=bool(meta.get("log", False)),
                help=meta.get("help", ""),
            )
        )
    return specs


def parse_value(spec: FieldSpec, raw: Any) -> Any:
    """Turn a CLI string (or an already typed value) into the field's type."""
    if spec.type == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{spec.name} must be true or false, got {raw!r}")
    if spec.type == "int":
        if isinstance(raw, bool):
            raise ConfigError(f"{spec.name} must be an integer, got {raw!r}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{spec.name} must be an integer, got {raw!r}") from None
        if not value.is_integer():
            raise ConfigError(f"{spec.name} must be an integer, got {raw!r}")
        return int(value)
    if spec.type == "float":
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{spec.name} must be a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise ConfigError(f"{spec.name} must be a finite number, got {raw!r}")
        return value
    return str(raw)


def _check_range(spec: FieldSpec, value: Any) -> None:
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(str(c) for c in spec.choices)
        raise ConfigError(f"{spec.name}={value!r} is not one of: {allowed}")
    if spec.low is not None and value < spec.low:
        raise ConfigError(f"{spec.name}={value} is below the minimum {spec.low}")
    if spec.high is not None and value > spec.high:
        raise ConfigError(f"{spec.name}={value} is above the maximum {spec.high}")


def parse_allowed(spec: FieldSpec, raw: Any, what: str = "") -> Any:
    """``raw`` as the field's type and within its range or choices, else one message with the allowed values.

    ``what`` names the field's owner in the message, e.g. "dataset option ".
    """
    try:
        value = parse_value(spec, raw)
    except ConfigError:
        value = None
    if value is None or not spec.admits(value):
        shown = raw if isinstance(raw, str) else repr(raw)  # as the user typed it, like key=value on the CLI
        raise ConfigError(f"{what}{spec.name}={shown} is not allowed: give {spec.allowed()}")
    return value


def build(config_cls: type, overrides: dict[str, Any] | None = None) -> Any:
    """Build a validated config from defaults plus overrides (typed values or strings).

    Raises :class:`ConfigError` naming the bad key and the allowed keys or range.
    """
    specs = {spec.name: spec for spec in describe(config_cls)}
    values = {}
    for key, raw in (overrides or {}).items():
        if key not in specs:
            allowed = ", ".join(specs) or "(none)"
            raise ConfigError(f"unknown config key {key!r}; allowed keys: {allowed}")
        values[key] = parse_value(specs[key], raw)
    config = config_cls(**values)
    for spec in specs.values():
        _check_range(spec, getattr(config, spec.name))
    return config


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """Parse ``["key=value", ...]`` into a dict, with a clear message for a malformed item."""
    parsed = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected key=value, got {item!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def to_dict(config: Any) -> dict:
    return dataclasses.asdict(config)
