"""The expected time of the rest of an ablation's grid, from the cells finished so far (issue 32).

A cell's work is its epochs times its training set's size in real sets (ratio 1 trains on twice the images), and
each recipe (model, size, weights, real or synthetic-only data) has its own seconds per unit of work, taken from its
finished cells: a scratch net at 80 epochs is not timed by a pretrained one at 6.
"""
from __future__ import annotations

from collections import defaultdict

from common.eta import duration


def work(options: dict, class_counts: dict[str, int]) -> float:
    """A cell's epochs in real-set units: epochs × (reals + the synthetic images its ratio adds) / reals."""
    from augment.mixing import BALANCE, quota_for

    ratio = BALANCE if options.get("balance") else options.get("ratio")
    extra = 0.0
    if ratio and class_counts:
        extra = sum(quota_for(class_counts, None, ratio).values()) / max(1, sum(class_counts.values()))
    return float(options["epochs"]) * (1.0 + extra)


def recipe(options: dict) -> str:
    """What decides a cell's seconds per unit of work, as a short label."""
    weights = "pretrained" if options.get("lite0_imagenet") or options.get("pretrained") else "scratch"
    synthetic_only = str((options.get("data") or {}).get("data", "")).endswith(".csv")
    return f"{options['model']} {options['size']} px {weights}" + (" (synthetic only)" if synthetic_only else "")


class GridForecast:
    """Cells by name → (recipe, work); `done(name, seconds)` learns from a finished cell, `line()` says the rest."""

    def __init__(self, cells: dict[str, dict], class_counts: dict[str, int], jobs: int = 1):
        self.todo = {name: (recipe(o), work(o, class_counts)) for name, o in cells.items()}
        self.jobs = max(1, jobs)
        self.spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # recipe → [seconds, work]

    def done(self, name: str, seconds: float | None) -> None:
        r, w = self.todo.pop(name, (None, 0.0))
        if r is not None and seconds is not None:
            self.spent[r][0] += seconds
            self.spent[r][1] += w

    def line(self) -> str:
        """'≈ 1 h 10 min left for 27 (2 at a time)', and how many wait for their recipe's first cell (short: it
        ends a cell's console line)."""
        if not self.todo:
            return ""
        known = [(r, w) for r, w in self.todo.values() if self.spent[r][1] > 0]
        secs = sum(w * self.spent[r][0] / self.spent[r][1] for r, w in known)
        out = []
        if known:
            out.append(f"≈ {duration(secs / self.jobs)} left for {len(known)}"
                       + (f" ({self.jobs} at a time)" if self.jobs > 1 else ""))
        if len(known) < len(self.todo):
            out.append(f"{len(self.todo) - len(known)} of recipes not timed yet")
        return ", ".join(out)

    def untimed(self) -> list[str]:
        """The recipes of the cells left that no finished cell has timed."""
        return sorted({r for r, _ in self.todo.values() if self.spent[r][1] == 0})
