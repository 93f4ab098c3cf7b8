"""The algorithm registry. Adding an algorithm is adding one module here that calls :func:`register`."""

from __future__ import annotations

import importlib
import pkgutil

from unsup_core.algorithms.base import Algorithm
from unsup_core.errors import UserError

_REGISTRY: dict[str, type[Algorithm]] = {}
_NOT_ALGORITHM_MODULES = {"base", "catalogue"}


class UnknownAlgorithm(UserError):
    pass


def register(cls: type[Algorithm]) -> type[Algorithm]:
    """Class decorator adding an algorithm under its ``name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"algorithm {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _NOT_ALGORITHM_MODULES and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def list_algorithms(kind: str | None = None) -> list[type[Algorithm]]:
    """All algorithms, or those that accept datasets of ``kind``."""
    return [cls for cls in _REGISTRY.values() if kind is None or kind in cls.accepts]


def get_algorithm(name: str) -> type[Algorithm]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownAlgorithm(f"unknown algorithm {name!r}; available: {', '.join(sorted(_REGISTRY))}") from None


_discover()

__all__ = ["Algorithm", "UnknownAlgorithm", "get_algorithm", "list_algorithms", "register"]
