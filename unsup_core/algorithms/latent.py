"""Paths through a latent space: linear and spherical interpolation, and per-dimension traversals.

Spherical interpolation (Shoemake 1985; White 2016 for generative models) keeps the path at the norm
typical of Gaussian noise, where a straight line between two samples dips towards the origin, a
region the generator rarely saw during training.
"""

from __future__ import annotations

import torch

INTERPOLATIONS = ("linear", "spherical")


def lerp(start: torch.Tensor, end: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 - t) * start + t * end, for start/end [D] and t [T]; returns [T, D]."""
    t = t[:, None]
    return (1 - t) * start + t * end


def slerp(start: torch.Tensor, end: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """sin((1-t)W)/sin(W) * start + sin(tW)/sin(W) * end, W the angle between them; returns [T, D].

    Falls back to :func:`lerp` when the two vectors are (anti)parallel and sin(W) vanishes.
    """
    cosine = torch.dot(start, end) / (start.norm() * end.norm()).clamp_min(1e-12)
    angle = torch.arccos(cosine.clamp(-1.0, 1.0))
    if torch.sin(angle).abs() < 1e-6:
        return lerp(start, end, t)
    t = t[:, None]
    return (torch.sin((1 - t) * angle) * start + torch.sin(t * angle) * end) / torch.sin(angle)


def interpolation_paths(starts: torch.Tensor, ends: torch.Tensor, n_steps: int, mode: str) -> torch.Tensor:
    """Paths [P, n_steps, D] from each ``starts[p]`` to ``ends[p]`` ([P, D]); both endpoints included."""
    if mode not in INTERPOLATIONS:
        raise ValueError(f"mode must be one of {INTERPOLATIONS}, got {mode!r}")
    t = torch.linspace(0, 1, n_steps, device=starts.device, dtype=starts.dtype)
    path = lerp if mode == "linear" else slerp
    return torch.stack([path(start, end, t) for start, end in zip(starts, ends)])


def traversals(origin: torch.Tensor, dims: list[int], values: torch.Tensor) -> torch.Tensor:
    """Codes [len(dims), len(values), D]: ``origin`` [D] with dimension ``dims[k]`` set to each value."""
    codes = origin.expand(len(dims), len(values), -1).clone()
    for row, dim in enumerate(dims):
        codes[row, :, dim] = values
    return codes
