"""Real + synthetic mixing: how many synthetic images each class gets."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from common.errors import UserError


def synthetic_quota(real_counts: dict[str, int], available: dict[str, int], ratio: float | None = None,
                    balance: bool = False) -> dict[str, int]:
    """Per-class synthetic counts: ratio × real count, or (balance) top up to the largest class; capped by stock."""
    if balance == (ratio is not None):
        raise UserError("give exactly one of --ratio R or --balance")
    if ratio is not None and ratio < 0:
        raise UserError(f"--ratio {ratio}: must be ≥ 0")
    largest = max(real_counts.values()) if real_counts else 0
    # Half-up rounding (0.5 x 9 = 5), not Python's round-half-to-even, which would give 4.
    want = {c: (largest - n if balance else math.floor(ratio * n + 0.5)) for c, n in real_counts.items()}
    return {c: max(0, min(w, available.get(c, 0))) for c, w in want.items()}


BALANCE = "balance"
Ratio = float | str  # a number ≥ 0 (synthetic per real image of the class), or BALANCE


def parse_ratio(value) -> Ratio:
    """The one typed form of a ratio: a float ≥ 0, or "balance"; anything else is refused in one line."""
    if isinstance(value, str) and value.strip().lower() == BALANCE:
        return BALANCE
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UserError(f"ratio {value!r}: not a number or 'balance'; use e.g. ratios: [0, 0.5, 1, balance]") from None
    if not v >= 0:
        raise UserError(f"ratio {value!r}: must be ≥ 0")
    return v


def ratio_label(value) -> str:
    """0 → '0', 0.250 → '0.25', balance → 'balance': the one spelling in ids, CSVs and plots."""
    r = parse_ratio(value)
    return BALANCE if r == BALANCE else f"{r:g}"


def quota_for(real_counts: dict[str, int], available: dict[str, int] | None, ratio: Ratio) -> dict[str, int]:
    """`synthetic_quota` for a typed ratio; `available=None` means unlimited stock (what a ratio asks for)."""
    r = parse_ratio(ratio)
    stock = available if available is not None else {c: 2**62 for c in real_counts}
    return synthetic_quota(real_counts, stock, None if r == BALANCE else r, r == BALANCE)


def mix(real: pd.DataFrame, synthetic: pd.DataFrame, ratio: float | None = None, balance: bool = False,
        seed: int = 0) -> pd.DataFrame:
    """Real rows plus a seeded draw of synthetic rows per class (see `synthetic_quota`)."""
    unknown = sorted(set(synthetic["label"]) - set(real["label"]))
    if unknown:
        raise UserError(f"synthetic classes {', '.join(map(str, unknown))} are not in the real data; "
                        "generate images for this dataset's classes")
    real_counts = real["label"].value_counts().to_dict()
    quota = synthetic_quota(real_counts, synthetic["label"].value_counts().to_dict(), ratio, balance)
    rng = np.random.default_rng(seed)
    parts = [real.assign(source="real")]
    for cls, k in quota.items():
        if k:
            rows = synthetic[synthetic["label"] == cls]
            parts.append(rows.iloc[np.sort(rng.choice(len(rows), size=k, replace=False))].assign(source="synthetic"))
    return pd.concat(parts, ignore_index=True)


TOP = "top"


def parse_filter(value) -> str:
    """The one spelling of a synthetic-image filter: 'none'; '0.8' (keep images a real-data classifier gives at least
    0.8 for their class); 'top0.5' (keep each class's best-scored half, so every class keeps images)."""
    s = "none" if value is None else str(value).strip().lower()
    if s in ("none", "off", "false"):
        return "none"
    rank = s.startswith(TOP)
    try:
        f = float(s[len(TOP):] if rank else s)
    except ValueError:
        f = -1.0
    if rank and 0 < f < 1:  # top1 would keep everything: that is none
        return f"{TOP}{f:g}"
    if not rank and 0 < f < 1:
        return f"{f:g}"
    raise UserError(f"synthetic filter {value!r}: use none, a confidence in (0, 1) such as 0.8, or a per-class top "
                    "fraction in (0, 1) such as top0.5")


def kept_share(filter: str) -> float | None:
    """The share of each class's pool a rank filter keeps (top0.25 -> 0.25); None for none or a threshold."""
    f = parse_filter(filter)
    return float(f[len(TOP):]) if f.startswith(TOP) else None


def select_synthetic(scored: pd.DataFrame, filter: str, score_column: str = "score") -> pd.DataFrame:
    """The rows of a scored synthetic pool a filter keeps (see `parse_filter`), in pool order.

    A rank filter keeps ceil(q × n) images of each class (at least one), ranked by score with ties broken by pool
    order, so a class the real-data classifier finds hard keeps its most recognisable images instead of none.
    """
    f = parse_filter(filter)
    if f == "none":
        return scored
    if score_column not in scored:
        raise UserError(f"synthetic filter {f}: the pool has no {score_column!r} column; score it with a classifier "
                        "trained on the real images (--synth-scorer RUN)")
    if not f.startswith(TOP):
        return scored[scored[score_column] >= float(f)]
    q = float(f[len(TOP):])
    keep = []
    for _, g in scored.groupby("label", sort=False):
        k = max(1, math.ceil(q * len(g) - 1e-9))
        keep.extend(g.sort_values(score_column, ascending=False, kind="stable").index[:k])
    return scored.loc[sorted(keep)]
