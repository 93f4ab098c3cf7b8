"""Gaussian mixture clustering, one EM iteration per step so the fit can be watched."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.estimator_run import EstimatorAlgorithm, scaling_param
from unsup_core.config import param


class IterativeGaussianMixture:
    """scikit-learn's ``GaussianMixture`` advanced one EM iteration per :meth:`iterate`.

    ``warm_start`` with ``max_iter=1`` makes each ``fit`` call continue from the current parameters;
    convergence is the same test scikit-learn uses: the per-sample lower bound changes by < ``tol``.
    """

    def __init__(self, n_components: int, covariance_type: str, tol: float, random_state: int) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.random_state = random_state

    def start(self, X: np.ndarray) -> "IterativeGaussianMixture":
        from sklearn.mixture import GaussianMixture

        if len(X) < self.n_components:
            raise ValueError(f"n_samples={len(X)} should be >= n_components={self.n_components}")
        self._X = X
        self.model_ = GaussianMixture(self.n_components, covariance_type=self.covariance_type, max_iter=1,
                                      warm_start=True, random_state=self.random_state, reg_covar=1e-5)
        self.n_iter_ = 0
        self.converged_ = False
        self.lower_bound_ = -np.inf
        self.labels_ = None
        return self

    def iterate(self) -> dict[str, float]:
        from sklearn.exceptions import ConvergenceWarning

        previous = self.lower_bound_
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # one iteration never "converges" by design
            self.model_.fit(self._X)
        self.lower_bound_ = float(self.model_.lower_bound_)
        self.labels_ = self.model_.predict(self._X)
        self.n_iter_ += 1
        self.converged_ = abs(self.lower_bound_ - previous) < self.tol
        values = {"log_likelihood": self.lower_bound_}
        if self.converged_:
            values["bic"] = float(self.model_.bic(self._X))
        return values

    @property
    def means_(self) -> np.ndarray | None:
        return getattr(self.model_, "means_", None)

    def get_state(self) -> dict:
        return {}

    def set_state(self, state: dict) -> None:
        """EM restarts from its seeded initialisation: the parameters are not checkpointed."""


@dataclass
class GaussianMixtureConfig:
    n_components: int = param(4, low=1, high=128, step=1, help="Number of Gaussian components (clusters).")
    covariance_type: str = param("full", choices=("full", "diag", "tied", "spherical"),
                                 help="full: each cluster any ellipse (most flexible, D^2 parameters each); diag: "
                                      "axis-aligned ellipses; tied: one shared shape; spherical: round like k-means.")
    tol: float = param(1e-3, low=1e-8, high=1.0, log=True,
                       help="Stop when the mean log-likelihood per row improves by less than this.")
    scaling: str = scaling_param()


@register
class GaussianMixtureAlgorithm(EstimatorAlgorithm):
    name = "gmm"
    title = "Gaussian mixture"
    view_family = "clustering"
    Config = GaussianMixtureConfig
    default_steps = 200
    summary = "Gaussian mixture: soft, elliptical clusters fitted by expectation-maximisation."
    explanation = r"""
The data is modelled as a mixture of $k$ Gaussians,
$p(x) = \sum_{j=1}^{k} \pi_j\, \mathcal{N}(x \mid \mu_j, \Sigma_j)$, fitted by maximising the
log-likelihood $\sum_i \log p(x_i)$ with **expectation-maximisation**. Each step of this run is one
EM iteration:

1. **E-step:** responsibilities $r_{ij} = \pi_j \mathcal{N}(x_i \mid \mu_j, \Sigma_j) / p(x_i)$;
2. **M-step:** $\pi_j = \frac{1}{N}\sum_i r_{ij}$, $\mu_j = \frac{\sum_i r_{ij} x_i}{\sum_i r_{ij}}$,
   $\Sigma_j = \frac{\sum_i r_{ij} (x_i - \mu_j)(x_i - \mu_j)^\top}{\sum_i r_{ij}}$.

EM never decreases the likelihood. Each row's cluster is its most responsible component. The curve
shows the mean log-likelihood per row; the **BIC**, $-2 \log L + p \log N$ with $p$ free parameters,
is logged at convergence and is what "Choose k" compares across $k$ (lower is better).

**What to look for:** unlike k-means, clusters can be elongated, tilted and of different sizes.
`full` covariances on many features need many rows per cluster; use `diag` if the fit is unstable.
Gaussians suit continuous columns: on one-hot (0/1) columns a component can collapse onto one value,
which inflates the likelihood; prefer k-means for mostly categorical data.
"""

    def make_estimator(self, seed: int, device: str) -> IterativeGaussianMixture:
        return IterativeGaussianMixture(self.config.n_components, self.config.covariance_type, self.config.tol, seed)
