import base64
import io

import numpy as np
import plotly.io as pio
import pytest
from PIL import Image

from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import load_dataset
from unsup_core.viz import RunView, build_panels
from unsup_core.viz.autoregressive_views import sampling_animation, sampling_frame
from unsup_core.viz.curves import metric_curves
from unsup_core.viz.images import path_grid


def snapshot_of(name, dataset, **overrides):
    algorithm_cls = get_algorithm(name)
    algorithm = algorithm_cls(algorithm_cls.build_config({"eval_every": 0, **overrides}))
    algorithm.setup(load_dataset(dataset), device="cpu", seed=0)
    algorithm.step()
    return algorithm.snapshot()


def series(*names):
    return {name: (np.array([1, 250, 500]), np.array([3.0, 2.0, 1.0])) for name in names}


def decoded_image(figure):
    """The PNG that an image grid figure sends to the browser, as a uint8 array."""
    data_uri = figure.data[0].source
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).convert("L"))


QUALITY = ("score_is", "score_is_real", "score_classes", "score_fid", "score_fid_real")


def test_a_gan_on_points_shows_its_losses_mode_coverage_and_the_gan_lab_picture():
    view = RunView("gan", series("d_loss", "g_loss", "d_real", "d_fake", "modes_covered", "high_quality"),
                   snapshot_of("gan", "ring8"), 1)
    panels = build_panels(view)
    assert [p.key for p in panels] == ["losses", "d-output", "modes-covered", "high-quality", "gan-lab"]
    lab = panels[-1].figure
    assert [type(trace).__name__ for trace in lab.data] == ["Heatmap", "Scattergl", "Scattergl", "Scatter"]
    assert lab.data[0].zmin == 0 and lab.data[0].zmax == 1  # D(x) is a probability
    assert len(lab.layout.shapes) == 8  # one circle per ring8 mode
    assert pio.to_json(lab)


def test_image_gans_show_samples_interpolations_and_quality_with_real_images_dashed():
    view = RunView("dcgan", series("d_loss", "g_loss", *QUALITY), snapshot_of("dcgan", "digits"), 1)
    panels = {p.key: p for p in build_panels(view)}
    assert list(panels) == ["losses", "quality-is", "quality-fid", "samples", "interpolation-linear",
                            "interpolation-spherical"]
    dashes = {trace.name: trace.line.dash for trace in panels["quality-fid"].figure.data}
    assert dashes == {"score_fid": None, "score_fid_real": "dash"}
    assert panels["quality-fid"].figure.layout.yaxis.type == "log"
    wgan = {p.key for p in build_panels(RunView("wgan_gp", series("wasserstein", "critic_loss", "g_loss",
                                                                  "gradient_penalty"), None))}
    assert wgan == {"wasserstein", "losses", "gradient-penalty"}


def test_a_wgan_on_points_draws_the_critic_without_a_probability_range():
    panels = build_panels(RunView("wgan_gp", {}, snapshot_of("wgan_gp", "moons", n_critic=1), 1))
    assert [p.key for p in panels] == ["gan-lab"]
    heatmap = panels[0].figure.data[0]
    assert heatmap.zmin is None and "critic" in panels[0].title
    assert not panels[0].figure.layout.shapes  # moons has no blob-like modes to circle


def test_vae_views_include_traversals_kl_bars_and_interpolations_framed_by_their_inputs():
    snapshot = snapshot_of("vae", "digits", latent_dim=4)
    panels = {p.key: p for p in build_panels(RunView("vae", {}, snapshot, 1))}
    assert {"reconstructions", "samples", "latent-map", "kl-per-dim", "traversal", "interpolation-linear",
            "interpolation-spherical"} == set(panels)
    assert len(panels["kl-per-dim"].figure.data[0].y) == 4


def test_path_grid_puts_one_path_per_row_between_its_two_inputs():
    paths = np.zeros((3, 5, 4, 4), dtype=np.uint8)
    ends = np.full((3, 2, 4, 4), 255, dtype=np.uint8)
    image = decoded_image(path_grid(paths, "paths", ends=ends))
    # 7 columns (input, 5 steps, input) of 4 pixels with 1-pixel gaps, 3 rows: 36 x 16 pixels.
    assert image.shape == (16, 36)
    assert image[1:5, 1:5].min() == 255 and image[1:5, 6:10].max() == 0 and image[1:5, 31:35].min() == 255


def test_sampling_frames_show_drawn_pixels_the_current_one_and_the_rest_unknown():
    samples = np.array([[[255, 0], [255, 255]]], dtype=np.uint8)
    probabilities = np.array([[[230, 0], [128, 255]]], dtype=np.uint8)
    frame = sampling_frame(samples, probabilities, n_drawn=2)
    assert frame.shape == (1, 3, 2, 2)
    np.testing.assert_allclose(frame[0, :, 0, 0], [1, 1, 1])  # drawn, on
    np.testing.assert_allclose(frame[0, :, 0, 1], [0, 0, 0])  # drawn, off
    assert frame[0, 0, 1, 0] > frame[0, 1, 1, 0]  # the pixel being drawn is tinted red
    np.testing.assert_allclose(frame[0, :, 1, 1], [0.16, 0.19, 0.35])  # not drawn yet
    full = sampling_frame(samples, probabilities, n_drawn=4)
    np.testing.assert_allclose(full[0, 0], samples[0] / 255)


def test_the_sampling_animation_has_a_frame_per_step_and_a_play_button():
    rng = np.random.default_rng(0)
    samples = (rng.random((4, 8, 8)) > 0.5).astype(np.uint8) * 255
    figure = sampling_animation(samples, samples, "drawing")
    assert len(figure.frames) == 65 and figure.frames[-1].name == "64"
    assert figure.layout.updatemenus[0].buttons[0].label == "Play"
    assert len(figure.layout.sliders[0].steps) == 65
    big = sampling_animation(np.zeros((2, 28, 28), np.uint8), np.zeros((2, 28, 28), np.uint8), "big")
    assert len(big.frames) <= 65 and big.frames[-1].name == str(28 * 28)


@pytest.mark.parametrize(("n_points", "mode"), [(3, "lines+markers"), (500, "lines")])
def test_sparse_curves_get_markers(n_points, mode):
    figure = metric_curves({"score": (np.arange(n_points), np.ones(n_points))}, "Score")
    assert figure.data[0].mode == mode


def test_scores_fall_on_round_steps_and_on_the_last_one():
    from unsup_core.algorithms.scoring import ScoreSchedule

    schedule = ScoreSchedule.__new__(ScoreSchedule)
    schedule.every = 1000
    due = [step for step in range(1, 2501) if schedule.due(step, last_step=2500)]
    assert due == [1, 1000, 2000, 2500]


def test_short_curves_have_whole_step_ticks_and_the_reference_is_one_dashed_level():
    assert metric_curves({"loss": (np.array([1, 2, 3]), np.array([3.0, 2.0, 1.0]))}, "t").layout.xaxis.dtick == 1
    assert metric_curves({"loss": (np.arange(1, 500), np.ones(499))}, "t").layout.xaxis.dtick is None
    view = RunView("dcgan", {"score_is": (np.array([1, 250, 500]), np.array([2.0, 5.0, 7.0])),
                             "score_is_real": (np.array([1, 250]), np.array([9.6, 9.7]))})
    figure = next(panel.figure for panel in build_panels(view) if panel.key == "quality-is")
    real = next(trace for trace in figure.data if trace.name == "score_is_real")
    assert list(real.x) == [1, 500] and list(real.y) == [9.7, 9.7]
    assert real.mode == "lines" and real.line.dash == "dash"


def test_a_first_score_late_in_a_run_gets_whole_step_ticks_and_a_visible_reference():
    # The quality classifier trains in the background, so a short run may score only at its last step.
    view = RunView("dcgan", {"score_is": (np.array([300]), np.array([1.0])),
                             "score_is_real": (np.array([300]), np.array([2.0])),
                             "score_fid": (np.array([300]), np.array([190.0])),
                             "score_fid_real": (np.array([300]), np.array([310.0]))})
    panels = {panel.key: panel.figure for panel in build_panels(view)}
    assert panels["quality-is"].layout.xaxis.dtick == 1
    real = next(trace for trace in panels["quality-is"].data if trace.name == "score_is_real")
    assert "markers" in real.mode and real.line.dash == "dash"


@pytest.mark.parametrize(("fid", "dtick"), [((190.0, 420.0), None), ((19.0, 900.0), 1)])
def test_the_fid_axis_labels_powers_of_ten_only_when_the_curves_cross_one(fid, dtick):
    view = RunView("dcgan", {"score_fid": (np.array([1, 500]), np.array(fid)),
                             "score_fid_real": (np.array([1, 500]), np.array([300.0, 300.0]))})
    figure = next(panel.figure for panel in build_panels(view) if panel.key == "quality-fid")
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis.dtick == dtick
