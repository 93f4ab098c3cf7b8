"""Semi-supervised learning from a few labels per class, against a supervised baseline on the same labels.

Each step takes the next number of labels per class in ``LABEL_BUDGETS`` (1, 2, 5, 10, ..., each smaller
than the smallest class), draws that many labelled examples per class several times, and scores on the
unlabelled rest:
  * the semi-supervised method, which also sees every unlabelled point, and
  * logistic regression trained on the labelled points alone.
So the run draws accuracy against the label budget, the picture of when unlabelled data helps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Algorithm
from unsup_core.algorithms.estimator_run import standardise
from unsup_core.config import param
from unsup_core.datasets import Dataset, DatasetError
from unsup_core.projection import PCAProjection
from unsup_core.snapshots import SemiSupervisedSnapshot

LABEL_BUDGETS = (1, 2, 3, 5, 10, 20, 50)
MAX_DISPLAY_POINTS = 3000


@dataclass
class SemiSupervisedConfig:
    method: str = param("label_spreading", choices=("label_spreading", "label_propagation", "self_training"),
                        help="Label spreading/propagation diffuse labels along a k-NN graph of all points; "
                             "self-training retrains a classifier on its own most confident predictions.")
    labels_per_class: int = param(5, low=1, high=50, step=1,
                                  help="The budget drawn in the map view (the curves sweep 1, 2, 5, 10, ...); "
                                       "below the smallest class's size on a small table.")
    n_neighbors: int = param(7, low=2, high=50, step=1, help="Neighbours per point in the k-NN graph.")
    alpha: float = param(0.2, low=0.01, high=0.99, step=0.01,
                         help="Label spreading: how much a labelled point may drift from its given label.")
    repeats: int = param(3, low=1, high=20, step=1, help="Random label draws averaged per budget.")
    scaling: str = param("auto", choices=("auto", "standard", "none"),
                         help="auto: standardise tables, keep pixels and 2-D points as they are.")


def draw_labelled(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` random examples of every class (fewer if a class is smaller)."""
    chosen = [rng.choice(np.flatnonzero(labels == c), min(per_class, int((labels == c).sum())), replace=False)
              for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


@register
class SemiSupervised(Algorithm):
    name = "semi_supervised"
    title = "Label spreading / self-training"
    family = "semi-supervised"
    accepts = ("images", "table", "points2d")
    view_family = "semi_supervised"
    Config = SemiSupervisedConfig
    default_steps = len(LABEL_BUDGETS)
    summary = "Label spreading or self-training from a few labels per class, against a supervised baseline."
    explanation = r"""
Only a few points carry a label; the rest are unlabelled. A **supervised** classifier (here logistic
regression) can learn only from the labelled points. A **semi-supervised** method also uses where the
unlabelled points lie:

* **Label spreading / propagation** (Zhou et al. 2004; Zhu & Ghahramani 2002) build a k-nearest-neighbour
  graph over *all* points and let labels flow along its edges. With $W$ the graph's weights,
  $S = D^{-1/2} W D^{-1/2}$ and $Y$ the one-hot given labels, spreading iterates
  $F \leftarrow \alpha S F + (1-\alpha) Y$ to its fixed point; each point takes the class with the
  largest $F$. Propagation clamps the given labels exactly ($\alpha \to 1$ with hard clamping).
* **Self-training** fits the classifier on the labelled points, adds its most confident predictions on
  unlabelled points as pseudo-labels, and refits, a few rounds.

**What to look for:** the gap between the two curves. It is widest with 1 to 5 labels per class and
closes as labels become plentiful. Spreading works when classes form dense regions separated by sparse
ones (the *cluster assumption*); where classes touch, labels leak across the boundary; look for such
points on the map.
"""

    def row_counts(self) -> dict[str, int]:
        if self.config.method == "self_training":
            return {}
        return {"n_neighbors": self.config.n_neighbors}  # the k-NN graph of label spreading / propagation

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        if not data.has_labels:
            raise DatasetError(f"{data.name} has no labels: semi-supervised learning needs them to be scored")
        self.check_row_counts(data)
        self.data = data
        scaling = self.config.scaling
        if scaling == "auto":
            scaling = "standard" if data.kind == "table" else "none"
        self.features = standardise(data.X) if scaling == "standard" else data.X.astype(np.float64)
        _, self.labels = np.unique(data.y, return_inverse=True)
        # A budget is scored on the unlabelled rest, so it must leave rows of every class unlabelled:
        # on a small table (a class of 20 rows) the sweep stops before 20 labels per class.
        smallest_class = int(np.bincount(self.labels).min())
        self.budgets = tuple(budget for budget in LABEL_BUDGETS if budget < smallest_class)
        if not self.budgets:
            raise DatasetError(f"{data.name}: a class has only {smallest_class} row(s); semi-supervised "
                               "learning needs at least 2 of every class (one labelled, one to score)")
        self.map_budget = min(self.config.labels_per_class, smallest_class - 1)
        self.seed = seed
        self.budget_index = 0
        rng = np.random.default_rng(seed)
        n = data.n_samples
        self.display_rows = np.sort(rng.choice(n, MAX_DISPLAY_POINTS, replace=False)) if n > MAX_DISPLAY_POINTS \
            else np.arange(n)
        self.projection = PCAProjection(seed=seed).fit(self.features)

    def _semi_supervised_model(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.semi_supervised import LabelPropagation, LabelSpreading, SelfTrainingClassifier

        if self.config.method == "label_spreading":
            return LabelSpreading(kernel="knn", n_neighbors=self.config.n_neighbors, alpha=self.config.alpha,
                                  max_iter=200)
        if self.config.method == "label_propagation":
            return LabelPropagation(kernel="knn", n_neighbors=self.config.n_neighbors, max_iter=2000)
        # k_best with a few rounds keeps self-training's refits bounded on any data size.
        return SelfTrainingClassifier(LogisticRegression(max_iter=300), criterion="k_best",
                                      k_best=max(10, len(self.features) // 10), max_iter=8)

    def evaluate(self, per_class: int, draw: int) -> tuple[float, float, np.ndarray, np.ndarray]:
        """(semi-supervised accuracy, supervised accuracy, predictions, labelled indices) for one draw."""
        from sklearn.linear_model import LogisticRegression

        rng = np.random.default_rng([self.seed, per_class, draw])
        labelled = draw_labelled(self.labels, per_class, rng)
        partial = np.full(len(self.labels), -1)
        partial[labelled] = self.labels[labelled]
        unlabelled = partial == -1
        model = self._semi_supervised_model().fit(self.features, partial)
        predicted = model.transduction_ if hasattr(model, "transduction_") else model.predict(self.features)
        baseline = LogisticRegression(max_iter=1000).fit(self.features[labelled], self.labels[labelled])
        semi = float((predicted[unlabelled] == self.labels[unlabelled]).mean())
        supervised = float((baseline.predict(self.features[unlabelled]) == self.labels[unlabelled]).mean())
        return semi, supervised, np.asarray(predicted), labelled

    def step(self) -> dict[str, float]:
        per_class = self.budgets[self.budget_index]
        scores = np.array([self.evaluate(per_class, draw)[:2] for draw in range(self.config.repeats)])
        self.budget_index += 1
        self.finished = self.budget_index >= len(self.budgets)
        return {"labels_per_class": float(per_class), "accuracy_semi_supervised": float(scores[:, 0].mean()),
                "accuracy_supervised": float(scores[:, 1].mean()),
                "gain": float(scores[:, 0].mean() - scores[:, 1].mean())}

    def snapshot(self) -> dict[str, np.ndarray]:
        semi, supervised, predicted, labelled = self.evaluate(self.map_budget, 0)
        is_labelled = np.zeros(len(self.labels), dtype=bool)
        is_labelled[labelled] = True
        rows = np.union1d(self.display_rows, labelled)  # every labelled point is drawn
        return SemiSupervisedSnapshot(
            points=self.projection.transform(self.features[rows]),
            true_labels=self.labels[rows],
            predicted=predicted[rows],
            labelled=is_labelled[rows],
            map_scores=np.array([semi, supervised, self.map_budget], dtype=np.float64),
            label_names=np.array(self.data.label_names) if self.data.label_names else None,
        ).as_arrays()

    def state_dict(self) -> dict:
        return {"budget_index": self.budget_index}

    def load_state_dict(self, state: dict) -> None:
        self.budget_index = int(state["budget_index"])
        self.finished = self.budget_index >= len(self.budgets)
