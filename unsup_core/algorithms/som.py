"""Self-organizing maps as a live run: one algorithm, two backends (our batched torch SOM, minisom).

One registry entry with a ``backend`` choice rather than two algorithms: the issue asks for both
behind the same config, so they share one form, one set of views and one CLI name, and comparing
them is changing one value. Each step is ``batch_size`` sample updates on either backend (one
vectorised update, or that many minisom updates), so the step axes of two runs line up; the
sigma and learning-rate schedules span the run's steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Adjustable, Algorithm
from unsup_core.algorithms.estimator_run import resolve_scaling, standardise
from unsup_core.algorithms.som_estimator import BACKENDS, INITS, SOM
from unsup_core.algorithms.som_grid import LR_DECAYS, NEIGHBORHOODS, SIGMA_DECAYS, TOPOLOGIES, umatrix
from unsup_core.config import param
from unsup_core.datasets import Dataset
from unsup_core.snapshots import SOMSnapshot

MAX_EVAL_ROWS = 5000  # whole-data measures, hits and label counts use at most this many samples
MAX_MARKER_ROWS = 2000  # samples drawn as markers on the map
N_EVALUATIONS = 50  # whole-data QE/TE this many times over a run (and at its last step)


class SOMDiverged(RuntimeError):
    pass


@dataclass
class SOMConfig:
    backend: str = param("batched", choices=BACKENDS,
                         help="batched: our torch SOM, one vectorised update per step, on the GPU when there "
                              "is one. minisom: the reference implementation, one sample at a time on the CPU.")
    rows: int = param(12, low=1, high=100, step=1, help="Map height in units.")
    cols: int = param(12, low=1, high=100, step=1,
                      help="Map width in units. A rule of thumb: about 5 * sqrt(n_samples) units in all.")
    topology: str = param("hexagonal", choices=TOPOLOGIES,
                          help="hexagonal: six equidistant neighbours per unit (smoother maps); "
                               "rectangular: eight neighbours, diagonals included.")
    neighbourhood: str = param("gaussian", choices=NEIGHBORHOODS,
                               help="How much a unit near the winner moves: gaussian falls off smoothly; "
                                    "mexican_hat also pushes units a little further out away; bubble moves "
                                    "every unit within sigma cells equally.")
    sigma: float = param(4.0, low=0.01, high=100.0, step=0.5,
                         help="Starting neighbourhood radius in units. Large: the map first orders itself "
                              "globally; it shrinks over the run so units can specialise.")
    learning_rate: float = param(0.5, low=0.001, high=1.0, step=0.05,
                                 help="Starting step towards each sample (1 = jump onto it).")
    sigma_decay: str = param("linear_to_one", choices=SIGMA_DECAYS,
                             help="How sigma shrinks over the run (minisom's schedules): linear_to_one ends "
                                  "at 1; asymptotic ends at a third of its start.")
    lr_decay: str = param("linear_to_zero", choices=LR_DECAYS,
                          help="How the learning rate shrinks over the run: linear_to_zero ends at 0 "
                               "(the map settles); asymptotic ends at a third of its start.")
    init: str = param("pca", choices=INITS,
                      help="pca: a flat sheet along the data's two main directions (fast, reproducible); "
                           "random: units start on random samples.")
    batch_size: int = param(128, low=1, high=65536, step=1,
                            help="Samples per step. batched: one vectorised update for the whole batch; "
                                 "minisom: that many one-sample updates.")
    scaling: str = param("auto", choices=("auto", "standard", "none"),
                         help="Standardise each feature so none dominates by its units. "
                              "auto: standardise built-in tables, keep pixels, 2-D points and your prepared "
                              "files as they are.")


@register
class SOMAlgorithm(Algorithm):
    name = "som"
    title = "Self-organizing map"
    family = "som"
    accepts = ("images", "table", "points2d")
    view_family = "som"
    page_sections = ("som_tools",)
    Config = SOMConfig
    default_steps = 500
    # The rate decays over the run; a change sets the schedule's starting rate, so the decay goes on
    # from the current step at the new scale (the learning_rate curve shows the jump).
    adjustables = (Adjustable("lr", "learning_rate", "learning rate (schedule start)"),)
    summary = "Self-organizing map: a grid of prototypes that spreads over the data, neighbours alike."
    explanation = r"""
A **self-organizing map** is a grid of units, each with a weight vector $w_k$ in the data space.
For every sample $x$ the **best-matching unit** $b = \arg\min_k \lVert x - w_k \rVert$ and its map
neighbours move towards $x$:

$$
w_k \leftarrow w_k + \eta(t)\, h_{\sigma(t)}(b, k)\, (x - w_k), \qquad
h_\sigma(b, k) = e^{-d(b,k)^2 / 2\sigma^2}\ \text{(gaussian)},
$$

where $d(b, k)$ is the distance between the units *on the map*. Units that are close on the map
are pulled towards the same samples, so they end up similar: the map is a 2-D picture of the data
in which neighbours look alike.

**How sigma and the learning rate shape it.** Early on, a large $\sigma$ moves big patches of the
map together: the map unfolds and orders itself globally (here it starts as a flat sheet along
the data's two main directions with `init=pca`). As $\sigma$ shrinks the units specialise; with
$\sigma$ near 0 only the winner moves and the SOM is online k-means. The learning rate $\eta$ sets
how far each update goes: large early, it lets the map reorganise; decaying to 0 lets it settle.

**The maps.** The **U-matrix** shows each unit's mean distance to its neighbours' weights: dark
valleys are groups of similar samples, bright ridges are borders between them. The **hit map**
counts the samples each unit wins (units between clusters may win none). With labels, the
**majority label** per unit and the samples drawn on their units show which regions hold which
class (labels are never used for training). **Component planes** show one feature across the
map; **prototypes** of image data show each unit's weights as an image.

**Measures.** Quantization error (QE): mean distance from a sample to its best unit; it falls as
the map fits the data. Topographic error (TE): the share of samples whose best and second-best
units are not neighbours; low means the map preserves the data's neighbourhoods. `*_batch` are
each step's samples against the map before the step; `qe` and `te` are the whole data (up to
5,000 samples) every few steps.

The `batched` backend updates the map once per batch with all the batch's pulls at once (exactly
minisom's rule for a batch of one; the product of the factors $1 - \eta h$ is kept exact, so big
batches cannot overshoot). Very large batches on small maps settle a little less finely: lower
`batch_size` if the final QE matters more than speed.
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        config = self.config
        self.data = data
        # The clusterers' rule: auto leaves a user's prepared file as the preparation scaled it.
        if resolve_scaling(config.scaling, data) == "standard":
            std = data.X.std(axis=0)
            self.feature_mean, self.feature_scale = data.X.mean(axis=0), np.where(std > 0, std, 1.0)
            self.features = standardise(data.X)
        else:
            self.feature_mean = np.zeros(data.n_features, np.float32)
            self.feature_scale = np.ones(data.n_features, np.float32)
            self.features = data.X
        steps = self.planned_steps or self.default_steps
        # PCA initialisation spreads the map along two main directions; a one-feature table has one.
        init = config.init if data.n_features >= 2 else "random"
        self.som = SOM(config.rows, config.cols, topology=config.topology, neighbourhood=config.neighbourhood,
                       sigma=config.sigma, learning_rate=config.learning_rate, sigma_decay=config.sigma_decay,
                       lr_decay=config.lr_decay, init=init, n_updates=steps * config.batch_size,
                       batch_size=config.batch_size, backend=config.backend, random_state=seed,
                       device=device if config.backend == "batched" else "cpu")
        self.som.start(self.features)
        rng = np.random.default_rng(seed)
        n = data.n_samples
        self.eval_rows = np.sort(rng.choice(n, MAX_EVAL_ROWS, replace=False)) if n > MAX_EVAL_ROWS else np.arange(n)
        self.marker_rows = np.sort(rng.choice(len(self.eval_rows), MAX_MARKER_ROWS, replace=False)) \
            if len(self.eval_rows) > MAX_MARKER_ROWS else np.arange(len(self.eval_rows))
        self.eval_every = max(1, steps // N_EVALUATIONS)
        self.step_index = 0
        self._evaluation = None

    def _evaluate(self) -> dict:
        measures = self.som.evaluate(self.features[self.eval_rows])
        if not np.isfinite(measures["qe"]):
            raise SOMDiverged("the map diverged (its weights are no longer finite): lower the learning rate "
                              "or use a gaussian neighbourhood")
        self._evaluation = (self.som.n_updates_, measures)
        return measures

    def step(self) -> dict:
        values = self.som.iterate()
        metrics = {"qe_batch": values["qe"], "sigma": values["sigma"], "learning_rate": values["learning_rate"]}
        if "te" in values:
            metrics["te_batch"] = values["te"]
        self.step_index += 1
        self.finished = self.som.done_
        if self.step_index == 1 or self.step_index % self.eval_every == 0 or self.finished:
            measures = self._evaluate()
            metrics["qe"] = measures["qe"]
            if np.isfinite(measures["te"]):
                metrics["te"] = measures["te"]
        return metrics

    def snapshot(self) -> dict[str, np.ndarray]:
        return self.som_snapshot().as_arrays()

    def som_snapshot(self) -> SOMSnapshot:
        som, grid, data = self.som, self.som.grid, self.data
        if self._evaluation is None or self._evaluation[0] != som.n_updates_:
            self._evaluate()
        measures = self._evaluation[1]
        weights = som.weights_.astype(np.float32)
        bmu = measures["bmu"]
        counts = marker_labels = None
        if data.has_labels:
            labels = np.asarray(data.y)[self.eval_rows].astype(np.int64)
            n_classes = int(max(labels.max() + 1, len(data.label_names or [])))
            counts = np.zeros((grid.n_neurons, n_classes), np.int64)
            np.add.at(counts, (bmu, labels), 1)
            marker_labels = labels[self.marker_rows]
        return SOMSnapshot(
            weights=weights,
            feature_mean=np.asarray(self.feature_mean, np.float32),
            feature_scale=np.asarray(self.feature_scale, np.float32),
            grid_shape=np.array(grid.shape),
            topology=np.array(grid.topology),
            positions=grid.positions.astype(np.float32),
            umatrix=umatrix(weights, grid).astype(np.float32),
            hits=measures["hits"],
            n_evaluated=np.array(len(self.eval_rows)),
            qe=np.array(measures["qe"]),
            te=np.array(measures["te"]),
            marker_units=bmu[self.marker_rows],
            data_kind=np.array(data.kind),
            feature_names=np.array(data.feature_names),
            label_counts=counts,
            marker_labels=marker_labels,
            label_names=np.array(data.label_names) if data.label_names else None,
            image_shape=np.array(data.image_shape) if data.kind == "images" else None,
        )

    def adjust(self, name: str, value: float) -> None:
        if name == "lr":
            self.som.set_learning_rate(value)
        else:
            super().adjust(name, value)

    def state_dict(self) -> dict:
        return {"som": self.som.get_state(), "step_index": self.step_index,
                "total_updates": self.som.total_updates_, "learning_rate": self.som.learning_rate}

    def load_state_dict(self, state: dict) -> None:
        # The schedules keep the length the run started with: a resumed map continues them exactly,
        # and one that completed them stays finished even if the run is given more steps (growing
        # sigma back would undo the map's fine structure; clone it to train a longer schedule).
        self.som.set_state(state["som"])
        self.som.total_updates_ = int(state.get("total_updates", self.som.total_updates_))
        self.step_index = int(state["step_index"])
        if "learning_rate" in state:  # changed while it trained (older checkpoints: the config's)
            self.som.set_learning_rate(float(state["learning_rate"]))
        self.finished = self.som.done_
        self._evaluation = None
