"""The training loop shared by every run: steps, batched logging, snapshots, checkpoints, stopping.

It knows nothing about where events go: a :class:`Recorder` receives them. The local worker's
recorder writes to the run store from a background thread; another backend (e.g. a Ray job) can
ship the same events over the wire. Overhead is kept off the step path: a step only appends its
scalars (tensors stay tensors) to a buffer, which is handed over every ``flush_interval`` and
converted and written by the recorder (one device sync per flush, not per step); snapshot and
checkpoint cadences adapt to their own cost so they take a bounded share of the wall time.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from unsup_core.algorithms.base import Algorithm


class Recorder(Protocol):
    def log(self, entries: list[tuple[int, dict]], step: int, steps_per_second: float | None) -> None:
        """Take buffered (step, {name: scalar or 0-d tensor}) entries; may write them later."""

    def snapshot(self, step: int, arrays: dict[str, np.ndarray]) -> None: ...
    def checkpoint(self, step: int, state: dict) -> None: ...
    def stop_reason(self) -> str | None: ...

    def close(self) -> None:
        """Wait until everything logged is written; raise if a write failed."""


@dataclass
class LoopSettings:
    flush_interval: float = 0.5  # seconds between metric batches
    snapshot_min_interval: float = 1.0  # seconds; the first snapshot comes right after step 1
    snapshot_budget: float = 0.02  # largest share of wall time spent on snapshots
    first_checkpoint_after: float = 5.0  # so a run killed early can still resume
    checkpoint_interval: float = 30.0
    stop_check_interval: float = 0.2


@dataclass
class LoopResult:
    status: str  # "done", "cancelled" or "interrupted"
    step: int
    reason: str | None = None


def tensors_to_floats(tensors: list[torch.Tensor]) -> list[float]:
    """Scalars from 0-d tensors: ``item()`` on the CPU (cheapest), one stacked copy from a GPU
    (one device sync per flush instead of one per value)."""
    if not tensors:
        return []
    if all(t.device.type == "cpu" for t in tensors):
        return [t.item() for t in tensors]
    with torch.no_grad():
        return torch.stack([t.reshape(()).to(tensors[0].device, torch.float64) for t in tensors]).tolist()


def rows_from_buffer(buffer: list[tuple[int, dict]]) -> list[tuple[str, int, float]]:
    """Flatten buffered (step, {name: value}) into rows, converting all tensors in one go."""
    tensors = [value for _, values in buffer for value in values.values() if isinstance(value, torch.Tensor)]
    converted = iter(tensors_to_floats(tensors))
    rows = []
    for step, values in buffer:
        for name, value in values.items():
            rows.append((name, step, next(converted) if isinstance(value, torch.Tensor) else float(value)))
    return rows


def checkpoint_payload(algorithm: Algorithm, step: int) -> dict:
    return {"algorithm": algorithm.name, "step": step, "state": algorithm.state_dict()}


def run_loop(algorithm: Algorithm, total_steps: int, recorder: Recorder, *, start_step: int = 0,
             settings: LoopSettings | None = None) -> LoopResult:
    """Step ``algorithm`` from ``start_step`` to ``total_steps`` (or until it finishes or is stopped).

    Whatever happens, everything logged before the end (or the failure) is written before returning.
    """
    try:
        result = _train(algorithm, total_steps, recorder, start_step, settings or LoopSettings())
    except BaseException:
        with contextlib.suppress(Exception):
            recorder.close()  # keep the metrics logged before the failure; the failure is what counts
        raise
    recorder.close()
    return result


def _train(algorithm: Algorithm, total_steps: int, recorder: Recorder, start_step: int,
           settings: LoopSettings) -> LoopResult:
    step = start_step
    buffer: list[tuple[int, dict]] = []
    started = last_check = time.monotonic()
    next_flush = next_snapshot = started  # first flush and snapshot right after step 1
    next_checkpoint = started + settings.first_checkpoint_after
    rate_origin = (started, step)
    stop = None

    def flush(now: float) -> None:
        nonlocal buffer
        elapsed = now - rate_origin[0]
        rate = (step - rate_origin[1]) / elapsed if elapsed > 0 and step > rate_origin[1] else None
        recorder.log(buffer, step, rate)
        buffer = []

    while step < total_steps and not algorithm.finished:
        now = time.monotonic()
        if now - last_check >= settings.stop_check_interval:
            last_check = now
            stop = recorder.stop_reason()
            if stop:
                break
        values = algorithm.step()
        step += 1
        buffer.append((step, values))
        now = time.monotonic()
        if now >= next_flush:
            flush(now)
            next_flush = now + settings.flush_interval
        if now >= next_snapshot:
            recorder.snapshot(step, algorithm.snapshot())
            done = time.monotonic()
            next_snapshot = done + max(settings.snapshot_min_interval, (done - now) / settings.snapshot_budget)
            if step - start_step == 1:
                # Rate over the first step would count setup-like warm-up; measure from here on.
                rate_origin = (done, step)
        if now >= next_checkpoint:
            # Hand over the metrics up to this step first: a resume rewrites only the steps after the
            # checkpoint, so rows before it that were never written would leave a gap for good.
            flush(now)
            next_flush = now + settings.flush_interval
            recorder.checkpoint(step, checkpoint_payload(algorithm, step))
            done = time.monotonic()
            next_checkpoint = done + max(settings.checkpoint_interval, (done - now) / settings.snapshot_budget)

    flush(time.monotonic())
    recorder.snapshot(step, algorithm.snapshot())
    recorder.checkpoint(step, checkpoint_payload(algorithm, step))
    if stop:
        status = "cancelled" if stop == "cancelled" else "interrupted"
        return LoopResult(status, step, None if stop == "cancelled" else stop)
    return LoopResult("done", step)
