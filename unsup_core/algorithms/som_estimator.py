"""Self-organizing maps with a scikit-learn-style API and two backends behind one set of parameters.

``backend="batched"`` (ours, torch, CUDA when asked) updates the map once per minibatch: best-matching
units for the whole batch come from one matmul, and the neighbourhood update is

    W_k <- W_k + phi(L_k) * sum_i -log(1 - eta * h(b_i, k)) * (x_i - W_k),
    L_k = sum_i log(1 - eta * h(b_i, k)),   phi(L) = (exp(L) - 1) / L,

which is exactly what the online rule ``W_k <- W_k + eta * h(b_i, k) * (x_i - W_k)`` does when the
batch's samples are applied one after another, up to how the pull is shared among the samples (the
product of the ``(1 - eta * h)`` factors, i.e. how far each unit moves, is exact; with one sample per
batch it *is* the online rule). So a large batch never overshoots the way a summed update would, and
with a neighbourhood that only touches the winner (sigma -> 0) it is online/minibatch k-means.

``backend="minisom"`` runs minisom's own ``update``/``winner`` in the same order as
``MiniSom.train(data, n_updates, random_order=True)``: the reference, bit for bit.

Both start from minisom's initialisation for the same seed (``random``: random samples; ``pca``: the
mean plus a grid over [-1, 1] x [-1, 1] along the first two principal axes), so differences between
the maps come from training alone. Fitted attributes: ``weights_`` [K, D] (K = rows * cols, neuron
``k`` at grid cell ``divmod(k, cols)``), ``grid`` (a :class:`MapGrid`), ``n_updates_`` (samples seen).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from unsup_core.algorithms.som_grid import (LR_DECAYS, MINISOM_LR_DECAY, MINISOM_SIGMA_DECAY, NEIGHBORHOODS,
                                            PRECOMPUTED_MAX_UNITS, SIGMA_DECAYS, TOPOLOGIES, MapGrid,
                                            learning_rate_at, sigma_at, umatrix)

BACKENDS = ("batched", "minisom")
INITS = ("pca", "random")
DEFAULT_EPOCHS = 10
MAX_MINISOM_UPDATES = 50_000_000  # minisom's sample order is one array of this many indices
_MAX_RATE = 1 - 1e-6  # keeps log(1 - eta * h) finite when eta * h reaches 1
_MAX_LOG_GROWTH = 10.0  # a batch may push a unit at most e^10 times further away (mexican hat)
_CHUNK_ELEMENTS = 2**24  # largest [samples, units] block computed at once


def minisom_initial_weights(X: np.ndarray, rows: int, cols: int, init: str, seed: int | None) -> np.ndarray:
    """The weights ``MiniSom(rows, cols, D, random_seed=seed)`` has after its ``<init>_weights_init(X)``.

    Returned as [rows * cols, D] float64, with the random state consumed exactly as minisom does
    (the constructor's draw first), so both backends start from the same map.
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    if init == "random":
        generator = np.random.RandomState(seed)
        generator.rand(rows, cols, d)  # minisom's constructor draws its (discarded) default weights first
        return X[[generator.randint(n) for _ in range(rows * cols)]].copy()
    if init == "pca":
        if d < 2:
            raise ValueError(f"pca initialisation needs at least 2 features, got n_features={d}; use init='random'")
        # One BLAS thread: on a busy machine numpy's threaded BLAS turns this small problem from
        # milliseconds into hundreds of them. Same operations as minisom, so the same result.
        with _blas_threads().limit(limits=1, user_api="blas"):
            eigenvalues, eigenvectors = np.linalg.eigh(np.cov(X, rowvar=False))
        order = np.argsort(eigenvalues)[::-1]
        first, second = eigenvectors[:, order[0]], eigenvectors[:, order[1]]
        c1 = np.linspace(-1, 1, rows)[:, None, None]
        c2 = np.linspace(-1, 1, cols)[None, :, None]
        return (X.mean(axis=0) + c1 * first + c2 * second).reshape(rows * cols, d)
    raise ValueError(f"init must be one of {INITS}, got {init!r}")


@functools.lru_cache(maxsize=1)
def _blas_threads():
    """threadpoolctl's controller, built once (finding the BLAS libraries takes milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def nearest_units(X: torch.Tensor, weights: torch.Tensor, *, second: bool = False,
                  chunk_rows: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(best unit [N], squared distance to it [N], second-best unit [N] or None), in row chunks
    (by default of at most 2^24 sample-unit distances, 64 MB in float32)."""
    chunk_rows = chunk_rows or max(1, min(16384, _CHUNK_ELEMENTS // len(weights)))
    weight_norms = (weights * weights).sum(dim=1)
    best = torch.empty(len(X), dtype=torch.long, device=X.device)
    best_d2 = torch.empty(len(X), dtype=weights.dtype, device=X.device)
    runner_up = torch.empty(len(X), dtype=torch.long, device=X.device) if second else None
    for start in range(0, len(X), chunk_rows):
        chunk = X[start:start + chunk_rows]
        rows = slice(start, start + len(chunk))
        best[rows], best_d2[rows], runner = _best_two(chunk, (chunk * chunk).sum(dim=1), weights, weight_norms,
                                                      second)
        if second:
            runner_up[rows] = runner
    return best, best_d2, runner_up


def _best_two(batch: torch.Tensor, batch_norms: torch.Tensor, weights: torch.Tensor, weight_norms: torch.Tensor,
              second: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Best unit, its squared distance, and the second-best unit (two min passes beat topk on CPU)."""
    # ||x - w||^2 = ||x||^2 - 2 x.w + ||w||^2; the ||x||^2 term does not change the ranking.
    scores = torch.addmm(weight_norms, batch, weights.T, alpha=-2)
    best = _argmin_rows(scores)
    best_d2 = (scores.gather(1, best.unsqueeze(1)).squeeze(1) + batch_norms).clamp_(min=0)
    runner_up = None
    if second:
        runner_up = _argmin_rows(scores.scatter_(1, best.unsqueeze(1), float("inf"))) if weights.shape[0] > 1 \
            else best
    return best, best_d2, runner_up


def _argmin_rows(scores: torch.Tensor) -> torch.Tensor:
    """Column of each row's minimum (the first one on ties). On the CPU numpy's vectorised argmin
    is about ten times faster than torch's, and the array is shared, not copied."""
    if scores.device.type == "cpu":
        return torch.from_numpy(scores.numpy().argmin(axis=1))
    return scores.argmin(dim=1)


def log_keep_of(eta: float):
    """h -> log(1 - eta * h): the log of the share of a unit's weights that an update leaves in place."""

    def log_keep(neighbourhood):
        if torch.is_tensor(neighbourhood):
            return neighbourhood.mul(-eta).clamp_(min=-_MAX_RATE).log1p_()
        return np.log1p(np.maximum(-eta * neighbourhood, -_MAX_RATE))

    return log_keep


def keep_and_share(log_total: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(e^L, phi(L) = expm1(L) / L) per unit, phi(0) = 1; L is clamped at _MAX_LOG_GROWTH.

    On the CPU these [K]-vectors go through numpy, whose per-call cost is a fraction of torch's.
    """
    if log_total.device.type == "cpu":
        L = np.minimum(log_total.numpy(), _MAX_LOG_GROWTH)  # a copy: log_total may be a strided view
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(np.abs(L) < 1e-6, 1 + L / 2, np.expm1(L) / L).astype(L.dtype)
        return torch.from_numpy(np.exp(L)), torch.from_numpy(share)
    L = log_total.clamp(max=_MAX_LOG_GROWTH)
    share = torch.where(L.abs() < 1e-6, 1 + L / 2, torch.expm1(L) / L)
    return L.exp(), share


class _BatchedBackend:
    """The vectorised SOM: one BMU matmul and one neighbourhood update per minibatch."""

    def __init__(self, som: "SOM", X: np.ndarray, initial: np.ndarray) -> None:
        self.som = som
        self.device = torch.device(som.device)
        self.dtype = getattr(torch, som.dtype)
        X = torch.as_tensor(np.asarray(X), dtype=self.dtype, device=self.device)
        self.X_ones = torch.cat([X, X.new_ones((len(X), 1))], dim=1)
        self.X = self.X_ones[:, :-1]
        self.X_norms = (self.X * self.X).sum(dim=1)
        self.weights = torch.as_tensor(initial, dtype=self.dtype, device=self.device).clone()
        grid = som.grid
        # Adjacency of every pair of units, for the topographic error of each batch (K^2 booleans).
        self.adjacency = None
        if grid.n_neurons <= PRECOMPUTED_MAX_UNITS:
            self.adjacency = torch.zeros((grid.n_neurons, grid.n_neurons), dtype=torch.bool)
            a, b = grid.neighbour_pairs()
            self.adjacency[a, b] = True
            self.adjacency = self.adjacency.to(self.device)
        self.generator = torch.Generator().manual_seed(0 if som.random_state is None else int(som.random_state))
        self.order = torch.randperm(len(self.X), generator=self.generator)
        self.cursor = 0

    def next_rows(self, count: int) -> torch.Tensor:
        """Indices of the next ``count`` samples: shuffled passes over the data, one after another."""
        parts = []
        while count > 0:
            if self.cursor >= len(self.order):
                self.order = torch.randperm(len(self.X), generator=self.generator)
                self.cursor = 0
            take = self.order[self.cursor:self.cursor + count]
            self.cursor += len(take)
            count -= len(take)
            parts.append(take)
        return (torch.cat(parts) if len(parts) > 1 else parts[0]).to(self.device)

    def _not_adjacent(self, best: torch.Tensor, runner_up: torch.Tensor) -> torch.Tensor:
        if self.adjacency is not None:
            return ~self.adjacency[best, runner_up]
        grid = self.som.grid
        return torch.as_tensor(~grid.adjacent(best.cpu().numpy(), runner_up.cpu().numpy()), device=self.device)

    def step(self, rows: torch.Tensor, t: float, total: float, measure: bool = True) -> dict:
        """Update the map with samples ``rows``, which are sample updates t .. t+B-1 of ``total``."""
        som, grid, weights = self.som, self.som.grid, self.weights
        # Samples with a column of ones: one matmul then gives each unit's pull and, in the last
        # column, its total log-keep L.
        batch_ones = self.X_ones.index_select(0, rows)
        batch = batch_ones[:, :-1]
        middle = t + (len(rows) - 1) / 2  # the schedules' value at the batch's middle sample
        eta = learning_rate_at(som.learning_rate, middle, total, som.lr_decay)
        sigma = sigma_at(som.sigma, middle, total, som.sigma_decay)
        metrics = {"sigma": sigma, "learning_rate": eta}
        # Best unit per sample: argmin_k ||w_k||^2 - 2 x.w_k (||x||^2 does not change the ranking).
        scores = torch.addmm((weights * weights).sum(dim=1), batch, weights.T, alpha=-2)
        best = _argmin_rows(scores)
        if measure:
            best_d2 = scores.gather(1, best.unsqueeze(1)).squeeze(1).add_(self.X_norms.index_select(0, rows))
            metrics["qe"] = best_d2.clamp_(min=0).sqrt_().mean()
            if grid.n_neurons > 1:
                runner_up = _argmin_rows(scores.scatter_(1, best.unsqueeze(1), float("inf")))
                metrics["te"] = self._not_adjacent(best, runner_up).to(self.dtype).mean()
        if len(rows) <= grid.n_neurons or grid.n_neurons > PRECOMPUTED_MAX_UNITS:
            # One neighbourhood row per sample, log(1 - eta * h) [B, K], in chunks of samples.
            chunk = max(1, _CHUNK_ELEMENTS // grid.n_neurons)
            pulled = 0
            for start in range(0, len(rows), chunk):
                log_keep = grid.neighbourhood(best[start:start + chunk], sigma, som.neighbourhood, self.dtype,
                                              transform=log_keep_of(eta))
                pulled = pulled + log_keep.T @ batch_ones[start:start + chunk]
        else:
            # Batches larger than the map: add up the samples (and counts) per winning unit first,
            # then one [K, K] neighbourhood pass.
            sums = batch_ones.new_zeros((grid.n_neurons, batch_ones.shape[1])).index_add_(0, best, batch_ones)
            log_keep = grid.neighbourhood(None, sigma, som.neighbourhood, self.dtype, self.device,
                                          transform=log_keep_of(eta))
            pulled = log_keep.T @ sums
        pull, log_total = pulled[:, :-1], pulled[:, -1]
        # With L = sum_i log_keep_i and phi(L) = expm1(L) / L (1 at L = 0), the update
        #   W + phi(L) * (sum_i -log_keep_i * x_i + L * W)   is   e^L * W - phi(L) * pull.
        keep, share = keep_and_share(log_total)
        weights.mul_(keep.unsqueeze(1)).addcmul_(share.unsqueeze(1), pull, value=-1)
        return metrics

    def weights_numpy(self) -> np.ndarray:
        return self.weights.cpu().numpy()

    def weights_tensor(self) -> torch.Tensor:
        return self.weights

    def get_state(self) -> dict:
        return {"weights": self.weights.cpu(), "generator": self.generator.get_state(), "order": self.order,
                "cursor": self.cursor}

    def set_state(self, state: dict) -> None:
        self.weights = state["weights"].to(self.device, self.dtype)
        self.generator.set_state(state["generator"])
        self.order = state["order"]
        self.cursor = int(state["cursor"])


class _MiniSomBackend:
    """minisom itself, stepped through the same sample sequence as ``MiniSom.train(random_order=True)``."""

    def __init__(self, som: "SOM", X: np.ndarray, total: int) -> None:
        from minisom import MiniSom

        if total > MAX_MINISOM_UPDATES:
            raise ValueError(f"the minisom backend trains one sample at a time: {total:,} updates is more than "
                             f"{MAX_MINISOM_UPDATES:,}; use the batched backend")
        self.som = som
        self.X = np.asarray(X, dtype=np.float64)
        self.minisom = MiniSom(som.rows, som.cols, self.X.shape[1], sigma=som.sigma, learning_rate=som.learning_rate,
                               decay_function=MINISOM_LR_DECAY[som.lr_decay],
                               neighborhood_function=som.neighbourhood, topology=som.topology,
                               activation_distance="euclidean", random_seed=som.random_state,
                               sigma_decay_function=MINISOM_SIGMA_DECAY[som.sigma_decay])
        if som.init == "random":
            self.minisom.random_weights_init(self.X)
        else:
            self.minisom.pca_weights_init(self.X)
        # MiniSom.train(random_order=True): arange(T) % N shuffled by the map's own random state.
        self.order = np.arange(total) % len(self.X)
        self.minisom._random_generator.shuffle(self.order)
        self.total = total
        self.grid = som.grid

    def step(self, rows: np.ndarray, t: int, total: int, measure: bool = True) -> dict:
        som, minisom = self.som, self.minisom
        flat = minisom._weights.reshape(-1, minisom._weights.shape[2])
        batch = torch.as_tensor(self.X[rows])
        best, best_d2, runner_up = nearest_units(batch, torch.as_tensor(flat), second=True)
        metrics = {"qe": float(best_d2.sqrt().mean())}
        if measure and self.grid.n_neurons > 1:
            metrics["te"] = float((~self.grid.adjacent(best.numpy(), runner_up.numpy())).mean())
        for offset, row in enumerate(rows):
            sample = self.X[row]
            minisom.update(sample, minisom.winner(sample), t + offset, total)
        middle = t + (len(rows) - 1) / 2
        metrics["sigma"] = sigma_at(som.sigma, middle, total, som.sigma_decay)
        metrics["learning_rate"] = learning_rate_at(som.learning_rate, middle, total, som.lr_decay)
        return metrics

    def weights_numpy(self) -> np.ndarray:
        return self.minisom.get_weights().reshape(self.grid.n_neurons, -1).copy()

    def weights_tensor(self) -> torch.Tensor:
        return torch.as_tensor(self.minisom.get_weights().reshape(self.grid.n_neurons, -1))

    def get_state(self) -> dict:
        return {"weights": torch.as_tensor(self.minisom.get_weights().copy())}

    def set_state(self, state: dict) -> None:
        self.minisom._weights[...] = state["weights"].numpy()


class SOM(ClusterMixin, TransformerMixin, BaseEstimator):
    """A self-organizing map (Kohonen) on a rows x cols grid.

    Parameters match minisom's where they overlap: ``sigma`` (initial neighbourhood radius, in grid
    cells), ``learning_rate`` (initial), ``sigma_decay`` / ``lr_decay`` (minisom's decay functions),
    ``neighbourhood`` ("gaussian", "mexican_hat", "bubble"), ``topology`` ("rectangular",
    "hexagonal"), ``init`` ("pca", "random"). ``n_updates`` is the number of sample updates the
    schedules run over (default: 10 passes over the data); ``batch_size`` the samples per step.
    """

    def __init__(self, rows: int = 10, cols: int = 10, *, topology: str = "rectangular",
                 neighbourhood: str = "gaussian", sigma: float = 3.0, learning_rate: float = 0.5,
                 sigma_decay: str = "asymptotic", lr_decay: str = "asymptotic", init: str = "pca",
                 n_updates: int | None = None, batch_size: int = 128, backend: str = "batched",
                 random_state: int | None = 0, device: str = "cpu", dtype: str = "float32") -> None:
        self.rows = rows
        self.cols = cols
        self.topology = topology
        self.neighbourhood = neighbourhood
        self.sigma = sigma
        self.learning_rate = learning_rate
        self.sigma_decay = sigma_decay
        self.lr_decay = lr_decay
        self.init = init
        self.n_updates = n_updates
        self.batch_size = batch_size
        self.backend = backend
        self.random_state = random_state
        self.device = device
        self.dtype = dtype

    # -- scikit-learn API -------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: None = None) -> "SOM":
        """Train the map; ``labels_`` [N] is then each training sample's best-matching unit."""
        self.start(X)
        while not self.done_:
            self.iterate(measure=False)
        self.labels_ = self.predict(X)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Index of each sample's best-matching unit (neuron ``k`` is grid cell ``divmod(k, cols)``)."""
        best, _, _ = nearest_units(self._as_tensor(X), self._weights_tensor())
        return best.cpu().numpy()

    def fit_predict(self, X: np.ndarray, y: None = None) -> np.ndarray:
        return self.fit(X).labels_

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Euclidean distance of each sample to each neuron's weights, [N, K]."""
        return torch.cdist(self._as_tensor(X), self._weights_tensor()).cpu().numpy()

    def score(self, X: np.ndarray, y: None = None) -> float:
        return -self.quantization_error(X)

    # -- SOM measures -----------------------------------------------------------------------------
    def evaluate(self, X: np.ndarray) -> dict:
        """Best unit per sample, hits per neuron, quantization and topographic error, in one pass."""
        best, best_d2, runner_up = nearest_units(self._as_tensor(X), self._weights_tensor(), second=True)
        best_np = best.cpu().numpy()
        result = {"bmu": best_np, "hits": np.bincount(best_np, minlength=self.grid.n_neurons),
                  "qe": float(best_d2.sqrt().mean())}
        result["te"] = float((~self.grid.adjacent(best_np, runner_up.cpu().numpy())).mean()) \
            if self.grid.n_neurons > 1 else float("nan")
        return result

    def quantization_error(self, X: np.ndarray) -> float:
        """Mean distance from each sample to its best-matching unit's weights."""
        return self.evaluate(X)["qe"]

    def topographic_error(self, X: np.ndarray) -> float:
        """Share of samples whose best and second-best units are not neighbours on the map."""
        return self.evaluate(X)["te"]

    def hits(self, X: np.ndarray) -> np.ndarray:
        return self.evaluate(X)["hits"]

    def umatrix(self) -> np.ndarray:
        return umatrix(self.weights_, self.grid)

    # -- incremental protocol ---------------------------------------------------------------------
    def start(self, X: np.ndarray, n_updates: int | None = None) -> "SOM":
        """Validate, initialise the weights and get ready for :meth:`iterate`."""
        self._validate_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_all_finite=False)
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinite values; impute or drop them first")
        if len(X) < 2:
            raise ValueError(f"n_samples={len(X)}: a map needs at least 2 samples")
        self.grid_ = MapGrid(self.rows, self.cols, self.topology)
        total = n_updates if n_updates is not None else self.n_updates
        self.total_updates_ = int(total if total is not None else DEFAULT_EPOCHS * len(X))
        if self.total_updates_ < 1:
            raise ValueError(f"n_updates must be >= 1, got {self.total_updates_}")
        if self.backend == "minisom":
            self._backend = _MiniSomBackend(self, X, self.total_updates_)
        else:
            initial = minisom_initial_weights(X, self.rows, self.cols, self.init, self.random_state)
            self._backend = _BatchedBackend(self, X, initial)
        self.n_updates_ = 0
        return self

    @property
    def done_(self) -> bool:
        return self.n_updates_ >= self.total_updates_

    def iterate(self, measure: bool = True) -> dict:
        """One step: the next ``batch_size`` sample updates (fewer at the very end).

        Returns the step's measures: ``qe`` and (when ``measure``) ``te`` of the step's samples
        against the map as it was before the step (tensors on the batched backend, so no device
        sync), ``sigma`` and ``learning_rate`` at the step's middle sample.
        """
        count = min(self.batch_size, self.total_updates_ - self.n_updates_)
        if count <= 0:
            raise RuntimeError("the schedule is complete; call start() to train again")
        t = self.n_updates_
        if self.backend == "minisom":
            metrics = self._backend.step(self._backend.order[t:t + count], t, self.total_updates_, measure)
        else:
            metrics = self._backend.step(self._backend.next_rows(count), t, self.total_updates_, measure)
        self.n_updates_ += count
        return metrics

    @property
    def grid(self) -> MapGrid:
        """The fitted map's grid (cells, positions, neighbours)."""
        return self.grid_

    @property
    def weights_(self) -> np.ndarray:
        """The prototypes, [rows * cols, D]."""
        return self._backend.weights_numpy()

    @property
    def cluster_centers_(self) -> np.ndarray:
        return self.weights_

    def set_learning_rate(self, learning_rate: float) -> None:
        """Rescale the learning-rate schedule from the next update on (its decay continues from here)."""
        self.learning_rate = float(learning_rate)
        if self.backend == "minisom" and hasattr(self, "_backend"):
            self._backend.minisom._learning_rate = self.learning_rate

    def get_state(self) -> dict:
        return {"backend": self._backend.get_state(), "n_updates": self.n_updates_}

    def set_state(self, state: dict) -> None:
        self._backend.set_state(state["backend"])
        self.n_updates_ = int(state["n_updates"])

    # -- internals --------------------------------------------------------------------------------
    def _weights_tensor(self) -> torch.Tensor:
        check_is_fitted(self, "_backend")
        return self._backend.weights_tensor()

    def _as_tensor(self, X: np.ndarray) -> torch.Tensor:
        """``X`` on the map's device; it must have the features the map was fitted on (scikit-learn's
        message names both counts)."""
        weights = self._weights_tensor()
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return torch.as_tensor(X, dtype=weights.dtype, device=weights.device)

    def _validate_params(self) -> None:
        checks = [
            (self.backend in BACKENDS, f"backend must be one of {BACKENDS}, got {self.backend!r}"),
            (self.topology in TOPOLOGIES, f"topology must be one of {TOPOLOGIES}, got {self.topology!r}"),
            (self.neighbourhood in NEIGHBORHOODS,
             f"neighbourhood must be one of {NEIGHBORHOODS}, got {self.neighbourhood!r}"),
            (self.sigma_decay in SIGMA_DECAYS, f"sigma_decay must be one of {SIGMA_DECAYS}, got {self.sigma_decay!r}"),
            (self.lr_decay in LR_DECAYS, f"lr_decay must be one of {LR_DECAYS}, got {self.lr_decay!r}"),
            (self.init in INITS, f"init must be one of {INITS}, got {self.init!r}"),
            (self.dtype in ("float32", "float64"), f"dtype must be float32 or float64, got {self.dtype!r}"),
            (int(self.rows) == self.rows >= 1 and int(self.cols) == self.cols >= 1,
             f"rows and cols must be positive integers, got {self.rows!r} x {self.cols!r}"),
            (math.isfinite(self.sigma) and self.sigma > 0, f"sigma must be > 0, got {self.sigma!r}"),
            (0 < self.learning_rate <= 1, f"learning_rate must be in (0, 1], got {self.learning_rate!r}"),
            (int(self.batch_size) == self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
