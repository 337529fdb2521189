"""Expected time of long work, measured on the first steps: what train-gan, train and ablate say up front."""
from __future__ import annotations

import time

WARMUP_STEPS = 1     # the first step pays one-off costs (allocator, cudnn autotune, lazy imports): not timed
MEASURE_S = 5.0      # time at least this long ...
MEASURE_STEPS = 3    # ... and at least this many steps before a rate is trusted


def duration(seconds: float) -> str:
    """A duration as a person reads it: '48 s', '7 min 05 s', '6 h 19 min'."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class RateMeter:
    """Steps per second from the steps after the warm-up one; `rate` is None until enough were timed.

    Call `tick()` after each step (after the device finished it, where that matters)."""

    def __init__(self, warmup: int | None = None, min_s: float | None = None, min_steps: int | None = None,
                 clock=time.perf_counter):
        self.warmup = WARMUP_STEPS if warmup is None else warmup
        self.min_s = MEASURE_S if min_s is None else min_s
        self.min_steps = MEASURE_STEPS if min_steps is None else min_steps
        self.clock = clock
        self.seen, self.base, self.t0, self.rate = 0, 0, None, None

    def tick(self, n: int = 1) -> float | None:
        """Count `n` finished steps; returns the rate the first time it is known, else None."""
        self.seen += n
        if self.rate is not None:
            return None
        if self.t0 is None:  # the clock starts once the warm-up steps are done
            if self.seen >= self.warmup:
                self.t0, self.base = self.clock(), self.seen
            return None
        steps, elapsed = self.seen - self.base, self.clock() - self.t0
        if steps >= self.min_steps and elapsed >= self.min_s:
            self.rate = steps / elapsed
            return self.rate
        return None
