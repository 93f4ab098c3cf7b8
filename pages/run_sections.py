"""Interactive sections a run page adds below its live views, registered by section name.

An algorithm lists the sections its runs get in ``Algorithm.page_sections``. Live figures are pure
(``unsup_core.viz``); what needs widgets (a threshold slider, clustering the map) registers here with
:func:`register_section` and is drawn outside the live fragment, so its widget state survives the
fragment's timer.
"""

from __future__ import annotations

from typing import Callable

from unsup_core.algorithms import get_algorithm
from unsup_core.runs.store import RunRecord, RunStore

SectionRenderer = Callable[[RunRecord, RunStore], None]
SECTIONS: dict[str, SectionRenderer] = {}


def register_section(name: str) -> Callable[[SectionRenderer], SectionRenderer]:
    """Decorator: draw ``renderer`` on the run page of every algorithm whose ``page_sections`` lists ``name``."""
    def decorate(renderer: SectionRenderer) -> SectionRenderer:
        SECTIONS[name] = renderer
        return renderer

    return decorate


def render_sections(run: RunRecord, store: RunStore) -> None:
    for name in get_algorithm(run.algorithm).page_sections:
        SECTIONS[name](run, store)
