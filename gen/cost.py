"""What a train-gan run costs on this device: the expected time of the steps asked, the steps a time budget
buys, and, when that is too few to learn anything, the settings that would buy enough (issue 32)."""
from __future__ import annotations

from dataclasses import dataclass
from common.eta import duration

# Below this many steps a run has not learnt its classes yet: on the digits the default's class agreement rose from
# 0.56 at 400 steps to 0.99 at 800 (issue 30), the CIFAR-10 grids train 1,600, and a photo run of 160 steps at 64 px
# made a checkerboard tinted with each class's colour (issue 32).
USEFUL_STEPS = 1000


@dataclass
class Plan:
    """The run's pace once measured, and what it means for the steps asked or the budget given."""

    rate: float                 # G steps per second here (all D steps and class models of a step included)
    steps: int                  # the last step: what was asked, or what the budget buys if that is fewer
    eta_s: float                # expected seconds from now to that step, snapshots included
    budget_s: float | None = None
    bought: int | None = None   # the last step the budget pays for, whatever was asked

    @property
    def too_few(self) -> bool:
        """The budget cannot pay for a useful run at this size and width here."""
        return self.bought is not None and self.bought < USEFUL_STEPS


def plan(rate: float, step: int, asked: int, spent_s: float, budget_s: float | None, snapshot_s: float,
         snapshot_every: int) -> Plan:
    """The steps to run from `step` at `rate` steps/s: `asked`, or as many as the budget's rest buys (a snapshot
    of `snapshot_s` seconds every `snapshot_every` steps counted), never more than asked and never fewer than now."""
    per_step = 1.0 / rate + snapshot_s / snapshot_every
    bought = None if budget_s is None else step + max(0, int((budget_s - spent_s) / per_step))
    steps = asked if bought is None else min(asked, bought)
    return Plan(rate, steps, (steps - step) * per_step, budget_s, bought)


def describe(p: Plan, where: str) -> str:
    """One line: the pace, and the time of the steps asked or the steps the budget buys."""
    pace = f"{p.rate:.3g} steps/s {where}"
    if p.budget_s is None:
        return f"train-gan: {pace}: {p.steps:,} steps take ≈ {duration(p.eta_s)} more (snapshots included)"
    capped = f", --steps stops at {p.steps:,}" if p.steps < p.bought else ""
    return (f"train-gan: {pace}: the {duration(p.budget_s)} budget buys {p.bought:,} steps{capped} "
            f"(≈ {duration(p.eta_s)} more)")


def alternatives(size: int, ngf: int, ndf: int) -> list[tuple[str, dict]]:
    """Cheaper settings worth naming, as (flags, GanOptions changes): half the widths, 32 px, both."""
    out = []
    if min(ngf, ndf) >= 16:
        out.append((f"--ngf {ngf // 2} --ndf {ndf // 2}", {"ngf": ngf // 2, "ndf": ndf // 2}))
    if size > 32:
        out.append(("--size 32", {"size": 32}))
        if out[0][1].get("ngf"):
            out.append((f"--size 32 --ngf {ngf // 2} --ndf {ndf // 2}", {"size": 32, "ngf": ngf // 2,
                                                                         "ndf": ndf // 2}))
    return out


def advice(p: Plan, timed: list[tuple[str, float | None]], on_gpu: bool) -> str:
    """What would reach USEFUL_STEPS within the budget: each cheaper setting with its pace measured here (None: not
    measured, e.g. under DDP), and a GPU when this is a CPU."""
    said = []
    for flags, r in timed:
        if r is None:
            said.append(flags)
            continue
        n = int(p.budget_s * r) if p.budget_s else 0
        said.append(f"{flags}: {r:.3g} steps/s, ~{n:,} steps" + (" (enough)" if n >= USEFUL_STEPS else ""))
    if not on_gpu:
        said.append("a GPU (README: steps/s by size and width)")
    head = (f"train-gan: {p.bought:,} steps are too few to learn the classes (a useful run needs ~{USEFUL_STEPS:,}) "
            f"at this size and width on this device")
    return head + ("; within the budget: " + "; ".join(said) if said else "")
