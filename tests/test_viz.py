import numpy as np
import plotly.io as pio

from unsup_core.datasets import Dataset
from unsup_core.viz import RunView, build_panels
from unsup_core.viz.curves import downsample, metric_curves
from unsup_core.viz.datasets import dataset_preview
from unsup_core.viz.images import image_grid, paired_grid, tile_images


def test_tile_images_lays_out_a_grid_with_padding():
    images = np.ones((5, 4, 3))
    canvas = tile_images(images, n_cols=3, pad=1)
    assert canvas.shape == (2 * 5 + 1, 3 * 4 + 1)
    assert canvas[1:5, 1:4].min() == 1.0 and canvas[0, 0] == 0.5
    colour = tile_images(np.zeros((4, 3, 2, 2)))
    assert colour.shape == (2 * 3 + 1, 2 * 3 + 1, 3)


def test_downsample_bounds_points_and_keeps_the_last_value():
    steps = np.arange(1, 10_001)
    values = np.linspace(10, 0, 10_000)
    small_steps, small_values = downsample(steps, values, max_points=500)
    assert len(small_steps) == 500 and small_steps[-1] == 10_000 and small_values[-1] == 0.0
    assert np.all(np.diff(small_steps) > 0)


def test_figures_serialise_to_json():
    figures = [
        metric_curves({"loss": (np.arange(3), np.array([3.0, 2.0, np.nan]))}, "Loss"),
        image_grid(np.random.rand(6, 8, 8), "Samples"),
        paired_grid(np.zeros((4, 8, 8)), np.ones((4, 8, 8)), "Reconstructions"),
    ]
    for figure in figures:
        assert pio.to_json(figure)
        assert figure.layout.uirevision  # zoom survives live updates


def test_kmeans_and_vae_runs_get_their_views():
    kmeans = RunView("kmeans", {"inertia": (np.arange(3), np.ones(3)), "ari": (np.arange(3), np.ones(3))},
                     {"points": np.zeros((10, 2)), "labels": np.arange(10) % 2, "centers": np.zeros((2, 2)),
                      "true_labels": np.zeros(10, int), "center_images": np.zeros((2, 8, 8))}, 3)
    assert [p.key for p in build_panels(kmeans)] == ["inertia", "agreement", "clusters", "true-labels",
                                                      "center-images"]
    vae = RunView("vae", {"loss": (np.arange(2), np.ones(2))},
                  {"recon_inputs": np.zeros((4, 8, 8)), "recon_outputs": np.zeros((4, 8, 8)),
                   "samples": np.zeros((16, 8, 8)), "latent": np.zeros((10, 2)),
                   "latent_labels": np.arange(10), "label_names": np.array([str(i) for i in range(10)])}, 7)
    panels = build_panels(vae)
    assert [p.key for p in panels] == ["loss", "reconstructions", "samples", "latent-map"]
    assert "step 7" in panels[2].title
    assert build_panels(RunView("vae", {}, None, None)) == []


def test_unknown_algorithms_fall_back_to_metric_curves():
    panels = build_panels(RunView("something-new", {"a": (np.arange(2), np.ones(2))}))
    assert [p.key for p in panels] == ["metric-a"]


def test_a_table_with_one_measurement_previews_its_values_row_by_row():
    values = np.random.default_rng(0).normal(size=(50, 1))
    table = Dataset("value.csv", "table", values, y=np.arange(50) % 2, feature_names=["value"])
    figure = dataset_preview(table)
    assert np.allclose(np.sort(np.concatenate([trace.x for trace in figure.data])), np.sort(values[:, 0]))
    assert figure.layout.xaxis.title.text == "value" and figure.layout.yaxis.title.text == "row"
