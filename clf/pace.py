"""`train` says what the run will take: from the pace of its first batches, then from its first whole epoch."""
from __future__ import annotations

import math
import sys

import lightning.pytorch as pl
import torch

from common.eta import RateMeter, duration


class Pace(pl.Callback):
    """Two lines on stderr (rank 0): the expected training time once the first batches are timed (validation and
    test scoring extra), and the time left once the first epoch, validation included, is done."""

    def __init__(self, stream=None):
        self.stream = stream
        self.meter = RateMeter()
        self.said_batches = self.said_epoch = False
        self.t_epoch = None

    def _say(self, trainer, line: str) -> None:
        if trainer.is_global_zero:
            print(f"train: {line}", file=self.stream or sys.stderr, flush=True)

    def on_train_epoch_start(self, trainer, module) -> None:
        if not self.said_epoch:
            self.t_epoch = self.meter.clock()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if self.said_batches:
            return
        if module.device.type == "cuda":  # the pace of finished batches, not of queued kernels
            torch.cuda.synchronize(module.device)
        rate = self.meter.tick()
        per_epoch = trainer.num_training_batches
        if rate is None or not math.isfinite(per_epoch):
            return
        self.said_batches = True
        left = per_epoch * (trainer.max_epochs - trainer.current_epoch) - (batch_idx + 1)
        self._say(trainer, f"{rate:.3g} batches/s here: {trainer.max_epochs - trainer.current_epoch} epoch(s) of "
                           f"{per_epoch} batches take ≈ {duration(left / rate)} more (validation and test extra)")

    def on_train_epoch_end(self, trainer, module) -> None:
        if self.said_epoch or self.t_epoch is None:
            return
        self.said_epoch = True
        took = self.meter.clock() - self.t_epoch
        rest = trainer.max_epochs - trainer.current_epoch - 1
        if rest > 0:
            self._say(trainer, f"epoch {trainer.current_epoch + 1} of {trainer.max_epochs} took {duration(took)} "
                               f"with validation: the other {rest} ≈ {duration(rest * took)} (test extra)")
