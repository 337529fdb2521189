"""Progress bars that suit where they are read: tqdm on a terminal, sparse whole lines in a log or a pipe."""
from __future__ import annotations

import sys
import time

LOG_INTERVAL_S = 30.0  # a log gets one line per half minute, not hundreds of carriage-return redraws
MIN_WORK_S = 1.0       # ... and none for work done within a second: its 0% and 100% lines would only be noise


class _Lines:
    """A file for tqdm that turns each redraw into one plain line (no carriage returns, no blank clears), from
    MIN_WORK_S after the bar began (one file per bar, made with it)."""

    def __init__(self, stream):
        self.stream = stream
        self.t0 = time.monotonic()

    def write(self, s: str) -> None:
        s = s.replace("\r", "").replace("\x1b[A", "").strip()
        if s and time.monotonic() - self.t0 >= MIN_WORK_S:
            self.stream.write(s + "\n")

    def flush(self) -> None:
        self.stream.flush()


def on_terminal(stream=None) -> bool:
    stream = stream or sys.stderr
    return hasattr(stream, "isatty") and stream.isatty()


def progress_bar(iterable=None, **kw):
    """`tqdm(iterable, **kw)` on a terminal; elsewhere a line every LOG_INTERVAL_S seconds and one at the end, none
    for work under MIN_WORK_S."""
    from tqdm import tqdm

    if not on_terminal() and not kw.get("disable"):
        kw.update(file=_Lines(sys.stderr), mininterval=max(kw.get("mininterval", 0), LOG_INTERVAL_S),
                  maxinterval=max(kw.get("mininterval", 0), LOG_INTERVAL_S),  # tqdm's monitor: every 10 s otherwise
                  dynamic_ncols=False, ncols=100, leave=True)
    return tqdm(iterable, **kw)
