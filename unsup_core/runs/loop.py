"""The training loop shared by every run: steps, batched logging, snapshots, checkpoints, stopping.

It knows nothing about where events go: a :class:`Recorder` receives them. The local worker's
recorder writes to the run store from a background thread; another backend (e.g. a Ray job) can
ship the same events over the wire. Overhead is kept off the step path: a step only appends its
scalars (tensors stay tensors) to a buffer, which is handed over every ``flush_interval`` and
converted and written by the recorder (one device sync per flush, not per step); snapshot and
checkpoint cadences adapt to their own cost so they take a bounded share of the wall time.

Between steps, at the same cadence as the stop check, the loop reads its controls: a paused run
holds at a step boundary (after a flush, a snapshot and a checkpoint, so the views show where it
stopped) until it is asked to reach a later step or played again; hyperparameter changes are applied, checkpointed
(so a resumed run continues with them) and only then recorded as applied at that step.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from unsup_core.algorithms.base import Algorithm
from unsup_core.runs.control import Change, Control


class Recorder(Protocol):
    def log(self, entries: list[tuple[int, dict]], step: int, steps_per_second: float | None) -> None:
        """Take buffered (step, {name: scalar or 0-d tensor}) entries; may write them later."""

    def snapshot(self, step: int, arrays: dict[str, np.ndarray]) -> None: ...
    def checkpoint(self, step: int, state: dict) -> None: ...
    def stop_reason(self) -> str | None: ...

    def control(self) -> Control:
        """Pause flag, the step to hold at while paused, changes to apply."""

    def changes_applied(self, changes: tuple[Change, ...], step: int) -> None: ...

    def holding(self, step: int | None) -> None:
        """The loop holds at ``step`` while paused (None: it trains again)."""

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
    started = time.monotonic()
    last_check = started - settings.stop_check_interval  # read the controls before the first step
    next_flush = next_snapshot = started  # first flush and snapshot right after step 1
    next_checkpoint = started + settings.first_checkpoint_after
    rate_origin = (started, step)
    snapshot_step = None
    stop = None
    control, held = Control(), False

    def flush(now: float) -> None:
        nonlocal buffer
        elapsed = now - rate_origin[0]
        rate = (step - rate_origin[1]) / elapsed if elapsed > 0 and step > rate_origin[1] else None
        recorder.log(buffer, step, rate)
        buffer = []

    def checkpoint() -> None:
        # A checkpoint must never be ahead of the stored metrics, or a resumed run would have a gap.
        nonlocal next_flush
        flush(time.monotonic())
        next_flush = time.monotonic() + settings.flush_interval
        recorder.checkpoint(step, checkpoint_payload(algorithm, step))

    def snapshot() -> None:
        nonlocal snapshot_step
        recorder.snapshot(step, algorithm.snapshot())
        snapshot_step = step

    while step < total_steps and not algorithm.finished:
        now = time.monotonic()
        if now - last_check >= settings.stop_check_interval:
            last_check = now
            stop = recorder.stop_reason()
            if stop:
                break
            control = recorder.control()
            if control.changes:
                for change in control.changes:
                    algorithm.adjust(change.name, change.value)
                checkpoint()
                recorder.changes_applied(control.changes, step)
        if control.holds_at(step):
            if not held:
                if snapshot_step != step:
                    snapshot()
                checkpoint()
                recorder.holding(step)
                held = True
            time.sleep(settings.stop_check_interval)
            continue
        if held:
            recorder.holding(None)
            held = False
            rate_origin = (time.monotonic(), step)  # steps per second while training, not while held
        values = algorithm.step()
        step += 1
        buffer.append((step, values))
        now = time.monotonic()
        if now >= next_flush:
            flush(now)
            next_flush = now + settings.flush_interval
        if now >= next_snapshot:
            snapshot()
            done = time.monotonic()
            next_snapshot = done + max(settings.snapshot_min_interval, (done - now) / settings.snapshot_budget)
            if step - start_step == 1:
                # Rate over the first step would count setup-like warm-up; measure from here on.
                rate_origin = (done, step)
        if now >= next_checkpoint:
            checkpoint()
            done = time.monotonic()
            next_checkpoint = done + max(settings.checkpoint_interval, (done - now) / settings.snapshot_budget)

    flush(time.monotonic())
    if snapshot_step != step:
        snapshot()
    recorder.checkpoint(step, checkpoint_payload(algorithm, step))
    if stop:
        status = "cancelled" if stop == "cancelled" else "interrupted"
        return LoopResult(status, step, None if stop == "cancelled" else stop)
    return LoopResult("done", step)
