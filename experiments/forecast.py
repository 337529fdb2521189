"""The expected time of the rest of an ablation's grid, from the cells finished so far (issue 32).

A cell's work is its epochs times the images it trains on (ratio 1 trains on twice the reals, a headroom subset or a
CAS cell on what its manifest lists), and each recipe (model, size, weights) has its own seconds per unit of work,
taken from its finished cells: a scratch net at 80 epochs is not timed by a pretrained one at 6.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from common.eta import duration


def work(options: dict, class_counts: dict[str, int]) -> float:
    """A cell's work: epochs × (its data's images + the synthetic images its ratio adds)."""
    from augment.mixing import BALANCE, quota_for

    data = str((options.get("data") or {}).get("data", ""))
    if data.endswith(".csv") and Path(data).is_file():  # a manifest: a headroom subset, a CAS cell's fakes
        with open(data, encoding="utf-8") as f:
            n = max(0, sum(1 for _ in f) - 1)
    else:
        n = sum(class_counts.values())
    ratio = BALANCE if options.get("balance") else options.get("ratio")
    extra = sum(quota_for(class_counts, None, ratio).values()) if ratio and class_counts else 0
    return float(options["epochs"]) * (n + extra)


def recipe(options: dict) -> str:
    """What decides a cell's seconds per unit of work, as a short label."""
    weights = "pretrained" if options.get("lite0_imagenet") or options.get("pretrained") else "scratch"
    return f"{options['model']} {options['size']} px {weights}"


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
