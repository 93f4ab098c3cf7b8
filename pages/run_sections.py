"""Interactive sections a run page adds below its live views, registered per algorithm.

Live figures are pure (``unsup_core.viz``); what needs widgets (a timeline slider, an interpolation
picker, a threshold) registers here with :func:`register_extras` and is drawn outside the live
fragment, so its widget state survives the fragment's timer.
"""

from __future__ import annotations

from typing import Callable

from unsup_core.runs.store import RunRecord, RunStore

ExtrasRenderer = Callable[[RunRecord, RunStore], None]
_RENDERERS: dict[str, list[ExtrasRenderer]] = {}


def register_extras(*algorithm_names: str) -> Callable[[ExtrasRenderer], ExtrasRenderer]:
    def decorate(renderer: ExtrasRenderer) -> ExtrasRenderer:
        for name in algorithm_names:
            _RENDERERS.setdefault(name, []).append(renderer)
        return renderer

    return decorate


def render_extras(run: RunRecord, store: RunStore) -> None:
    for renderer in _RENDERERS.get(run.algorithm, []):
        renderer(run, store)
