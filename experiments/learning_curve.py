"""Headroom: what more real images would add, from a learning curve (error = a · n^-b) fitted on subsets.

The power law is the field's usual model of error against training-set size (Hestness et al. 2017, "Deep Learning
Scaling is Predictable, Empirically"); fitted per seed as a line in log-log space (numpy's least squares: two
parameters from two or three points need nothing more), so the seeds give the prediction its interval.
"""
from __future__ import annotations

import math

import numpy as np

from experiments.stats import mean_ci

FLOOR = 1e-4  # an error of 0 has no logarithm: a perfect subset counts as this close to perfect


def fit_power_law(n, error) -> tuple[float, float]:
    """(a, b) of error = a · n^-b by least squares on log error against log n (b > 0: more data, less error)."""
    x, y = np.log(np.asarray(n, float)), np.log(np.maximum(np.asarray(error, float), FLOOR))
    slope, intercept = np.polyfit(x, y, 1)
    return float(math.exp(intercept)), float(-slope)


def predicted_score(a: float, b: float, n: float) -> float:
    """The score (1 - error) the curve predicts at n images."""
    return 1.0 - a * n ** -b


def headroom(points: list[dict], factor: float = 2.0, fit_on: set[float] | None = None) -> dict:
    """What `factor` times the largest fitted subset would score, by seed and as a mean with its t-interval.

    `points`: {"fraction", "n" (training images), "seed", "score"} (a score in [0, 1], higher better); `fit_on`
    (fractions) leaves the others out of the fit, e.g. to predict a measured larger set from the smaller ones.
    Returns {"n", "target_n", "fitted_score", "predicted", "gain" (mean_ci dicts), "exponent", "per_seed"}.
    """
    seeds = sorted({p["seed"] for p in points})
    per_seed = []
    for s in seeds:
        mine = [p for p in points if p["seed"] == s and (fit_on is None or p["fraction"] in fit_on)]
        if len({p["n"] for p in mine}) < 2:
            continue  # a line needs two sizes
        a, b = fit_power_law([p["n"] for p in mine], [1.0 - p["score"] for p in mine])
        n = max(p["n"] for p in mine)
        now, then = predicted_score(a, b, n), predicted_score(a, b, factor * n)
        per_seed.append({"seed": s, "a": a, "b": b, "n": n, "fitted_score": now, "predicted": then,
                         "gain": then - now})
    if not per_seed:
        return {"n": None, "per_seed": [], "gain": mean_ci([]), "predicted": mean_ci([]),
                "fitted_score": mean_ci([]), "exponent": mean_ci([]), "target_n": None}
    n = float(np.mean([r["n"] for r in per_seed]))
    return {"n": n, "target_n": factor * n, "per_seed": per_seed,
            "fitted_score": mean_ci([r["fitted_score"] for r in per_seed]),
            "predicted": mean_ci([r["predicted"] for r in per_seed]),
            "gain": mean_ci([r["gain"] for r in per_seed]), "exponent": mean_ci([r["b"] for r in per_seed])}
