"""Choosing the torch device for a run: CUDA when present, else CPU."""

from __future__ import annotations

from unsup_core.errors import UserError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


class DeviceError(UserError):
    pass


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_device(requested: str = "auto") -> str:
    """Map ``auto|cpu|cuda`` to a concrete device, refusing ``cuda`` where there is none."""
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {requested!r}")
    if requested == "cpu":
        return "cpu"
    if cuda_available():
        return "cuda"
    if requested == "cuda":
        raise DeviceError("device=cuda was asked for but no CUDA GPU is available; use auto or cpu")
    return "cpu"


def describe_device(device: str) -> str:
    """A short human label, e.g. 'CUDA: NVIDIA H100' or 'CPU (2 threads)'."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)}"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"
