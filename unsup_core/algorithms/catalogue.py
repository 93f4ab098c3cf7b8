"""How algorithms are presented to people: families in a teaching order, with readable names."""

from __future__ import annotations

from unsup_core.algorithms.base import Algorithm

FAMILY_TITLES = {
    "clustering": "Clustering",
    "model selection": "Choosing k",
    "som": "Self-organizing maps",
    "embedding": "Maps of the data",
    "generative": "Generative models",
    "self-supervised": "Self-supervised features",
    "semi-supervised": "A few labels",
    "outliers": "Anomalies and outliers",
}


def family_title(algorithm: type[Algorithm]) -> str:
    return FAMILY_TITLES.get(algorithm.family, algorithm.family.capitalize())


def families(algorithms: list[type[Algorithm]]) -> dict[str, list[type[Algorithm]]]:
    """Algorithms grouped under their family's title, families in FAMILY_TITLES' order."""
    order = list(FAMILY_TITLES)
    grouped: dict[str, list[type[Algorithm]]] = {}
    for algorithm in sorted(algorithms, key=lambda cls: (order.index(cls.family) if cls.family in order
                                                         else len(order), cls.family)):
        grouped.setdefault(family_title(algorithm), []).append(algorithm)
    return grouped


def menu_label(algorithm: type[Algorithm]) -> str:
    """``Generative models · Variational autoencoder (VAE)``: what a picker shows."""
    return f"{family_title(algorithm)} · {algorithm.title or algorithm.name}"
