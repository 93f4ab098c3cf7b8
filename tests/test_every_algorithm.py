"""Every registered algorithm, the way a run uses it: 2 steps, a snapshot, a checkpoint round trip, its
live views and its explanation. Adding an algorithm adds a case here without touching this file."""

import io
import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from pages import anomaly_extras, som_tools  # noqa: F401  (they register the run page's sections)
from pages.run_sections import SECTIONS
from unsup_core.algorithms import get_algorithm, list_algorithms
from unsup_core.datasets import load_dataset
from unsup_core.datasets.base import Dataset
from unsup_core.snapshots import SHAPES
from unsup_core.viz import RunView, build_panels

# The smallest bundled dataset of each kind; an algorithm gets the first kind it accepts.
SMALL_DATASETS = {"table": ("iris", {}), "points2d": ("moons", {"n_samples": 300}), "images": ("digits", {})}
# Overrides that keep a step short; generative models skip their sample-quality scores (no classifier).
SMALL_CONFIGS = {"choose_k": {"k_max": 3}, "tournament": {"k_max": 3}, "pixelcnn": {"filters": 16, "n_blocks": 2},
                 "dcgan": {"eval_every": 0}, "wgan_gp": {"eval_every": 0}, "vae": {"eval_every": 0},
                 "gan": {"eval_every": 0}}
NAMES = sorted(cls.name for cls in list_algorithms())


def small_data(cls):
    kind = next(kind for kind in SMALL_DATASETS if kind in cls.accepts)
    name, options = SMALL_DATASETS[kind]
    return load_dataset(name, **options)


def build(name, data):
    cls = get_algorithm(name)
    algorithm = cls(cls.build_config(SMALL_CONFIGS.get(name, {})))
    algorithm.setup(data, device="cpu", seed=0)
    return algorithm


def finite_step(algorithm) -> dict[str, float]:
    values = {name: float(value) for name, value in algorithm.step().items()}
    assert values and all(np.isfinite(list(values.values()))), values
    return values


def trained_a_little(name: str, steps: int = 2):
    """(algorithm, its data, metrics as the store reads them back, snapshot) after ``steps`` steps on small data."""
    data = small_data(get_algorithm(name))
    algorithm = build(name, data)
    logged: dict[str, list[tuple[int, float]]] = {}
    for step in range(1, steps + 1):
        if not algorithm.finished:
            for metric, value in finite_step(algorithm).items():
                logged.setdefault(metric, []).append((step, value))
    metrics = {metric: (np.array([s for s, _ in points]), np.array([v for _, v in points]))
               for metric, points in logged.items()}
    return algorithm, data, metrics, algorithm.snapshot()


def run_panels(name: str, steps: int = 2) -> list:
    """The panels a run page shows after ``steps`` steps, the threshold explorer's included."""
    from unsup_core.snapshots import OutlierSnapshot
    from unsup_core.viz.anomaly_views import score_panels

    _, _, metrics, snapshot = trained_a_little(name, steps)
    panels = build_panels(RunView(name, metrics, snapshot, steps))
    if "threshold_explorer" in get_algorithm(name).page_sections:
        panels += score_panels(OutlierSnapshot.from_arrays(snapshot), float(snapshot["threshold"]))
    return panels


def through_a_checkpoint(state: dict) -> dict:
    """What the worker's checkpoint does to a state: torch.save, then a weights-only load."""
    buffer = io.BytesIO()
    torch.save({"state": state}, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)["state"]


def assert_round_trips(family: str, snapshot: dict[str, np.ndarray]) -> None:
    """The snapshot is exactly its view family's declared shape: nothing lost, nothing undeclared."""
    arrays = SHAPES[family].from_arrays(snapshot).as_arrays()
    assert arrays.keys() == snapshot.keys()
    for key, array in snapshot.items():
        assert arrays[key].dtype == array.dtype, key
        np.testing.assert_array_equal(arrays[key], array, err_msg=key)


def test_a_missing_required_array_is_named():
    with pytest.raises(KeyError, match="'labels'"):
        SHAPES["clustering"].from_arrays({"points": np.zeros((3, 2))})


@pytest.mark.parametrize("name", NAMES)
def test_two_steps_a_snapshot_a_checkpoint_and_its_views(name):
    cls = get_algorithm(name)
    algorithm, data, metrics, snapshot = trained_a_little(name)
    assert snapshot and all(array.dtype != object for array in snapshot.values())
    np.savez(io.BytesIO(), allow_pickle=False, **snapshot)  # what the store writes
    assert_round_trips(cls.view_family, snapshot)
    if cls.assigns_clusters:
        assert snapshot["row_cluster"].shape == (data.n_samples,)

    restored = build(name, data)
    restored.load_state_dict(through_a_checkpoint(algorithm.state_dict()))
    if not restored.finished:
        finite_step(restored)

    # Raises when no viz module registers its view_family; may be empty (a tournament needs more rounds).
    panels = build_panels(RunView(name, metrics, snapshot, 2))
    assert all(isinstance(panel.figure, go.Figure) for panel in panels)
    assert len({panel.key for panel in panels}) == len(panels)  # a chart's key keeps its zoom across updates


@pytest.mark.parametrize("name", NAMES)
def test_the_run_page_sections_it_declares_are_registered(name):
    assert set(get_algorithm(name).page_sections) <= set(SECTIONS)


@pytest.mark.parametrize("name", NAMES)
def test_explanation_is_markdown_that_katex_renders(name):
    explanation = get_algorithm(name).explanation
    assert explanation.strip()
    for line in explanation.splitlines():
        assert "$$" not in line or line.strip() == "$$", f"display math delimiter not on a line of its own: {line!r}"
    for text in re.findall(r"\\text\{([^}]*)\}", explanation):
        assert not re.search(r"(?<!\\)_", text), f"unescaped _ in \\text{{{text}}}"


TABLE_ALGORITHMS = sorted(cls.name for cls in list_algorithms() if "table" in cls.accepts)


@pytest.mark.parametrize("name", TABLE_ALGORITHMS)
def test_a_table_of_one_feature_trains_and_is_drawn(name):
    """A user's table can come down to one feature (the default choice leaves out ids, years, codes);
    every view of it still draws, the points along one axis."""
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 60), rng.normal(6, 1, 60)]).astype(np.float32)[:, None]
    data = Dataset("one feature", "table", values, y=np.repeat([0, 1], 60), feature_names=["score"],
                   label_names=["low", "high"])
    algorithm = build(name, data)
    first, second = finite_step(algorithm), finite_step(algorithm)
    metrics = {key: (np.array([1, 2]), np.array([first[key], second.get(key, first[key])])) for key in first}
    snapshot = algorithm.snapshot()
    for panel in build_panels(RunView(name, metrics, snapshot, 2)):
        panel.figure.to_json()  # the figure is complete enough to send
