"""The training loop shared by every run: steps, batched logging, snapshots, checkpoints, stopping.

It knows nothing about where events go: a :class:`Recorder` receives them. The local worker's
recorder writes to the run store; another backend (e.g. a Ray job) can ship the same events over
the wire. Overhead is kept off the step path: scalars stay as tensors until a flush converts them
together (one device sync per flush, not per step), and snapshot/checkpoint cadences adapt to
their own cost so they take a bounded share of the wall time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from unsup_core.algorithms.base import Algorithm


class Recorder(Protocol):
    def log(self, rows: list[tuple[str, int, float]], step: int, steps_per_second: float | None) -> None: ...
    def snapshot(self, step: int, arrays: dict[str, np.ndarray]) -> None: ...
    def checkpoint(self, step: int, state: dict) -> None: ...
    def stop_reason(self) -> str | None: ...


@dataclass
class LoopSettings:
    flush_interval: float = 0.5  # seconds between metric batches
    snapshot_min_interval: float = 1.0  # seconds; the first snapshot comes right after step 1
    snapshot_budget: float = 0.02  # largest share of wall time spent on snapshots
    checkpoint_interval: float = 60.0
    stop_check_interval: float = 0.2


@dataclass
class LoopResult:
    status: str  # "done", "cancelled" or "interrupted"
    step: int
    reason: str | None = None


def rows_from_buffer(buffer: list[tuple[int, dict]]) -> list[tuple[str, int, float]]:
    """Flatten buffered (step, {name: value}) into rows, converting all tensors in one go."""
    tensors = [value for _, values in buffer for value in values.values() if isinstance(value, torch.Tensor)]
    converted = iter(torch.stack([t.detach().float().reshape(()) for t in tensors]).tolist() if tensors else [])
    rows = []
    for step, values in buffer:
        for name, value in values.items():
            rows.append((name, step, next(converted) if isinstance(value, torch.Tensor) else float(value)))
    return rows


def checkpoint_payload(algorithm: Algorithm, step: int) -> dict:
    return {"algorithm": algorithm.name, "step": step, "state": algorithm.state_dict()}


def run_loop(algorithm: Algorithm, total_steps: int, recorder: Recorder, *, start_step: int = 0,
             settings: LoopSettings | None = None) -> LoopResult:
    """Step ``algorithm`` from ``start_step`` to ``total_steps`` (or until it finishes or is stopped)."""
    settings = settings or LoopSettings()
    step = start_step
    buffer: list[tuple[int, dict]] = []
    started = last_check = time.monotonic()
    next_flush = next_snapshot = next_checkpoint = started  # first flush and snapshot right after step 1
    rate_origin = (started, step)
    snapshot_cost = checkpoint_cost = 0.0
    stop = None

    def flush(now: float) -> None:
        elapsed = now - rate_origin[0]
        rate = (step - rate_origin[1]) / elapsed if elapsed > 0 and step > rate_origin[1] else None
        recorder.log(rows_from_buffer(buffer), step, rate)
        buffer.clear()

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
            snapshot_cost = done - now
            next_snapshot = done + max(settings.snapshot_min_interval, snapshot_cost / settings.snapshot_budget)
            if step - start_step == 1:
                # Rate over the first step would count setup-like warm-up; measure from here on.
                rate_origin = (done, step)
        if now - started >= settings.checkpoint_interval and now >= next_checkpoint:
            recorder.checkpoint(step, checkpoint_payload(algorithm, step))
            checkpoint_cost = time.monotonic() - now
            next_checkpoint = now + max(settings.checkpoint_interval, checkpoint_cost / settings.snapshot_budget)

    flush(time.monotonic())
    recorder.snapshot(step, algorithm.snapshot())
    recorder.checkpoint(step, checkpoint_payload(algorithm, step))
    if stop:
        status = "cancelled" if stop == "cancelled" else "interrupted"
        return LoopResult(status, step, None if stop == "cancelled" else stop)
    return LoopResult("done", step)
