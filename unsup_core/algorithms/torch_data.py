"""Minibatches from a dataset held whole on the training device (no DataLoader overhead)."""

from __future__ import annotations

import numpy as np
import torch


class BatchSampler:
    """Shuffled minibatches without replacement, epoch after epoch, reproducible by seed.

    The whole ``X`` lives on ``device``; each batch is one index_select, which on small datasets is
    far cheaper than a DataLoader. Its position is part of :meth:`state_dict` so a resumed run sees
    the same batches it would have seen.
    """

    def __init__(self, X: np.ndarray, batch_size: int, device: str, seed: int) -> None:
        self.data = torch.as_tensor(X, dtype=torch.float32, device=device)
        self.batch_size = min(batch_size, len(self.data))
        self.generator = torch.Generator().manual_seed(seed)
        self._new_epoch()

    def _new_epoch(self) -> None:
        self.order = torch.randperm(len(self.data), generator=self.generator).to(self.data.device)
        self.cursor = 0

    def next(self) -> torch.Tensor:
        """The next batch [B, D]; the last partial batch of an epoch is dropped."""
        if self.cursor + self.batch_size > len(self.data):
            self._new_epoch()
        rows = self.order[self.cursor:self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return self.data.index_select(0, rows)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "order": self.order.cpu(), "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order = state["order"].to(self.data.device)
        self.cursor = int(state["cursor"])
