"""The map of a self-organizing map: neuron positions, neighbourhood functions, schedules, U-matrix.

Conventions follow minisom (the reference implementation) so both backends, and every metric we
compute, mean the same thing:

- neuron ``k`` sits at grid cell ``(i, j) = divmod(k, cols)``; weights are [rows * cols, D] in that
  order (minisom's ``get_weights()`` reshaped);
- positions are minisom's Euclidean coordinates: ``(i, j)`` on a rectangular map; on a hexagonal map
  every other grid column is shifted by half a cell along ``i`` (the columns ``cols-1, cols-3, ...``)
  and columns are ``sqrt(3)/2`` apart, so all six neighbours are at distance 1;
- neighbourhoods (gaussian, mexican hat) use those positions; bubble uses the integer grid, as minisom;
- sigma and learning-rate schedules are minisom's decay functions of the sample count ``t`` out of
  ``T`` sample updates;
- topographic error counts a sample when its best and second-best units are not adjacent: on a
  rectangular map within grid distance 1.42 (8 neighbours), on a hexagonal map at distance 1.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

TOPOLOGIES = ("rectangular", "hexagonal")
NEIGHBORHOODS = ("gaussian", "mexican_hat", "bubble")
SIGMA_DECAYS = ("asymptotic", "inverse_to_one", "linear_to_one")
LR_DECAYS = ("asymptotic", "inverse_to_zero", "linear_to_zero")
# Our schedule names -> minisom's decay function names.
MINISOM_SIGMA_DECAY = {"asymptotic": "asymptotic_decay", "inverse_to_one": "inverse_decay_to_one",
                       "linear_to_one": "linear_decay_to_one"}
MINISOM_LR_DECAY = {"asymptotic": "asymptotic_decay", "inverse_to_zero": "inverse_decay_to_zero",
                    "linear_to_zero": "linear_decay_to_zero"}
HEX_ROW_STEP = math.sqrt(3) / 2
PRECOMPUTED_MAX_UNITS = 4096
RECT_ADJACENT = 1.42  # minisom's threshold: the 8 surrounding cells count as adjacent


def sigma_at(sigma: float, t: float, total: float, decay: str) -> float:
    """Neighbourhood radius after ``t`` of ``total`` sample updates (minisom's sigma decays)."""
    if decay == "asymptotic":
        return sigma / (1 + t / (total / 2))
    if decay == "inverse_to_one":
        return sigma / (1 + t * (sigma - 1) / total)
    if decay == "linear_to_one":
        return sigma + t * (1 - sigma) / total
    raise ValueError(f"sigma decay must be one of {SIGMA_DECAYS}, got {decay!r}")


def learning_rate_at(rate: float, t: float, total: float, decay: str) -> float:
    """Learning rate after ``t`` of ``total`` sample updates (minisom's learning-rate decays)."""
    if decay == "asymptotic":
        return rate / (1 + t / (total / 2))
    if decay == "inverse_to_zero":
        c = total / 100.0
        return rate * c / (c + t)
    if decay == "linear_to_zero":
        return rate * (1 - t / total)
    raise ValueError(f"learning-rate decay must be one of {LR_DECAYS}, got {decay!r}")


class MapGrid:
    """Geometry of a rows x cols map: positions, adjacency and neighbourhood weights."""

    def __init__(self, rows: int, cols: int, topology: str = "rectangular") -> None:
        if rows < 1 or cols < 1:
            raise ValueError(f"the map needs at least one row and one column, got {rows} x {cols}")
        if topology not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {TOPOLOGIES}, got {topology!r}")
        self.rows, self.cols, self.topology = int(rows), int(cols), topology
        i, j = np.divmod(np.arange(self.n_neurons), self.cols)
        self.cells = np.stack([i, j], axis=1)  # integer grid cell of each neuron [K, 2]
        position = self.cells.astype(np.float64)
        if topology == "hexagonal":
            # minisom shifts the columns cols-1, cols-3, ... by half a cell and squeezes columns.
            position[:, 0] -= 0.5 * ((self.cols - 1 - j) % 2 == 0)
            position[:, 1] *= HEX_ROW_STEP
        self.positions = position  # Euclidean position of each neuron [K, 2] (along i, along j)
        self._tensors: dict[tuple[str, str], tuple[np.ndarray, torch.Tensor]] = {}

    @property
    def n_neurons(self) -> int:
        return self.rows * self.cols

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols

    def __repr__(self) -> str:
        return f"MapGrid({self.rows}, {self.cols}, {self.topology!r})"

    # -- adjacency ------------------------------------------------------------------------------
    def adjacent(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether neurons ``a`` and ``b`` (index arrays) are neighbours on the map."""
        if self.topology == "hexagonal":
            distance = np.linalg.norm(self.positions[a] - self.positions[b], axis=-1)
            return np.isclose(distance, 1.0)
        distance = np.linalg.norm((self.cells[a] - self.cells[b]).astype(np.float64), axis=-1)
        return distance <= RECT_ADJACENT

    def neighbour_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """All ordered pairs (a, b) of adjacent, distinct neurons."""
        # Neighbours on either topology lie among the 8 surrounding grid cells.
        pairs_a, pairs_b = [], []
        i, j = self.cells[:, 0], self.cells[:, 1]
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                if di == dj == 0:
                    continue
                inside = (i + di >= 0) & (i + di < self.rows) & (j + dj >= 0) & (j + dj < self.cols)
                a = np.flatnonzero(inside)
                b = (i[a] + di) * self.cols + j[a] + dj
                keep = self.adjacent(a, b)
                pairs_a.append(a[keep])
                pairs_b.append(b[keep])
        a, b = np.concatenate(pairs_a), np.concatenate(pairs_b)
        order = np.lexsort((b, a))
        return a[order], b[order]

    # -- neighbourhood ---------------------------------------------------------------------------
    def _lookup(self, kind: str, device: torch.device | str) -> tuple[np.ndarray, torch.Tensor] | None:
        """(distances [V] float64, index [K, K] int32 into them) for maps up to 64 x 64 units.

        ``kind`` is "squared" (squared distance between positions: gaussian, mexican hat) or
        "chebyshev" (between integer cells: bubble). Both depend only on the cell offset (di, dj)
        and, on a hexagonal map, on the difference of the two columns' half-cell shifts, so there
        are at most (2 rows - 1)(2 cols - 1) 3 values: a neighbourhood is a function of those,
        computed on the host, plus one gather.
        """
        if self.n_neurons > PRECOMPUTED_MAX_UNITS:
            return None
        key = (kind, str(device))
        if key not in self._tensors:
            index, di, dj, dshift = _offset_index(self.rows, self.cols, self.topology)
            if kind == "chebyshev":
                values = np.maximum(np.abs(di), np.abs(dj)).astype(np.float64)
            else:
                step = HEX_ROW_STEP if self.topology == "hexagonal" else 1.0
                values = (di - 0.5 * dshift) ** 2 + (dj * step) ** 2
            self._tensors[key] = (values, index.to(device))
        return self._tensors[key]

    @staticmethod
    def _squared_distances(positions: torch.Tensor, centres: torch.Tensor | None) -> torch.Tensor:
        rows = positions if centres is None else positions[centres]
        return ((rows[:, None, 0] - positions[None, :, 0]).square()
                + (rows[:, None, 1] - positions[None, :, 1]).square())

    @staticmethod
    def _chebyshev(cells: torch.Tensor, centres: torch.Tensor | None) -> torch.Tensor:
        rows = cells if centres is None else cells[centres]
        return torch.maximum((rows[:, None, 0] - cells[None, :, 0]).abs(), (rows[:, None, 1] - cells[None, :, 1]).abs())

    def neighbourhood(self, centres: torch.Tensor | None, sigma: float, function: str,
                      dtype: torch.dtype = torch.float32, device: torch.device | str | None = None,
                      transform=None) -> torch.Tensor:
        """Weights h[c, k] of every neuron k around each centre neuron c: centres [B] -> [B, K].

        ``centres=None`` means every neuron (a [K, K] matrix, on ``device``). ``transform`` is applied
        elementwise to the weights (numpy arrays or tensors); on maps up to 64 x 64 it runs on the
        few distinct values only, on the host.
        """
        if function not in NEIGHBORHOODS:
            raise ValueError(f"neighbourhood must be one of {NEIGHBORHOODS}, got {function!r}")
        device = centres.device if centres is not None else torch.device(device or "cpu")
        kind = "chebyshev" if function == "bubble" else "squared"
        lookup = self._lookup(kind, device)
        if lookup is not None:
            values, index = lookup
            table = neighbourhood_profile(values, sigma, function, dtype)
            if transform is not None:
                table = transform(table)
            table = torch.as_tensor(table, dtype=dtype, device=device)
            rows = index if centres is None else index.index_select(0, centres)
            return table.index_select(0, rows.reshape(-1)).view(rows.shape)
        points = torch.as_tensor(self.cells if kind == "chebyshev" else self.positions, dtype=dtype, device=device)
        distance = (self._chebyshev if kind == "chebyshev" else self._squared_distances)(points, centres)
        weights = neighbourhood_profile(distance, sigma, function, dtype)
        return transform(weights) if transform is not None else weights

    def neighbourhood_numpy(self, centre: int, sigma: float, function: str) -> np.ndarray:
        """h[k] around one centre, in float64 (for tests against minisom)."""
        return self.neighbourhood(torch.tensor([centre]), sigma, function, torch.float64)[0].numpy()


@functools.lru_cache(maxsize=8)
def _offset_index(rows: int, cols: int, topology: str) -> tuple[torch.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    """For every pair of units the index of its (di, dj, shift difference) class, and each class's
    di, dj and shift difference (the shift is 1 on hexagonal maps' half-cell-shifted columns)."""
    i, j = np.divmod(np.arange(rows * cols), cols)
    shift = ((cols - 1 - j) % 2 == 0).astype(np.int64) if topology == "hexagonal" else np.zeros_like(j)
    n_dj = 2 * cols - 1
    code = ((i[None, :] - i[:, None] + rows - 1) * n_dj + (j[None, :] - j[:, None] + cols - 1)) * 3 \
        + (shift[None, :] - shift[:, None] + 1)
    classes = np.arange((2 * rows - 1) * n_dj * 3)
    dshift = classes % 3 - 1
    dj = (classes // 3) % n_dj - (cols - 1)
    di = classes // (3 * n_dj) - (rows - 1)
    return torch.from_numpy(code.astype(np.int32)), di.astype(np.float64), dj.astype(np.float64), \
        dshift.astype(np.float64)


def neighbourhood_profile(distance, sigma: float, function: str, dtype: torch.dtype = torch.float64):
    """The neighbourhood function of a distance, for a numpy array or a tensor of distances.

    ``distance`` is the squared distance between positions (gaussian, mexican hat) or the Chebyshev
    distance between grid cells (bubble). Far gaussian tails are cut to exact zeros below
    eps/1000 of ``dtype``: they could not move a weight anyway, and subnormal floats slow CPU
    arithmetic down by orders of magnitude.
    """
    if function == "bubble":
        # minisom: a square of integer cells strictly within sigma of the centre, on any topology.
        return (distance < sigma) * 1.0
    exp = torch.exp if torch.is_tensor(distance) else np.exp
    exponent = distance * (1.0 / (2 * sigma * sigma))
    bell = exp(-exponent) * (exponent < -math.log(torch.finfo(dtype).eps * 1e-3))
    if function == "gaussian":
        return bell
    if function == "mexican_hat":
        return bell * (1 - 2 * exponent)
    raise ValueError(f"neighbourhood must be one of {NEIGHBORHOODS}, got {function!r}")


def umatrix(weights: np.ndarray, grid: MapGrid) -> np.ndarray:
    """Mean distance from each neuron's weights to its map neighbours' weights [K].

    High values are borders between regions of the data; low values are the inside of a region.
    The mean (not minisom's max-normalised sum) keeps edge cells, which have fewer neighbours,
    comparable with inner ones, and keeps the data's units.
    """
    weights = np.asarray(weights, dtype=np.float64)
    a, b = grid.neighbour_pairs()
    distances = np.linalg.norm(weights[a] - weights[b], axis=1)
    total = np.bincount(a, weights=distances, minlength=grid.n_neurons)
    count = np.bincount(a, minlength=grid.n_neurons)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)
